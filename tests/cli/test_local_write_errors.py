"""A download whose local side fails, or whose object changes under it, says so with its own status.

A write that fails (a full disk, ``/dev/full``, a closed pipe) is the program's own failure: it
stops at once, with one GET, exit 4 (LOCAL_FILE) and one line, never retried or reported as a
network error. An object replaced while it is being downloaded exits 11 (CHANGED) and keeps nothing.
"""

import contextlib
import errno
import http.server
import io
import os
import subprocess
import sys
import threading
import uuid

import pytest
import requests

from tests.helpers.servers import loopback_server
from tests.helpers.waiting import wait_until
from wcs.cli.status import ExitStatus
from wcs.cli.wcscmd import main
from wcs.commons.staging import NAME_RE
from wcs.services.client import Client

from .conftest import assert_one_error_line

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MiB = 1024 * 1024
RANGED = "download_threshold = %d\ndownload_part_size = %d\nconcurrency = 1\n" % (8 * MiB, 4 * MiB)


@pytest.fixture
def put(config, bucket, tmp_path):
    """``put(key, data)`` stores ``data`` as ``bucket/key`` (replacing what was there)."""
    def upload(key, data):
        path = tmp_path / ("src-" + uuid.uuid4().hex)
        path.write_bytes(data)
        with Client(config) as client:
            assert client.multipart_upload(str(path), bucket, key, overwrite=1).ok
        path.unlink()
    return upload


class _FailingOutput(io.RawIOBase):
    def __init__(self, code):
        super().__init__()
        self.code = code

    def writable(self):
        return True

    def write(self, data):
        raise OSError(self.code, os.strerror(self.code))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO], ids=["full", "io-error"])
def test_cat_into_an_output_that_fails_exits_4_at_once(cfgfile, bucket, emulator, put, code):
    put("k", os.urandom(3 * MiB))
    stdout = io.TextIOWrapper(io.BufferedWriter(_FailingOutput(code)))
    stderr = io.StringIO()
    emulator.reset_counters()
    status = main(["-c", cfgfile, "cat", "wcs://%s/k" % bucket], stdout=stdout, stderr=stderr)
    assert status == ExitStatus.LOCAL_FILE == 4
    assert stderr.getvalue() == "wcscmd: error: cannot write the output: %s\n" % os.strerror(code)
    assert emulator.counters.get("download") == 1  # not retried


def test_cat_into_a_closed_pipe_stops_silently_with_141(cfgfile, bucket, emulator, put):
    # The reader went away (| head): as a process killed by SIGPIPE, no error line, exit 141.
    put("k", os.urandom(3 * MiB))
    stdout = io.TextIOWrapper(io.BufferedWriter(_FailingOutput(errno.EPIPE)))
    stderr = io.StringIO()
    emulator.reset_counters()
    status = main(["-c", cfgfile, "cat", "wcs://%s/k" % bucket], stdout=stdout, stderr=stderr)
    assert status == ExitStatus.PIPE_CLOSED == 141
    assert stderr.getvalue() == ""
    assert emulator.counters.get("download") == 1  # not retried


def test_cat_to_dev_full_exits_4_with_one_line(cfgfile, bucket, emulator, put, tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    put("k", os.urandom(2 * MiB))
    emulator.reset_counters()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = ROOT
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "wcscmd"), "-c", cfgfile, "cat",
                               "wcs://%s/k" % bucket], stdout=full, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              cwd=str(tmp_path), env=env, timeout=60, text=True)
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.splitlines() == ["wcscmd: error: cannot write the output: No space left on device"]
    assert emulator.counters.get("download") == 1


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MiB tmpfs (mounting needs root; skipped elsewhere), unmounted after the test."""
    where = tmp_path / "small"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here: %s" % mounted.stderr.decode(errors="replace").strip())
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


@pytest.mark.parametrize("size, extra", [(3 * MiB, ""), (12 * MiB, RANGED)], ids=["one-stream", "ranged"])
def test_get_into_a_full_filesystem_exits_4_with_one_request(wcscmd, cfgfile, bucket, emulator, put, full_disk,
                                                             size, extra):
    put("big", os.urandom(size))
    with open(cfgfile, "a", encoding="utf-8") as fp:
        fp.write(extra)
    emulator.reset_counters()
    target = full_disk / "big.bin"
    line = assert_one_error_line(wcscmd("-c", cfgfile, "get", "wcs://%s/big" % bucket, str(target)), 4)
    assert "No space left on device" in line
    # Nothing retried: one GET, or for parallel ranges the (at most two) parts in flight when the disk filled.
    assert emulator.counters.get("download") == 1 if not extra else emulator.counters.get("download") <= 2
    assert not target.exists()


class _Forwarding(http.server.BaseHTTPRequestHandler):
    """Forwards GET and HEAD to ``server.origin``; before the second ranged GET, ``server.replace()`` runs."""

    protocol_version = "HTTP/1.1"

    def handle(self):
        with self.server.lock:
            self.server.active += 1
        try:
            with contextlib.suppress(ConnectionError):  # the client drops its connections once it gave up
                super().handle()
        finally:
            with self.server.lock:
                self.server.active -= 1

    def do_GET(self):  # name fixed by http.server
        if self.command == "GET" and self.headers.get("Range"):
            self.server.ranges += 1
            if self.server.ranges == 2:
                self.server.replace()
        headers = {name: self.headers[name] for name in ("Range", "If-Range") if self.headers.get(name)}
        answer = requests.request(self.command, self.server.origin + self.path, headers=headers, timeout=30)
        self.send_response(answer.status_code)
        for name in ("Content-Length", "Content-Range", "ETag", "Accept-Ranges", "Content-Type"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(answer.content)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("how", ["url", "wcs-uri"])
def test_an_object_replaced_mid_download_exits_11_and_keeps_nothing(wcscmd, cfgfile, bucket, emulator, put, tmp_path,
                                                                    how):
    put("obj", os.urandom(12 * MiB))
    # The same size for a URL (its ETag from the HEAD tells the change); another size for wcs://, whose
    # parts are checked against the size the stat answered.
    replacement = os.urandom(12 * MiB if how == "url" else 16 * MiB)
    with loopback_server(_Forwarding, origin=emulator.url, ranges=0, replace=lambda: put("obj", replacement),
                         lock=threading.Lock(), active=0) as proxy:
        proxy_url = "http://127.0.0.1:%d" % proxy.server_address[1]
        with open(cfgfile, "a", encoding="utf-8") as fp:
            fp.write(RANGED + "download_url = %s/{bucket}\n" % proxy_url)
        source = "%s/%s/obj" % (proxy_url, bucket) if how == "url" else "wcs://%s/obj" % bucket
        run = wcscmd("-c", cfgfile, "get", source, "out.bin")
        assert proxy.ranges >= 2  # the first part came from the first version
        # A part still being forwarded would be counted by the emulator during the next test.
        assert wait_until(lambda: proxy.active == 0, timeout=30)
    line = assert_one_error_line(run, 11)
    assert line.startswith("wcscmd: error: %s/%s/obj changed while it was downloaded (" % (proxy_url, bucket))
    assert line.endswith("; nothing was kept: run the command again to get the new version")
    assert run.json["status"] == 11 and run.json["error"] == line[len("wcscmd: error: "):]
    left = os.listdir(tmp_path)
    assert "out.bin" not in left and not [name for name in left if NAME_RE.match(name)]  # no partial file kept
