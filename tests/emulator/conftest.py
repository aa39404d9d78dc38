"""Fixtures for the emulator's own tests: a started emulator (``emu``), a raw HTTP helper (``api``) and a
loopback receiver for callbacks and notifications. Everything goes over real HTTP with ``requests``."""

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

import pytest

from tests.helpers.emulator_api import Api
from tests.helpers.official_sdk import VenvUnavailable, official_python
from tests.helpers.official_wcscmd import emulator_runner
from tests.helpers.waiting import wait_until
from wcs.emulator import Emulator


class Receiver:
    """A loopback HTTP server that records POSTs and answers with a configurable status and body."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.status = 200
        self.reply = b'{"ok": true}'
        self.event = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                receiver.event.set()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def do_GET(self) -> None:
                body = b"payload-from-receiver"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        # A short poll interval: shutdown() waits up to one interval, at the end of every test using this.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def wait(self, count: int = 1, timeout: float = 10.0) -> List[Dict[str, Any]]:
        wait_until(lambda: len(self.requests) >= count, timeout, interval=0.02)
        assert len(self.requests) >= count, "expected %d requests, got %d" % (count, len(self.requests))
        return self.requests

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    """A started emulator with buckets ``b1`` and ``b2``, shared by the tests of one module."""
    with Emulator(data_dir=str(tmp_path_factory.mktemp("emu")), buckets=["b1", "b2"]) as emulator:
        yield emulator


@pytest.fixture
def api(emu):
    emu.set_faults(None)
    helper = Api(emu)
    yield helper
    helper.session.close()


@pytest.fixture
def bucket(emu):
    """A fresh empty bucket for one test."""
    name = "t" + uuid.uuid4().hex[:12]
    emu.create_bucket(name)
    return name


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


# The official wcscmd 5.0.36 in its own cached virtualenv, run against ``emu`` (test_official_wcscmd*.py).
@pytest.fixture(scope="module")
def python():
    try:
        return official_python()
    except VenvUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def wcscmd(python, emu, tmp_path):
    return emulator_runner(python, emu, tmp_path)
