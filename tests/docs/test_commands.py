"""The docs' commands, run as written (slow): ``<!-- check: run -->`` blocks in a :class:`Sandbox` on a fresh
emulator, ``<!-- check: venv -->`` blocks in a fresh virtualenv made in a copy of the checkout."""

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.docs import pages
from tests.docs.sandbox import BUCKETS, Sandbox, without_comment

OFFICIAL = ("wcs-python-sdk", "wcs-python3-sdk", "wcscmd", "wcscmd3")
# After an install line: this package is importable, and none of the official ones (same import package
# `wcs`) was installed into the virtualenv beside it.
INSTALLED_CHECK = ("import importlib.metadata as m, sys, wcs.cli.outputs; "
                   "names = {d.metadata['Name'].lower() for d in m.distributions() "
                   "if str(d.locate_file('')).startswith(sys.prefix)}; "
                   "sys.exit(sorted(names & set(%r)) or None)" % (OFFICIAL,))
RUN_PAGES = [page for page in pages.pages() if any(block.check == "run" for block in pages.blocks(page))]


def _failed(block, line, proc):
    return "%s: %r exited %s\nstdout: %s\nstderr: %s" % (block.where, line, proc.returncode,
                                                        proc.stdout.decode(errors="replace")[-1500:],
                                                        proc.stderr.decode(errors="replace")[-1500:])


@pytest.mark.slow  # a few seconds per page: every command is a process
@pytest.mark.parametrize("page", RUN_PAGES)
def test_run_blocks_work_as_written_on_the_emulator(page, tmp_path, monkeypatch):
    from wcs.emulator import Emulator

    fsspec = pytest.importorskip("fsspec")
    with Emulator(data_dir=str(tmp_path / "emulator"), buckets=BUCKETS) as emu:
        sandbox = Sandbox(tmp_path / "sandbox", emu)
        monkeypatch.chdir(sandbox.work)
        monkeypatch.setenv("HOME", str(sandbox.home))
        fsspec.AbstractFileSystem.clear_instance_cache()  # a wcs:// filesystem of another page's emulator
        try:
            for block in pages.blocks(page):
                if block.check != "run":
                    continue
                if block.lang == "python":
                    sandbox.python(block.text, block.where)
                    continue
                for line in pages.commands(block):
                    proc = sandbox.shell(line)
                    assert proc.returncode == 0, _failed(block, line, proc)
                    assert b"Traceback" not in proc.stderr, _failed(block, line, proc)
        finally:
            sandbox.close()
            fsspec.AbstractFileSystem.clear_instance_cache()


def _copy_of_the_checkout(target):
    skip = shutil.ignore_patterns(".git", ".venv", ".tox", ".*_cache", ".benchmarks", "__pycache__", "build", "dist",
                                  "*.egg-info")
    shutil.copytree(pages.ROOT, target, ignore=skip)
    return target


@pytest.mark.slow  # 1.5-3 min: a virtualenv, six installs, the demo, four test collections, mypy
def test_venv_blocks_work_as_written_in_a_fresh_virtualenv(tmp_path):
    checkout = _copy_of_the_checkout(tmp_path / "checkout")
    venv = tmp_path / "venv"
    # The machine's packages stay visible, so the installs resolve without downloading what is there.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env["PATH"]])
    done = set()
    for page in pages.pages():
        for block in pages.blocks(page):
            if block.check != "venv":
                continue
            for line in pages.commands(block):
                # The suite itself is CI's job: here its command line must parse and collect.
                command = without_comment(line).replace("python3 -m pytest", "python3 -m pytest --collect-only -q")
                if command in done:  # the same install on two pages
                    continue
                started = time.monotonic()
                proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=checkout, env=env,
                                      stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
                print("%5.1f s  %s" % (time.monotonic() - started, command))
                assert proc.returncode == 0, _failed(block, command, proc)
                if "pip install" in command:
                    proc = subprocess.run(["python3", "-c", INSTALLED_CHECK], cwd=tmp_path, env=env,
                                          capture_output=True, timeout=60)
                    assert proc.returncode == 0, _failed(block, line, proc)
                done.add(command)
    assert len(done) >= 8
