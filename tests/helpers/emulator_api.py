"""Raw access to one emulator: ``Api`` signs and sends WCS requests with ``requests`` (no SDK in between),
``batch_log`` reads which blocks of an upload the emulator received."""

import json
import time
from typing import Any, Dict, List, Optional

import requests

from tests.helpers.waiting import wait_until
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
        last: List[Dict[str, Any]] = []

        def finished() -> bool:
            resp = self.session.get(self.url + path, params={"persistentId": persistent_id})
            assert resp.status_code == 200, resp.text
            last.append(resp.json())
            return last[-1]["code"] not in (0, 1, 4)

        assert wait_until(finished, timeout, interval=0.05), "job %s still running: %s" % (persistent_id, last[-1])
        return last[-1]


def batch_log(emulator, upload_id):
    """``(block_order, block_size)`` of the completed mkblk calls of one upload, in arrival order."""
    return [(order, size) for batch, order, size in emulator.mkblk_log if batch == upload_id]
