"""Smoke run of the benchmark harness (``python -m tests.bench``): it starts, measures, prints a table.

Only the cheapest case at one pair; nothing about the numbers is asserted (benchmarks are not tests).
Skipped when the cached virtualenvs cannot be built (no network).
"""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow  # builds or checks two cached virtualenvs and starts both CLIs: 5-10 s
def test_bench_quick_help_prints_a_table():
    proc = subprocess.run([sys.executable, "-m", "tests.bench", "--quick", "--cases", "help", "--pairs", "1",
                           "--output", "-"], cwd=REPO, capture_output=True, text=True, timeout=240)
    if proc.returncode == 3:
        pytest.skip(proc.stderr.strip().splitlines()[-1])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| `wcscmd --help` cold start | wall time (ms) |" in proc.stdout
    assert "| help | official |" in proc.stdout
