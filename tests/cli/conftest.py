"""Helpers for the CLI tests: run ``main([...])`` in-process and get (status, stdout, stderr)."""

from typing import Callable

import pytest

from tests.helpers.cli_runner import Run, isolate_environment, run_wcscmd


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No real ~/.wcscfg and no WCS_* variables of the machine leak into a test."""
    isolate_environment(monkeypatch, tmp_path / "home")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def wcscmd(capsys) -> Callable[..., Run]:
    """``wcscmd(*argv)`` runs the CLI in-process and returns a :class:`Run`."""
    return lambda *argv: run_wcscmd(capsys, *argv)


@pytest.fixture
def cfgfile(emulator, tmp_path) -> str:
    """A .wcscfg pointing at the emulator, with resume records under this test's tmp_path."""
    path = tmp_path / "emulator.wcscfg"
    emulator.write_config(str(path))
    with open(path, "a", encoding="utf-8") as fp:
        fp.write("tmp_record_folder = %s\n" % (tmp_path / "records"))
    return str(path)


def assert_one_error_line(run: Run, status: int) -> str:
    """The failure contract: the status, exactly one line on stderr, no traceback."""
    assert run.status == status, (run.status, run.out, run.err)
    assert "Traceback" not in run.err
    lines = run.err_lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("wcscmd: error: ")
    return lines[0]
