"""Mirror prefetch over raw HTTP (reference 6.10): per-key results from a loopback origin, origins set at
start (``--mirror``) and at run time (``wcs-emulator mirror``, ``set_mirror``), and the refusals."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List

import pytest
import requests

from tests.emulator.test_cli import start, stop
from wcs.commons.util import entry, urlsafe_base64_encode
from wcs.emulator.cli import main
from wcs.emulator.state.mirrors import list_mirrors, set_mirror

b64 = urlsafe_base64_encode


class Origin:
    """A loopback origin serving ``files`` (path -> bytes), 404 for anything else; records the paths."""

    def __init__(self, files: Dict[str, bytes]) -> None:
        self.files = files
        self.paths: List[str] = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                origin.paths.append(self.path)
                body = origin.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "image/png" if self.path.endswith(".png") else "text/plain")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origin():
    server = Origin({"/a.txt": b"alpha", "/dir/b%20c.png": b"\x89PNG-ish"})
    yield server
    server.close()


def prefetch(api, bucket, *keys):
    param = b64("%s:%s" % (bucket, "|".join(b64(key) for key in keys)))
    return api.mgr("POST", "/prefetch/" + param)


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_prefetch_pulls_each_key_and_reports_it(api, bucket, origin):
    assert prefetch(api, bucket, "a.txt").status_code == 404  # no origin yet: Bucket Not Binding Mirror
    set_mirror(api.emu.data_dir, bucket, origin.url + "/")
    api.put(bucket, "a.txt", b"old content")
    resp = prefetch(api, bucket, "a.txt", "dir/b c.png", "missing.txt")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["bucket"] == bucket
    assert body["items"] == [
        {"key": "a.txt", "mirrorAddress": origin.url + "/a.txt", "code": 200, "message": "OK"},
        {"key": "dir/b c.png", "mirrorAddress": origin.url + "/dir/b%20c.png", "code": 200, "message": "OK"},
        {"key": "missing.txt", "mirrorAddress": origin.url + "/missing.txt", "code": 404,
         "message": body["items"][2]["message"]}]
    assert "404" in body["items"][2]["message"]
    assert requests.get("%s/%s/a.txt" % (api.url, bucket)).content == b"alpha"  # overwritten
    info = api.mgr("GET", "/stat/" + entry(bucket, "dir/b c.png")).json()
    assert info["fsize"] == 8 and info["mimeType"] == "image/png"
    assert api.mgr("GET", "/stat/" + entry(bucket, "missing.txt")).status_code == 404
    # a download of a key the bucket lacks does not go to the origin
    seen = len(origin.paths)
    assert requests.get("%s/%s/only-at-origin.txt" % (api.url, bucket)).status_code == 404
    assert len(origin.paths) == seen


def test_prefetch_refusals(api, bucket, origin):
    set_mirror(api.emu.data_dir, bucket, origin.url)
    assert prefetch(api, "no-such-bucket", "a.txt").status_code == 404
    assert api.mgr("POST", "/prefetch/" + b64(bucket)).status_code == 400  # no ':'
    assert api.mgr("POST", "/prefetch/" + b64(bucket + ":")).status_code == 400  # no key
    assert api.mgr("POST", "/prefetch/" + b64(bucket + ":%%%")).status_code == 400
    assert api.mgr("POST", "/prefetch/@@@").status_code == 400
    token = api.mgr_token("/prefetch/" + b64(bucket + ":" + b64("a.txt")))
    assert api.mgr("POST", "/prefetch/" + b64(bucket + ":" + b64("b.txt")), token=token).status_code == 401
    invalid = prefetch(api, bucket, "/leading-slash").json()["items"][0]
    assert invalid["code"] == 400
    # an origin that does not answer: 599 for the item, the call itself succeeds
    set_mirror(api.emu.data_dir, bucket, "http://127.0.0.1:%d" % closed_port())
    (item,) = prefetch(api, bucket, "a.txt").json()["items"]
    assert item["code"] == 599 and "fetch" in item["message"]
    set_mirror(api.emu.data_dir, bucket, None)
    assert prefetch(api, bucket, "a.txt").json()["message"] == "Bucket Not Binding Mirror"


def test_set_mirror_checks_its_arguments(api, bucket, tmp_path):
    for bad in ("http://203.0.113.9/", "ftp://127.0.0.1/", "http://127.0.0.1/x?y=1", "not a url"):
        with pytest.raises(ValueError):
            set_mirror(api.emu.data_dir, bucket, bad)
    with pytest.raises(LookupError):
        set_mirror(api.emu.data_dir, "no-such-bucket", "http://127.0.0.1:1")
    with pytest.raises(LookupError):
        set_mirror(str(tmp_path / "empty"), bucket, "http://127.0.0.1:1")


def test_mirror_command_and_option(tmp_path, origin, capsys):
    data = str(tmp_path / "data")
    proc, line = start(["--port", "0", "--data-dir", data, "--mirror", "m=" + origin.url])
    try:
        url = line.split()[-1]
        assert list_mirrors(data) == {"m": origin.url}
        assert main(["mirror", "--data-dir", data, "--list"]) == 0
        assert capsys.readouterr().out == "m %s\n" % origin.url
        # at run time: unbind, then bind again, while the emulator serves the data dir
        assert main(["mirror", "m", "--clear", "--data-dir", data]) == 0
        assert main(["mirror", "--data-dir", data, "--list"]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "unbound bucket m"
        assert main(["mirror", "m", origin.url, "--data-dir", data]) == 0
        assert main(["mirror", "nope", origin.url, "--data-dir", data]) == 1
        assert main(["mirror", "--list", "--data-dir", str(tmp_path / "nothing")]) == 1
    finally:
        assert stop(proc) == 0
    for argv in (["mirror"], ["mirror", "m"], ["mirror", "m", "http://203.0.113.9", "--data-dir", data],
                 ["mirror", "m", "http://127.0.0.1:1", "--clear"], ["--mirror", "m"],
                 ["--mirror", "m=http://example.com"], ["--restore-delay", "-1"], ["--restore-day-seconds", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2, argv
    assert url.startswith("http://127.0.0.1:")
