"""Issue 23 point 1, the emulator's side: persistent connections, with the server still bounded.

* One client's requests share one connection: 1,000 requests of every kind over one connection
  (``Emulator.connections_accepted`` counts accepts), ``requests.Session`` and the SDK's ``Client``
  reuse theirs, and so does a TLS client.
* An idle kept-alive connection costs no worker and no thread: 2,000 of them, and a normal client is
  still served at once; at the connection cap the one idle longest is closed; an idle one is closed
  after ``keepalive_timeout``; ``keepalive_timeout=0`` closes after every answer.
* Pipelined requests are answered in order; ``Connection: close`` and HTTP/1.0 are honoured;
  ``Expect: 100-continue`` works on a kept connection.
* Framing never desyncs: a body the app did not read is skipped when it is already buffered, otherwise
  the answer says ``Connection: close`` and the connection is closed; a request hidden in a body is
  never run.
"""

import hashlib
import http.client
import json
import shutil
import socket
import ssl
import statistics
import subprocess
import threading
import time
import warnings

import pytest
import urllib3

from tests.helpers.emulator_api import Api
from tests.helpers.raw_http import read_reply
from tests.helpers.waiting import wait_until
from wcs.commons.config import Config
from wcs.commons.util import urlsafe_base64_encode
from wcs.emulator import Emulator, Limits
from wcs.emulator.httpd import PREBUFFER
from wcs.services.client import Client

K1, K2 = b"first object", b"second, longer object"


@pytest.fixture
def emulator(tmp_path):
    with Emulator(data_dir=str(tmp_path / "data"), buckets=["b"]) as emu:
        _seed(emu)
        yield emu


def _seed(emu):
    api = Api(emu)
    api.put("b", "k1", K1)
    api.put("b", "k2", K2)
    api.session.close()


def _get(path, extra=b""):
    return b"GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path.encode(), extra)


def _connect(emu):
    sock = socket.create_connection(("127.0.0.1", emu.port), timeout=20)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _closed_by_server(sock, rfile=None, within=10.0):
    """True if the server closes the connection (EOF) within ``within`` seconds."""
    sock.settimeout(within)
    try:
        return (rfile.read(1) if rfile is not None else sock.recv(1)) == b""
    except (ConnectionResetError, socket.timeout):
        return False


# -- one connection for many requests -------------------------------------------------------------------

@pytest.mark.slow
def test_a_thousand_requests_of_every_kind_over_one_connection(emulator):
    api = Api(emulator)
    token = {"Authorization": "UpToken " + api.token("b")}
    before = emulator.connections_accepted
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=20)
    try:
        for i in range(1000):
            kind = i % 5
            if kind == 0:
                conn.request("GET", "/b/k1")
                resp = conn.getresponse()
                assert (resp.status, resp.read()) == (200, K1)
            elif kind == 1:
                conn.request("HEAD", "/b/k2")
                resp = conn.getresponse()
                assert resp.status == 200 and int(resp.getheader("Content-Length")) == len(K2)
                assert resp.read() == b""
            elif kind == 2:
                data = b"block %d" % i
                conn.request("POST", "/mkblk/%d/0" % len(data), body=data, headers=token)
                resp = conn.getresponse()
                assert resp.status == 200 and json.loads(resp.read())["checksum"] == hashlib.md5(data).hexdigest()
            elif kind == 3:  # chunked, in two chunks
                data = [b"chunked ", b"block %d" % i]
                size = sum(map(len, data))
                conn.request("POST", "/mkblk/%d/0" % size, body=iter(data), headers=token, encode_chunked=True)
                resp = conn.getresponse()
                assert json.loads(resp.read())["offset"] == size
            else:
                conn.request("GET", "/b/missing", headers={"Range": "bytes=0-1"})
                resp = conn.getresponse()
                assert resp.status == 404 and json.loads(resp.read())["code"] == 404
    finally:
        conn.close()
        api.session.close()
    assert emulator.connections_accepted - before == 1


def test_requests_session_and_the_sdk_client_reuse_one_connection(emulator, tmp_path):
    api = Api(emulator)
    token = api.token("b")
    before = emulator.connections_accepted
    for i in range(5):
        assert api.upload(api.token("b:s%d" % i), b"form %d" % i).status_code == 200
        ctx = api.session.post(emulator.url + "/mkblk/6/0", data=b"abc", headers={"Authorization": token}).json()
        ctx = api.session.post(emulator.url + "/bput/%s/3" % ctx["ctx"], data=b"def",
                               headers={"Authorization": token}).json()["ctx"]
        assert api.session.post(emulator.url + "/mkfile/6/key/" + urlsafe_base64_encode("m%d" % i), data=ctx,
                                headers={"Authorization": token}).status_code == 200
        assert api.mgr("GET", "/list?bucket=b&limit=2").status_code == 200
        assert api.session.get(emulator.url + "/b/k2", headers={"Range": "bytes=0-5"}).content == K2[:6]
        assert api.session.head(emulator.url + "/b/k1").status_code == 200
        # refused uploads, their bodies read to the end by the app: the connection stays usable
        assert api.session.post(emulator.url + "/mkblk/1048576/0", data=b"x" * 1048576,
                                headers={"Authorization": "UpToken bad"}).status_code == 401
        assert api.session.post(emulator.url + "/nowhere", data=b"small body").status_code in (404, 405)
    assert emulator.connections_accepted - before == 1
    api.session.close()

    config = str(tmp_path / "wcs.cfg")
    emulator.write_config(config)
    source = tmp_path / "small.bin"
    source.write_bytes(b"small file")
    before = emulator.connections_accepted
    client = Client(Config(config))
    for i in range(10):
        assert client.simple_upload(str(source), "b", "sdk%d" % i).code == 200
        assert client.stat("b", "sdk%d" % i).code == 200
    assert emulator.connections_accepted - before == 1


# -- idle connections ------------------------------------------------------------------------------------

def _kept_alive(emu, count):
    """``count`` connections that each had one answer and are now idle (kept alive)."""
    held = []
    for _ in range(count):
        sock = _connect(emu)
        sock.sendall(_get("/b/missing"))
        rfile = sock.makefile("rb")
        reply = read_reply(rfile)
        assert reply is not None and reply.status == 404 and "connection" not in reply.headers, reply
        held.append((sock, rfile))
    return held


def _served_at_once(emu, samples):
    """Latency of ``samples`` requests of a new client (a new connection each)."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        with _connect(emu) as sock:
            sock.sendall(_get("/b/k1", b"Connection: close\r\n"))
            with sock.makefile("rb") as rfile:
                reply = read_reply(rfile)
        times.append(time.perf_counter() - started)
        assert reply is not None and reply.body == K1
    return times


def _two_thousand_idle(tmp_path):
    with Emulator(data_dir=str(tmp_path / "data"), buckets=["b"], limits=Limits(max_connections=4096)) as emu:
        _seed(emu)
        threads = threading.active_count()
        held = _kept_alive(emu, 2000)
        try:
            assert threading.active_count() - threads < 5  # no thread per connection, idle or not
            times = _served_at_once(emu, 20)
            # the idle ones were neither closed nor forgotten: the first one still serves
            sock, rfile = held[0]
            sock.sendall(_get("/b/k2"))
            assert read_reply(rfile).body == K2
        finally:
            for sock, rfile in held:
                rfile.close()
                sock.close()
        assert emu.connections_accepted == 2000 + 20 + 1  # + the seeding session
    return times


@pytest.mark.slow
def test_two_thousand_idle_kept_alive_connections_do_not_delay_a_client(tmp_path):
    times = _two_thousand_idle(tmp_path)
    assert max(times) < 3.0  # a margin for a busy machine: the gate answers each within milliseconds


@pytest.mark.slow
def test_two_thousand_idle_kept_alive_connections_a_client_is_served_within_10_ms(tmp_path):
    times = _two_thousand_idle(tmp_path)
    assert statistics.median(times) < 0.010, times


def test_at_the_cap_the_connection_idle_longest_is_closed(tmp_path):
    with Emulator(data_dir=str(tmp_path / "data"), buckets=["b"], limits=Limits(max_connections=20)) as emu:
        _seed(emu)
        held = _kept_alive(emu, 40)
        try:
            # 20 made room for the last 20, those idle longest first. Which one has waited longest
            # depends on when its worker handed it back, a little later than its answer reached the
            # client, so neighbours may swap under load: the oldest ten go, the newest ten stay.
            closed = []
            for number, (sock, rfile) in enumerate(held):
                try:
                    sock.sendall(_get("/b/k1"))
                    reply = read_reply(rfile)
                except OSError:
                    reply = None
                if reply is None:
                    closed.append(number)
                else:
                    assert reply.body == K1, number
            assert len(closed) == 20, closed
            assert set(range(10)) <= set(closed) and not set(range(30, 40)) & set(closed), closed
        finally:
            for sock, rfile in held:
                rfile.close()
                sock.close()


def test_every_accepted_connection_has_tcp_nodelay(emulator):
    """Small answers must not wait on Nagle and delayed ACKs on a kept-alive connection."""
    held = _kept_alive(emulator, 3)
    try:
        waiting = emulator._server.gate.connections.waiting  # the server side of the connections, idle in the selector
        assert wait_until(lambda: len(waiting) >= 3, timeout=10)
        assert all(conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for conn in list(waiting))
    finally:
        for sock, rfile in held:
            rfile.close()
            sock.close()


def test_an_idle_connection_is_closed_after_the_keepalive_timeout(tmp_path):
    with Emulator(data_dir=str(tmp_path / "data"), buckets=["b"], limits=Limits(keepalive_timeout=0.3)) as emu:
        ((sock, rfile),) = _kept_alive(emu, 1)
        with sock, rfile:
            assert _closed_by_server(sock, rfile, within=10)


def test_keepalive_timeout_zero_closes_after_every_answer(tmp_path):
    with Emulator(data_dir=str(tmp_path / "data"), buckets=["b"], limits=Limits(keepalive_timeout=0)) as emu:
        _seed(emu)
        with _connect(emu) as sock, sock.makefile("rb") as rfile:
            sock.sendall(_get("/b/k1"))
            reply = read_reply(rfile)
            assert reply.body == K1 and reply.headers["connection"] == "close"
            assert _closed_by_server(sock, rfile)


@pytest.mark.parametrize("request_bytes", [_get("/b/k1", b"Connection: close\r\n"),
                                           _get("/b/k1", b"Connection: keep-alive, Close\r\n"),
                                           b"GET /b/k1 HTTP/1.0\r\n\r\n"], ids=["close", "close-token", "http-1.0"])
def test_connection_close_and_http_1_0_are_honoured(emulator, request_bytes):
    with _connect(emulator) as sock, sock.makefile("rb") as rfile:
        sock.sendall(request_bytes)
        reply = read_reply(rfile)
        assert reply.body == K1 and reply.headers["connection"] == "close"
        assert _closed_by_server(sock, rfile)


# -- pipelining and framing ------------------------------------------------------------------------------

def test_pipelined_requests_are_answered_in_order(emulator):
    auth = b"Authorization: UpToken %s\r\n" % Api(emulator).token("b").encode()
    pipeline = [
        (_get("/b/k1"), 200, K1),
        (b"POST /mkblk/5/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n%s\r\nhello" % auth, 200, b"hello"),
        (b"HEAD /b/k2 HTTP/1.1\r\nHost: x\r\n\r\n", 200, b""),
        (_get("/b/k2"), 200, K2),
        (b"POST /mkblk/3/0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n%s\r\n1\r\na\r\n2\r\nbc\r\n0\r\n\r\n"
         % auth, 200, b"abc"),
        (_get("/b/missing"), 404, None),
    ] + [(_get("/b/k%d" % (1 + i % 2)), 200, (K1, K2)[i % 2]) for i in range(100)]
    with _connect(emulator) as sock, sock.makefile("rb") as rfile:
        sock.sendall(b"".join(request for request, _, _ in pipeline) + _get("/b/k1", b"Connection: close\r\n"))
        for number, (request, status, expected) in enumerate(pipeline):
            reply = read_reply(rfile, head_only=request.startswith(b"HEAD"))
            assert reply is not None and reply.status == status, number
            if request.startswith(b"POST"):
                assert json.loads(reply.body)["checksum"] == hashlib.md5(expected).hexdigest()
            elif expected is not None:
                assert reply.body == expected, number
        assert read_reply(rfile).body == K1
        assert read_reply(rfile) is None


def test_empty_lines_between_requests_are_ignored(emulator):
    with _connect(emulator) as sock, sock.makefile("rb") as rfile:
        sock.sendall(_get("/b/k1") + b"\r\n\r\n" + _get("/b/k2") + b"\r")
        assert read_reply(rfile).body == K1 and read_reply(rfile).body == K2
        time.sleep(0.1)  # the lone CR waits for its LF
        sock.sendall(b"\n" + _get("/b/k1", b"Connection: close\r\n"))
        assert read_reply(rfile).body == K1 and read_reply(rfile) is None


SMUGGLED = _get("/b/k2")


def test_a_body_the_app_did_not_read_is_skipped_or_the_connection_closed(emulator):
    with _connect(emulator) as sock, sock.makefile("rb") as rfile:
        # small: buffered whole, skipped; the request inside it is data, never run
        sock.sendall(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(SMUGGLED), SMUGGLED)
                     + _get("/b/k1"))
        assert read_reply(rfile).status in (404, 405)
        assert read_reply(rfile).body == K1
        # larger than what is gathered before the app runs: not read, so the connection ends after the answer
        body = SMUGGLED * (2 * PREBUFFER // len(SMUGGLED))
        sock.sendall(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
                     + _get("/b/k1"))
        reply = read_reply(rfile)
        assert reply.status in (404, 405) and reply.headers["connection"] == "close"
        assert read_reply(rfile) is None


def test_expect_100_continue_on_a_kept_connection(emulator):
    auth = b"Authorization: UpToken %s\r\n" % Api(emulator).token("b").encode()
    with _connect(emulator) as sock, sock.makefile("rb") as rfile:
        for _ in range(2):
            sock.sendall(b"POST /mkblk/5/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n%s\r\n"
                         % auth)
            assert rfile.readline() == b"HTTP/1.1 100 Continue\r\n" and rfile.readline() == b"\r\n"
            sock.sendall(b"hello")
            reply = read_reply(rfile)
            assert reply.status == 200 and "connection" not in reply.headers
        # answered without the body: no 100 Continue, and the connection ends (the body may still come)
        sock.sendall(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        reply = read_reply(rfile)
        assert reply.status in (404, 405) and reply.headers["connection"] == "close"


# -- TLS ---------------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_tls_connections_are_kept_alive(tmp_path):
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    with Emulator(data_dir=str(tmp_path / "data"), buckets=["b"], tls_cert=cert, tls_key=key) as emu:
        api = Api(emu)
        api.session.verify = False
        api.session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            api.put("b", "k1", K1)
            before = emu.connections_accepted
            for _ in range(20):
                assert api.session.get(emu.url + "/b/k1").content == K1
                assert api.upload(api.token("b:t"), b"over tls").status_code in (200, 406)
        assert emu.connections_accepted - before == 0  # the session's one connection, from the put
        api.session.close()
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with context.wrap_socket(_connect(emu)) as tls, tls.makefile("rb") as rfile:
            tls.sendall(_get("/b/k1") + _get("/b/missing") + _get("/b/k1"))  # pipelined in one TLS record
            assert [read_reply(rfile).status for _ in range(3)] == [200, 404, 200]
            tls.sendall(_get("/b/k1", b"Connection: close\r\n"))
            assert read_reply(rfile).body == K1
