"""HTTP/1.1 at the byte level, for tests of the emulator's own server: an emulator in a child process
(a crash shows as an exit status instead of taking pytest down) and a reader of answers off a socket."""

import contextlib
import os
import signal
import subprocess
import sys
from typing import IO, Dict, Iterator, List, NamedTuple, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Reply(NamedTuple):
    status: int
    headers: Dict[str, str]
    """Lower-case names; repeated fields joined with ", "."""
    body: bytes


@contextlib.contextmanager
def emulator_process(data_dir: str, *args: str) -> Iterator[Tuple[subprocess.Popen, int]]:
    """``python -m wcs.emulator --port 0`` on ``data_dir`` with bucket ``b``: yields ``(process, port)``."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir", data_dir,
                             "--bucket", "b"] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert "listening on" in line, line
        yield proc, int(line.rsplit(":", 1)[1])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def read_reply(rfile: IO[bytes], head_only: bool = False) -> Optional[Reply]:
    """One answer off a connection's buffered reader (``sock.makefile("rb")``); None if the connection
    ended before a status line. The body is read by its ``Content-Length``, its chunks, or to the end."""
    line = rfile.readline()
    while line == b"100 Continue\r\n" or line.startswith(b"HTTP/1.1 100 "):
        while rfile.readline() not in (b"\r\n", b""):
            pass
        line = rfile.readline()
    if not line:
        return None
    status = int(line.split()[1])
    fields: List[Tuple[str, str]] = []
    while True:
        line = rfile.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        fields.append((name.strip().lower(), value.strip()))
    headers: Dict[str, str] = {}
    for name, value in fields:
        headers[name] = headers[name] + ", " + value if name in headers else value
    if head_only or status in (204, 304) or status < 200:
        return Reply(status, headers, b"")
    if "content-length" in headers:
        return Reply(status, headers, _exactly(rfile, int(headers["content-length"])))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(rfile.readline().split(b";")[0], 16)
            if not size:
                while rfile.readline() not in (b"\r\n", b""):
                    pass
                return Reply(status, headers, b"".join(parts))
            parts.append(_exactly(rfile, size))
            rfile.readline()
    return Reply(status, headers, rfile.read())


def _exactly(rfile: IO[bytes], count: int) -> bytes:
    data = rfile.read(count)
    if len(data) != count:
        raise EOFError("answer body cut after %d of %d bytes" % (len(data), count))
    return data
