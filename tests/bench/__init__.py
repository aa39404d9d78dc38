"""Benchmarks: this SDK against the official ``wcs-python3-sdk`` on one machine and one emulator.

Run from the repository root with ``python -m tests.bench`` (full sizes, every case, writes
``tests/bench/RESULTS.md``), ``python -m tests.bench --cases shaped`` (only the cases on the shaped
link) or ``--quick`` (small sizes, prints only). The benchmarks are not pass/fail tests; the only
tests here are those of the link shaper (``test_shaper.py``), whose numbers the shaped cases rely on.
See :mod:`tests.bench.harness` for what is measured and how.
"""
