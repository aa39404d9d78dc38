"""Where the docs' commands run as a reader would run them: a home whose ``~/.wcscfg`` points at a fresh
emulator holding ``my-bucket`` and ``other-bucket``, a working folder with the local files the examples
name, and ``wcscmd``, ``wcs-emulator``, ``wcs_etag_cal``, ``wcs_crc64_cal`` and ``python3`` of this
checkout first on ``PATH``.

Shell lines run one by one in ``bash -o pipefail``; a line ending in ``&`` runs in the background until
:meth:`Sandbox.close`, and the call returns once it printed its first line (the emulator's listening
line comes after its config file is written). Python blocks run in this process, in one namespace per
page, as in an interactive session. The emulator's fixed port 8930 is replaced by a free one, so that
runs on one machine do not collide.
"""

import os
import select
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

from tests.docs.pages import ROOT

BUCKETS = ("my-bucket", "other-bucket")
MiB = 1024 * 1024


def _pattern(size: int, seed: int) -> bytes:
    unit = bytes((i * 7 + seed) % 251 for i in range(251))
    return (unit * (size // len(unit) + 1))[:size]


# The local files and folders the examples name.
FILES = {
    "file.txt": b"hello from the docs\n",
    "file1": b"first file\n",
    "file2": b"second file\n",
    "photo.jpg": b"\xff\xd8\xff\xe0" + _pattern(40000, 1),
    "big.iso": _pattern(9 * MiB, 2),  # three 4 MiB blocks
    "dir/a.txt": b"a\n",
    "dir/b.txt": b"b\n",
    "site/index.html": b"<h1>site</h1>\n",
    "site/css/site.css": b"h1 { color: teal }\n",
    "site/img/logo.png": _pattern(70000, 3),
    "data/one.csv": b"day,bytes\nmon,1\n",
    "data/two/two.csv": b"day,bytes\ntue,2\n",
}
FOLDERS = ("downloads",)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def without_comment(line: str) -> str:
    """A shell line without its trailing ``# comment`` (a ``#`` inside quotes or a word is kept)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


class Sandbox:
    """One page's world; :meth:`close` stops what its lines left running."""

    def __init__(self, root: Path, emulator: Any) -> None:
        self.home = root / "home"
        self.work = root / "work"
        tools = root / "bin"
        for folder in (self.home, self.work, tools):
            folder.mkdir(parents=True)
        emulator.write_config(str(self.home / ".wcscfg"))
        with open(self.home / ".wcscfg", "a", encoding="utf-8") as fp:
            fp.write("tmp_record_folder = %s\n" % (root / "records"))  # never the machine's /tmp/multipart
        os.symlink(sys.executable, tools / "python3")
        for name, data in FILES.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for name in FOLDERS:
            (self.work / name).mkdir()
        self.env = {name: value for name, value in os.environ.items() if not name.startswith("WCS_")}
        self.env.update(HOME=str(self.home), PYTHONPATH=ROOT,
                        PATH=os.pathsep.join([str(tools), os.path.join(ROOT, "bin"), os.environ["PATH"]]))
        self.port = str(free_port())
        self.namespace: Dict[str, Any] = {"__name__": "__main__"}
        self._background: List[subprocess.Popen] = []

    def shell(self, line: str) -> subprocess.CompletedProcess:
        """Run one shell line in the working folder."""
        line = without_comment(line.replace("8930", self.port))
        if line.endswith("&") and not line.endswith("&&"):
            return self._start(line[:-1])
        return subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=self.work, env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=120)

    def _start(self, line: str) -> subprocess.CompletedProcess:
        proc = subprocess.Popen(["bash", "-c", "exec " + line], cwd=self.work, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._background.append(proc)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        first = proc.stdout.readline() if ready else b""
        return subprocess.CompletedProcess(line, 0 if first else 1, first, b"no output within 30 s")

    def python(self, code: str, filename: str) -> None:
        """Run a Python block in the page's namespace (cwd and HOME are the sandbox's: the caller sets them)."""
        exec(compile(code.replace("8930", self.port), filename, "exec"), self.namespace)

    def close(self) -> None:
        for value in self.namespace.values():  # the examples' clients are not closed by the examples
            if type(value).__name__ == "Client" and hasattr(value, "close"):
                value.close()
        for proc in self._background:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
