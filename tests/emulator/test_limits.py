"""The HTTP server's limits over real sockets: idle and slow connections cost no thread and time out,
a stalled body is dropped, a form cannot exhaust file descriptors, and SIGTERM stops a busy server."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from wcs.emulator import Emulator, Limits

from .test_cli import ROOT


def _connect(emu, data=b""):
    sock = socket.create_connection(("127.0.0.1", emu.port), timeout=10)
    if data:
        sock.sendall(data)
    return sock


def _closed_by_server(sock, within):
    sock.settimeout(within)
    try:
        return sock.recv(4096) == b""
    except (ConnectionResetError, socket.timeout):
        return False
    finally:
        sock.close()


def test_many_idle_connections_do_not_starve_a_client(tmp_path):
    with Emulator(data_dir=str(tmp_path), buckets=["b"], limits=Limits(max_connections=500)) as emu:
        threads_before = threading.active_count()
        held = []
        try:
            for i in range(2000):  # silent ones, and ones stuck inside their headers
                held.append(_connect(emu, b"GET /b/k HTTP/1.1\r\nHost: x\r\n" if i % 2 else b""))
            started = time.monotonic()
            resp = requests.get(emu.url + "/b/missing", timeout=10)
            assert resp.status_code == 404
            assert time.monotonic() - started < 3.0
            # no thread per connection
            assert threading.active_count() - threads_before < 10
        finally:
            for sock in held:
                sock.close()
        # after the flood the server is not wedged
        assert requests.get(emu.url + "/b/missing", timeout=10).status_code == 404


@pytest.mark.slow
def test_idle_connection_times_out(tmp_path):
    with Emulator(data_dir=str(tmp_path), limits=Limits(header_timeout=0.5)) as emu:
        assert _closed_by_server(_connect(emu), within=5)
        assert _closed_by_server(_connect(emu, b"GET / HTTP/1.1\r\n"), within=5)


def test_header_block_too_large_is_431(tmp_path):
    with Emulator(data_dir=str(tmp_path)) as emu:
        sock = _connect(emu, b"GET / HTTP/1.1\r\nX: " + b"a" * 70000)
        with sock:
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 431") and b"X-Reqid" in answer


def test_stalled_body_is_dropped_and_frees_its_worker(tmp_path, api_factory):
    with Emulator(data_dir=str(tmp_path), buckets=["b"], limits=Limits(io_timeout=0.5, workers=1)) as emu:
        api = api_factory(emu)
        token = api.token("b")
        stalled = _connect(emu, b"POST /mkblk/100/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                                b"Authorization: UpToken " + token.encode() + b"\r\n\r\n" + b"x" * 10)
        with stalled:
            started = time.monotonic()
            stalled.settimeout(10)
            answer = stalled.recv(4096)
            # werkzeug reports the timed-out read as a disconnect (400); a raw socket timeout is 408
            assert answer.split()[1] in (b"400", b"408"), answer
            assert time.monotonic() - started < 5
        # the one worker serves others again
        assert requests.get(emu.url + "/b/missing", timeout=10).status_code == 404
        assert emu.store.blocks.get("0" * 32) is None


def test_form_with_many_parts_is_refused_without_spooling(tmp_path, api_factory):
    with Emulator(data_dir=str(tmp_path), buckets=["b"]) as emu:
        api = api_factory(emu)
        spooled = []
        new_temp_path = emu.store.new_temp_path

        def counting(*args):
            spooled.append(1)
            return new_temp_path(*args)

        emu.store.new_temp_path = counting
        boundary = "xyzzy"
        parts = [("--%s\r\nContent-Disposition: form-data; name=\"f%d\"; filename=\"a\"\r\n\r\nz\r\n"
                  % (boundary, i)).encode() for i in range(20000)]
        body = b"".join(parts) + ("--%s--\r\n" % boundary).encode()
        headers = {"Content-Type": "multipart/form-data; boundary=" + boundary}
        resp = requests.post(emu.url + "/file/upload", data=body, headers=headers, timeout=30)
        assert resp.status_code == 413 and "parts" in resp.json()["message"]
        assert spooled == []
        # a bad token first: the file part is never spooled
        resp = api.upload("AK:bad:token", b"x" * 100000)
        assert resp.status_code == 401 and spooled == []
        # a good one spools exactly one file, however many file parts come
        files = [("token", (None, api.token("b:k"))), ("file", ("a", b"one")), ("file", ("b", b"two")),
                 ("other", ("c", b"three"))]
        resp = requests.post(emu.url + "/file/upload", files=files, timeout=30)
        assert resp.status_code == 200, resp.text
        assert len(spooled) == 1
        assert requests.get(emu.url + "/b/k", timeout=10).content == b"one"
        assert os.listdir(os.path.join(emu.data_dir, "tmp")) == []


def test_sigterm_stops_a_server_holding_idle_kept_alive_and_stalled_connections(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir", str(tmp_path),
                             "--bucket", "b"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    held = []
    try:
        line = proc.stdout.readline().decode()
        port = int(line.rsplit(":", 1)[1])
        for _ in range(300):
            held.append(socket.create_connection(("127.0.0.1", port)))
        for _ in range(50):  # kept alive after an answer
            held.append(socket.create_connection(("127.0.0.1", port)))
            held[-1].sendall(b"GET /b/missing HTTP/1.1\r\nHost: x\r\n\r\n")
            assert held[-1].recv(4096).startswith(b"HTTP/1.1 404")
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(b"POST /mkblk/100/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        held.append(stalled)
        time.sleep(0.3)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert time.monotonic() - started < 6
    finally:
        for sock in held:
            sock.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


@pytest.fixture
def api_factory():
    from .conftest import Api

    return Api
