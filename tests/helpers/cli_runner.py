"""Running ``wcscmd`` in-process for tests: an isolated environment and a (status, out, err) result."""

import json
from typing import List, NamedTuple

from wcs.cli.wcscmd import main

WCS_VARIABLES = ("WCS_ACCESS_KEY", "WCS_SECRET_KEY", "WCS_PUT_URL", "WCS_MGR_URL")


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


def run_tool(capsys, tool_main, *argv) -> Run:
    """``tool_main([...])`` with captured output (anything captured before is dropped)."""
    capsys.readouterr()
    status = tool_main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Run(int(status), captured.out, captured.err)


def run_wcscmd(capsys, *argv) -> Run:
    """``wcscmd`` in-process."""
    return run_tool(capsys, main, *argv)


def isolate_environment(monkeypatch, home) -> None:
    """No real ~/.wcscfg and no WCS_* variables of the machine leak into a test."""
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    for name in WCS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
