"""What the client does when a server answers wrongly: a lying loopback server, real HTTP in between.

The emulator never corrupts data, so these cases use a tiny scripted server that answers uploads with a
wrong ``hash`` or chunk ``crc32``.
"""

import http.server
import json
import zlib

import pytest

from tests.helpers.files import MiB
from tests.helpers.servers import loopback_server
from wcs.commons.config import Config
from wcs.commons.errors import IntegrityError
from wcs.commons.http import Backoff, HttpClient
from wcs.commons.util import urlsafe_base64_encode
from wcs.services.client import Client


class _Liar(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server = self.server
        server.paths.append(self.path.split("/")[1])
        if self.path == "/file/upload":
            payload = urlsafe_base64_encode("hash=" + server.form_hash).encode()
        elif self.path.startswith(("/mkblk/", "/bput/")):
            crc = zlib.crc32(body) & 0xFFFFFFFF
            if server.bad_crc:
                crc ^= 1
            payload = json.dumps({"ctx": "ctx%d" % len(server.paths), "crc32": crc,
                                  "offset": len(body)}).encode()
        else:  # mkfile
            payload = json.dumps({"hash": server.form_hash, "key": "k"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Reqid", "liar-%d" % len(server.paths))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def liar():
    with loopback_server(_Liar, paths=[], form_hash="FqWRONGWRONGWRONGWRONGWRONGW", bad_crc=False) as server:
        yield server


@pytest.fixture
def liar_client(liar, tmp_path):
    url = "http://127.0.0.1:%d" % liar.server_address[1]
    cfg = Config(access_key="ak", secret_key="sk", put_url=url, mgr_url=url, concurrency=0,
                 tmp_record_folder=str(tmp_path / "records"), mkblk_retries=2)
    http = HttpClient(timeout=10, retries=0, backoff=Backoff(base=0.001, cap=0.01))
    with Client(cfg, http=http) as cli:
        yield cli
    http.close()


def test_form_upload_with_wrong_hash_is_an_integrity_error(liar_client, make_file):
    with pytest.raises(IntegrityError) as info:
        liar_client.simple_upload(make_file(1000), "b", "k")
    assert info.value.result.code == 200 and info.value.result.reqid == "liar-1"


def test_multipart_with_wrong_final_hash_is_an_integrity_error(liar_client, make_file):
    with pytest.raises(IntegrityError):
        liar_client.multipart_upload(make_file(MiB), "b", "k")


def test_callback_answers_are_not_checked(liar_client, make_file):
    liar_client.cfg.callbackUrl = "http://127.0.0.1:9/cb"
    assert liar_client.simple_upload(make_file(10), "b", "k").code == 200


def test_crc_mismatch_resends_the_block_then_gives_up(liar, liar_client, make_file):
    liar.bad_crc = True
    with pytest.raises(IntegrityError, match="crc32 mismatch.*3 times") as info:
        liar_client.multipart_upload(make_file(100), "b", "k")
    assert info.value.result.code == 200 and info.value.result.reqid == "liar-3"
    assert liar.paths == ["mkblk"] * 3  # first try + mkblk_retries, never mkfile
