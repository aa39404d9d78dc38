"""Helpers for the CLI tests: run ``main([...])`` in-process and get (status, stdout, stderr)."""

import json
from typing import Callable, List, NamedTuple

import pytest

from wcs.cli.wcscmd import main


class Run(NamedTuple):
    status: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)

    @property
    def err_lines(self) -> List[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No real ~/.wcscfg and no WCS_* variables of the machine leak into a test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("WCS_ACCESS_KEY", "WCS_SECRET_KEY", "WCS_PUT_URL", "WCS_MGR_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def wcscmd(capsys) -> Callable[..., Run]:
    """``wcscmd(*argv)`` runs the CLI in-process and returns a :class:`Run`."""

    def run(*argv: str) -> Run:
        capsys.readouterr()
        status = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Run(int(status), captured.out, captured.err)

    return run


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
