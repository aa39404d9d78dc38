"""The client's connections: as many kept as its threads send at once, proxies as the environment says.

A loopback forward proxy in front of the emulator counts what goes through it: ``HTTP_PROXY`` sends
requests there and ``NO_PROXY`` exempts hosts, as requests does, but the environment is read when the
client is built (not at every call): a change afterwards is seen by the next client only.
"""

import http.client
import http.server
import logging
import threading
from urllib.parse import urlsplit

import pytest

from tests.helpers.servers import loopback_server
from wcs.services.client import Client


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """Forwards absolute-form requests (``GET http://host:port/path``) to their host."""

    protocol_version = "HTTP/1.0"

    def _forward(self):
        target = urlsplit(self.path)
        with self.server.lock:
            self.server.seen.append(self.command + " " + target.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            upstream.request(self.command, target.path + ("?" + target.query if target.query else ""), body, headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            upstream.close()

    do_GET = do_POST = _forward

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy():
    with loopback_server(_ForwardProxy, seen=[], lock=threading.Lock()) as server:
        server.url = "http://127.0.0.1:%d" % server.server_address[1]
        yield server


@pytest.fixture
def clean_proxy_env(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_http_proxy_from_the_environment_carries_the_requests(config, bucket, proxy, clean_proxy_env):
    clean_proxy_env.setenv("HTTP_PROXY", proxy.url)
    with Client(config) as client:
        assert client.list_buckets().ok and client.stat(bucket, "missing").code == 404
    assert len(proxy.seen) == 2 and proxy.seen[0] == "GET /bucket/list" and proxy.seen[1].startswith("GET /stat/")


def test_no_proxy_exempts_the_host(config, proxy, clean_proxy_env):
    clean_proxy_env.setenv("http_proxy", proxy.url)
    clean_proxy_env.setenv("no_proxy", "example.com, 127.0.0.1")
    with Client(config) as client:
        assert client.list_buckets().ok
    assert proxy.seen == []


def test_the_environment_is_read_when_the_client_is_built(config, proxy, clean_proxy_env):
    with Client(config) as before:
        clean_proxy_env.setenv("HTTP_PROXY", proxy.url)
        assert before.list_buckets().ok  # built without a proxy: it keeps going straight
        assert proxy.seen == []
        with Client(config) as after:
            assert after.list_buckets().ok
        assert proxy.seen == ["GET /bucket/list"]


def test_threads_of_a_grown_pool_never_find_the_connection_pool_full(config, bucket, caplog):
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    with Client(config) as client:  # concurrency 4: a pool of 8 connections at first
        config.concurrency = 24
        pool = client.scheduler_for(client.cfg.transfer)
        assert client.http.pool_size >= pool.workers == 24
        barrier = threading.Barrier(24, timeout=20)

        def stat(i):
            barrier.wait()  # all 24 requests at once
            return client.stat(bucket, "missing-%d" % i).code

        with pool.group() as group:
            futures = [group.submit(stat, i) for i in range(24)]
        assert [f.result() for f in futures] == [404] * 24
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]


class _CookieServer(http.server.BaseHTTPRequestHandler):
    """Sets a cookie on the first request and records what each request carried."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.seen.append((self.headers.get("Cookie"), self.headers.get("User-Agent"), self.path))
        self.send_response(200)
        if len(self.server.seen) == 1:
            self.send_header("Set-Cookie", "session=abc; Path=/")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_requests_carry_the_sessions_headers_and_cookies(clean_proxy_env):
    from wcs.commons.http import USER_AGENT, HttpClient

    with loopback_server(_CookieServer, seen=[]) as server:
        url = "http://127.0.0.1:%d" % server.server_address[1]
        client = HttpClient(timeout=10)
        try:
            assert client.request("GET", url + "/a").code == 200
            assert client.request("GET", url + "/b", params={"x": "1 2"}).code == 200
        finally:
            client.close()
    assert server.seen == [(None, USER_AGENT, "/a"), ("session=abc", USER_AGENT, "/b?x=1+2")]
