"""Fixtures of the reliability tests (issue 7): one emulator per module, so fault rules, counters and
``mkblk_log`` are never shared with another module; an isolated CLI environment; test files.

``emulator`` overrides the session-wide one of ``tests/conftest.py`` for this folder, so the shared
``bucket``, ``config`` and ``client`` fixtures point at the module's own emulator.
"""

import os
import uuid
from typing import Callable, List

import pytest

from tests.helpers.cli_runner import Run, isolate_environment, run_wcscmd
from wcs.emulator import Emulator


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with Emulator(data_dir=str(tmp_path_factory.mktemp("reliability-emulator"))) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _clean_faults(request):
    """No fault rule outlives the test that set it."""
    yield
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").set_faults(None)


@pytest.fixture
def fresh_bucket(emulator):
    """``fresh_bucket()`` -> the name of a new empty bucket."""

    def make() -> str:
        name = "r-" + uuid.uuid4().hex[:16]
        emulator.create_bucket(name)
        return name

    return make


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    """An isolated HOME, no WCS_* variables, and a fresh empty working directory (returned)."""
    isolate_environment(monkeypatch, tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def wcscmd(cli_env, capsys) -> Callable[..., Run]:
    """``wcscmd(*argv)``: run the CLI in-process (``main``), returning status, stdout and stderr."""
    return lambda *argv: run_wcscmd(capsys, *argv)


@pytest.fixture
def cfgfile(emulator, tmp_path) -> Callable[..., str]:
    """``cfgfile(**extra)`` -> a .wcscfg (mode 0600) for the emulator plus ``extra`` lines; resume
    records under this test's tmp_path (outside the working directory)."""
    counter = [0]

    def make(**extra) -> str:
        counter[0] += 1
        path = tmp_path / ("emulator-%d.wcscfg" % counter[0])
        emulator.write_config(str(path))
        extra.setdefault("tmp_record_folder", str(tmp_path / "records"))
        with open(str(path), "a", encoding="utf-8") as fp:
            for key, value in extra.items():
                fp.write("%s = %s\n" % (key, value))
        return str(path)

    return make


def tree(folder) -> List[str]:
    """Every path under ``folder``, relative and sorted (to compare before/after a command)."""
    found = []
    for root, dirs, files in os.walk(str(folder)):
        for name in dirs + files:
            found.append(os.path.relpath(os.path.join(root, name), str(folder)))
    return sorted(found)
