"""Run the official ``wcscmd`` 5.0.36 (the console script of ``wcs-python3-sdk``, in the cached venv of
:mod:`tests.helpers.official_sdk`) as a subprocess, and read what it says.

The official tool reports everything as log lines on stderr, ``<date> <time> - LEVEL - <text>``, where the
answer of a call is the repr of its ``(code, body, headers)`` tuple; its exit status is 0 whatever happened.
:class:`OfficialRun` picks the lines apart; values are read with regular expressions, never evaluated.
"""

import os
import pathlib
import re
import subprocess
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

import requests

from tests.helpers.official_sdk import clean_env, official_script
from wcs.commons.util import BLOCK_SIZE, entry

MiB = 1024 * 1024

_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (DEBUG|INFO|WARNING|ERROR) - (.*)$")


class OfficialRun(NamedTuple):
    status: int
    out: str
    err: str

    @property
    def lines(self) -> List[Tuple[str, str]]:
        """``(level, text)`` of every log line on stderr."""
        return [(m.group(1), m.group(2)) for m in map(_LINE.match, self.err.splitlines()) if m]

    @property
    def errors(self) -> List[str]:
        return [text for level, text in self.lines if level == "ERROR"]

    @property
    def answer(self) -> str:
        """The last ``(code, body, headers)`` line the tool logged."""
        answers = [text for level, text in self.lines if level == "DEBUG" and re.match(r"^\(-?\d+, ", text)]
        assert answers, "no answer logged: %s" % self.err[-2000:]
        return answers[-1]

    @property
    def code(self) -> int:
        return int(re.match(r"^\((-?\d+), ", self.answer).group(1))

    def value(self, name: str) -> str:
        """The quoted value of ``'name': '...'`` in the answer."""
        found = re.search(r"'%s': '([^']*)'" % re.escape(name), self.answer)
        assert found, "no %r in %s" % (name, self.answer)
        return found.group(1)

    def said(self, pattern: str) -> re.Match:
        """The first log text matching ``pattern`` (a regular expression)."""
        for _level, text in self.lines:
            found = re.search(pattern, text)
            if found:
                return found
        raise AssertionError("nothing logged matches %r:\n%s" % (pattern, self.err[-3000:]))


def run_official_wcscmd(python: str, args: List[str], cwd: str, home: str, stdin: Optional[str] = None,
                        timeout: float = 120) -> OfficialRun:
    """``wcscmd ARGS`` of the official package, from ``cwd``, with ``HOME=home`` and no PYTHONPATH.

    Its script starts with ``#!/usr/bin/python`` and has no execute bit: it is run with the venv's python.
    """
    env = clean_env()
    env["HOME"] = home
    os.makedirs(home, exist_ok=True)
    proc = subprocess.run([python, official_script("wcscmd")] + list(args), cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout)
    return OfficialRun(proc.returncode, proc.stdout, proc.stderr)


def emulator_runner(python: str, emu: Any, tmp_path: pathlib.Path) -> Callable[..., OfficialRun]:
    """``run(*args, stdin=None, config=None)``: the official tool with ``-c`` a config for ``emu`` (blocks of
    4 MiB in 1 MiB chunks, 2 at a time), run from ``run.cwd`` (``tmp_path/cwd``); ``run.config`` is that file."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    config = tmp_path / "official.wcscfg"
    emu.write_config(str(config))
    with open(config, "a", encoding="utf-8") as fp:
        fp.write("block_size = %d\nbput_size = %d\nconcurrency = 2\ntmp_record_folder = %s/\n"
                 % (BLOCK_SIZE, MiB, tmp_path / "records"))

    def run(*args: str, stdin: Optional[str] = None, config: str = str(config)) -> OfficialRun:
        return run_official_wcscmd(python, ["-c", config] + list(args), str(cwd), str(tmp_path / "home"), stdin)

    run.cwd = cwd  # type: ignore[attr-defined]
    run.config = str(config)  # type: ignore[attr-defined]
    return run


def stat(api: Any, bucket: str, key: str) -> Tuple[int, Any]:
    """``(status, JSON body)`` of a raw ``/stat`` of ``bucket:key``."""
    resp = api.mgr("GET", "/stat/" + entry(bucket, key))
    return resp.status_code, resp.json()


def stored(api: Any, bucket: str, key: str) -> bytes:
    """The bytes the emulator serves for ``bucket/key`` (which must exist)."""
    resp = requests.get("%s/%s/%s" % (api.url, bucket, key))
    assert resp.status_code == 200, (key, resp.status_code)
    return resp.content
