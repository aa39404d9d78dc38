"""Smoke run of the benchmark harness (``python -m tests.bench``): it starts, measures, prints a table.

Only the cheapest loopback case, and two shaped-link cases at tiny sizes, at one pair; nothing about the
numbers is asserted (benchmarks are not tests).
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


@pytest.mark.slow
def test_bench_quick_shaped_cases_print_their_table():
    proc = subprocess.run([sys.executable, "-m", "tests.bench", "--quick", "--cases", "shaped_put_tree,shaped_listings",
                           "--pairs", "1", "--tree-files", "20", "--list-objects", "1500", "--output", "-"],
                          cwd=REPO, capture_output=True, text=True, timeout=240)
    if proc.returncode == 3:
        pytest.skip(proc.stderr.strip().splitlines()[-1])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Link: RTT 40 ms, 4 MB/s per connection, 40 MB/s total" in proc.stdout
    assert "| upload 20 files of 4-64 KiB" in proc.stdout
    assert "| listall of 1500 objects in 100 folders |" in proc.stdout
    assert "| listall of 1500 objects with varied names in one folder |" in proc.stdout
    assert "| shaped_put_tree | official | 1 |" in proc.stdout
    assert "| shaped_put_tree | ours-loop | 1 |" in proc.stdout
    assert "| client CPU per small upload (ms) |" in proc.stdout
