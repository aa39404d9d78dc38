"""Fixtures for the emulator's own tests: a started emulator (``emu``), a raw HTTP helper (``api``) and a
loopback receiver for callbacks and notifications. Everything goes over real HTTP with ``requests``."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional

import pytest
import requests

from wcs.commons.auth import Auth, encode_sign, manager_signing_string, upload_token_from_encoded
from wcs.commons.util import urlsafe_base64_encode
from wcs.emulator import Emulator


class Api:
    """Signs and sends raw WCS requests to one emulator."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.auth = Auth(emu.access_key, emu.secret_key)
        self.session = requests.Session()

    @property
    def url(self) -> str:
        return self.emu.url

    def token(self, scope: str, **policy: Any) -> str:
        policy.setdefault("deadline", int(time.time() * 1000) + 3600 * 1000)
        policy["scope"] = scope
        return upload_token_from_encoded(self.emu.access_key, self.emu.secret_key,
                                         urlsafe_base64_encode(json.dumps(policy)))

    def upload(self, token: str, data: bytes = b"hello", filename: str = "f.bin", **fields: str
               ) -> requests.Response:
        files: Dict[str, Any] = {"token": (None, token)}
        for name, value in fields.items():
            files[name] = (None, value)
        files["file"] = (filename, data, "application/octet-stream")
        return self.session.post(self.url + "/file/upload", files=files, allow_redirects=False)

    def put(self, bucket: str, key: str, data: bytes = b"hello", **policy: Any) -> requests.Response:
        policy.setdefault("overwrite", 1)
        resp = self.upload(self.token("%s:%s" % (bucket, key), **policy), data, filename=key)
        assert resp.status_code == 200, resp.text
        return resp

    def mgr_token(self, path: str, body: bytes = b"") -> str:
        raw_path, _, query = path.partition("?")
        return "%s:%s" % (self.emu.access_key, encode_sign(self.emu.secret_key,
                                                           manager_signing_string(raw_path, query, body)))

    def mgr(self, method: str, path: str, body: bytes = b"", token: Optional[str] = None,
            headers: Optional[Dict[str, str]] = None) -> requests.Response:
        all_headers = {"Authorization": token if token is not None else self.mgr_token(path, body)}
        all_headers.update(headers or {})
        return self.session.request(method, self.url + path, data=body or None, headers=all_headers)

    def wait_job(self, persistent_id: str, path: str = "/fmgr/status", timeout: float = 15.0) -> Dict[str, Any]:
        deadline = time.time() + timeout
        while True:
            resp = self.session.get(self.url + path, params={"persistentId": persistent_id})
            assert resp.status_code == 200, resp.text
            status = resp.json()
            if status["code"] not in (0, 1, 4):
                return status
            assert time.time() < deadline, "job %s still running: %s" % (persistent_id, status)
            time.sleep(0.05)


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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, count: int = 1, timeout: float = 10.0) -> List[Dict[str, Any]]:
        deadline = time.time() + timeout
        while len(self.requests) < count and time.time() < deadline:
            time.sleep(0.02)
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
