"""HttpClient over real loopback HTTP: retries, rewound bodies, -1 on no response, one pool, one UA."""

import http.server
import io
import socket

import pytest

from tests.helpers.servers import loopback_server
from wcs.commons.http import Backoff, HttpClient


class _Script(http.server.BaseHTTPRequestHandler):
    """Answers each request with the next status of ``server.statuses`` and records what it got."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.seen.append((self.path, body, self.headers.get("User-Agent"), self.client_address[1]))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        payload = b'{"code": %d, "message": "scripted"}' % status
        self.send_response(status, "Scripted")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Reqid", "req-%d" % len(self.server.seen))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST

    def log_message(self, *args):
        pass


@pytest.fixture
def scripted():
    with loopback_server(_Script, statuses=[], seen=[]) as server:
        yield server


def fast_client(**kw):
    return HttpClient(timeout=5, backoff=Backoff(base=0.001, cap=0.01), **kw)


def url(server, path="/x"):
    return "http://127.0.0.1:%d%s" % (server.server_address[1], path)


@pytest.mark.parametrize("status", [408, 429, 500, 503, 599])
def test_retries_transient_statuses_then_succeeds(scripted, status):
    scripted.statuses[:] = [status, status]
    res = fast_client(retries=3).request("POST", url(scripted), data=b"payload")
    assert res.code == 200 and res.reqid == "req-3"
    assert [body for _, body, _, _ in scripted.seen] == [b"payload"] * 3


@pytest.mark.parametrize("status", [400, 401, 404, 406, 579, 631, 701])
def test_permanent_statuses_are_not_retried(scripted, status):
    scripted.statuses[:] = [status]
    res = fast_client(retries=3).request("POST", url(scripted))
    assert res.code == status and len(scripted.seen) == 1
    assert res.body == {"code": status, "message": "scripted"}


def test_gives_up_after_retries_and_returns_last_status(scripted):
    scripted.statuses[:] = [500] * 10
    res = fast_client(retries=2).request("GET", url(scripted))
    assert res.code == 500 and len(scripted.seen) == 3


def test_body_factory_rewinds_streaming_body_on_every_attempt(scripted):
    scripted.statuses[:] = [503]
    calls = []

    def body():
        calls.append(1)
        return io.BytesIO(b"streamed-bytes"), {"Content-Length": "14"}

    res = fast_client(retries=1).request("POST", url(scripted), body=body)
    assert res.ok and len(calls) == 2
    assert [b for _, b, _, _ in scripted.seen] == [b"streamed-bytes"] * 2


def test_no_listener_gives_minus_one_after_retries():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    res = fast_client(retries=2).request("GET", "http://127.0.0.1:%d/" % port)
    assert res.code == -1 and res.reqid is None and "ConnectionError" in res.message


def test_one_user_agent_and_connections_are_reused(scripted):
    client = fast_client()
    for _ in range(5):
        assert client.request("GET", url(scripted)).ok
    agents = {ua for _, _, ua, _ in scripted.seen}
    ports = {port for _, _, _, port in scripted.seen}
    assert len(agents) == 1 and agents.pop().startswith("wcs-python-sdk/")
    assert len(ports) == 1, "keep-alive: every call should reuse the one connection"
    client.close()
