"""Benchmarks: this SDK against the official ``wcs-python3-sdk`` on one machine and one emulator.

Run from the repository root with ``python -m tests.bench`` (full sizes, writes ``tests/bench/RESULTS.md``)
or ``python -m tests.bench --quick`` (small sizes, prints only). Not pass/fail tests: nothing here is
collected by pytest. See :mod:`tests.bench.harness` for what is measured and how.
"""
