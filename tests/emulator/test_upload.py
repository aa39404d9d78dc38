"""Form upload (``/file/upload``) over HTTP: bodies, return modes, key resolution and every refusal."""

import io
import json
import os
import socket
import time
from urllib.parse import parse_qs, quote, urlsplit

import requests

from wcs.commons.auth import upload_token_from_encoded
from wcs.commons.util import entry, etag_from_block_digests, etag_stream, urlsafe_base64_decode, urlsafe_base64_encode


def _stat(api, bucket, key):
    return api.mgr("GET", "/stat/" + entry(bucket, key))


def test_default_body_is_base64_of_hash(api):
    resp = api.upload(api.token("b1:hello.txt", overwrite=1), b"hello", "hello.txt")
    assert resp.status_code == 200
    assert resp.text == "aGFzaD1GcXIweGgzY3hlaWkycjdlRHp0SUxObXVxVU5O"
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert resp.headers["X-Reqid"]
    stat = _stat(api, "b1", "hello.txt").json()
    assert stat["hash"] == "Fqr0xh3cxeii2r7eDztILNmuqUNN"
    assert stat["fsize"] == 5 and stat["mimeType"] == "text/plain"
    assert abs(stat["putTime"] - time.time() * 1000) < 60000


def test_empty_file_has_empty_etag(api):
    api.put("b1", "empty", b"")
    assert _stat(api, "b1", "empty").json()["hash"] == etag_from_block_digests([])


def test_return_body_with_magic_and_custom_variables(api):
    token = api.token("b1:rb.txt", overwrite=1,
                      returnBody="bucket=$(bucket)&key=$(key)&fsize=$(fsize)&mime=$(mimeType)&who=$(x:who)&"
                                 "fname=$(fname)&nope=$(unknown)")
    resp = api.upload(token, b"abc", "local.txt", **{"x:who": "alice"})
    assert resp.status_code == 200
    pairs = urlsafe_base64_decode(resp.text).decode()
    assert pairs.startswith("bucket=b1&key=rb.txt&fsize=3&mime=text/plain&who=alice&fname=local.txt&nope=&hash=")
    assert pairs.endswith("hash=" + _stat(api, "b1", "rb.txt").json()["hash"])


def test_return_url_redirects_with_303(api):
    token = api.token("b1:ru.txt", overwrite=1, returnUrl="http://example.invalid/done",
                      returnBody="key=$(key)")
    resp = api.upload(token, b"abc")
    assert resp.status_code == 303
    location = urlsplit(resp.headers["Location"])
    assert location.netloc == "example.invalid"
    query = parse_qs(location.query)
    assert query["key"] == ["ru.txt"] and query["hash"][0].startswith("F")
    assert resp.headers["X-Reqid"]


def test_return_url_failure_redirects_with_code(api):
    api.put("b1", "ru-exists.txt")
    token = api.token("b1:ru-exists.txt", returnUrl="http://example.invalid/done")
    resp = api.upload(token, b"abc")
    assert resp.status_code == 303
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["code"] == ["406"]


def test_key_resolution(api, bucket):
    # scope without key: form key, else saveKey, else the (percent-decoded) filename
    token = api.token(bucket, saveKey="saved/$(x:n).txt")
    assert api.upload(token, b"1", "fn.bin", key="from-form").status_code == 200
    assert api.upload(token, b"2", "fn.bin", **{"x:n": "7"}).status_code == 200
    assert api.upload(api.token(bucket), b"3", "dir/na%C3%AFve.bin").status_code == 200
    listing = api.mgr("GET", "/list?bucket=" + bucket).json()
    assert sorted(item["key"] for item in listing["items"]) == ["dir/naïve.bin", "from-form", "saved/7.txt"]


def test_fields_in_any_order_and_unknown_fields(api, bucket):
    token = api.token(bucket)
    files = [("file", ("x.bin", b"data", "application/octet-stream")), ("desc", (None, "java sends this")),
             ("key", (None, "ordered")), ("token", (None, token)), ("mimeType", (None, "image/png"))]
    resp = requests.post(api.url + "/file/upload", files=files, headers={"Expect": "100-continue"})
    assert resp.status_code == 200, resp.text
    assert _stat(api, bucket, "ordered").json()["mimeType"] == "image/png"


def test_overwrite_is_honoured(api, bucket):
    assert api.upload(api.token(bucket + ":k"), b"one").status_code == 200
    resp = api.upload(api.token(bucket + ":k"), b"two")
    assert resp.status_code == 406 and resp.json()["message"] == "File Already Exist"
    assert resp.reason == "Not Acceptable"
    assert api.upload(api.token(bucket + ":k", overwrite="1"), b"two").status_code == 200
    assert requests.get(api.url + "/%s/k" % bucket).content == b"two"


def test_fsize_limit(api, bucket):
    resp = api.upload(api.token(bucket + ":big", fsizeLimit=3), b"four")
    assert resp.status_code == 401
    assert api.upload(api.token(bucket + ":big", fsizeLimit=4), b"four").status_code == 200


def _tokens(api):
    now = int(time.time() * 1000)
    good = api.token("b1:t")
    ak, sign, encoded = good.split(":")
    tampered = urlsafe_base64_encode(json.dumps({"scope": "b2:t", "deadline": now + 3600000}))
    return {
        "expired": api.token("b1:t", deadline=now - 1000),
        "wrong ak": "someone:" + sign + ":" + encoded,
        "wrong sk": upload_token_from_encoded(api.emu.access_key, "not-the-secret", encoded),
        "tampered policy": "%s:%s:%s" % (ak, sign, tampered),
        "malformed": "garbage",
        "no deadline": upload_token_from_encoded(api.emu.access_key, api.emu.secret_key,
                                                 urlsafe_base64_encode('{"scope": "b1:t"}')),
        "empty": "",
    }


def test_token_failures_are_401(api):
    for name, token in _tokens(api).items():
        resp = api.upload(token, b"x")
        assert resp.status_code == 401, name
        body = resp.json()
        assert body["code"] == 401 and body["message"] and body["error"], name
        assert resp.headers["X-Reqid"]


def test_deadline_as_string_and_float_accepted(api):
    now = int(time.time() * 1000) + 3600000
    assert api.upload(api.token("b1:ds", deadline=str(now), overwrite=1), b"x").status_code == 200
    assert api.upload(api.token("b1:ds", deadline=float(now), overwrite=1), b"x").status_code == 200


def test_scope_mismatch_is_401(api):
    resp = api.upload(api.token("b1:scoped"), b"x", key="other")
    assert resp.status_code == 401


def test_missing_bucket_is_631(api):
    resp = api.upload(api.token("nosuchbucket:k"), b"x")
    assert resp.status_code == 631
    assert resp.reason == "Bucket Not Exist"
    assert resp.json()["code"] == 631


def test_malformed_requests_are_400(api):
    token = api.token("b1")
    assert requests.post(api.url + "/file/upload", data=b"x", headers={"Content-Type": "text/plain"}
                         ).status_code == 400
    resp = requests.post(api.url + "/file/upload", files={"token": (None, token)})
    assert resp.status_code == 400
    assert api.upload(token, b"x", "bad/../key").status_code == 400
    assert api.upload(token, b"x", "/leading").status_code == 400


def test_retention_deadline_field(api, bucket):
    api.put(bucket, "gone", b"x")
    assert api.upload(api.token(bucket + ":soon"), b"x", deadline="0").status_code == 200
    assert _stat(api, bucket, "soon").status_code == 404
    assert api.upload(api.token(bucket + ":later"), b"x", deadline="3").status_code == 200
    assert _stat(api, bucket, "later").json()["expirationDate"].endswith("Z")
    assert api.upload(api.token(bucket + ":bad"), b"x", deadline="abc").status_code == 400


def test_non_standard_status_line_has_reason(api):
    """Raw socket check: '631 Bucket Not Exist' goes out with its phrase."""
    host, port = api.url.split("//")[1].split(":")
    body = b"--B\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n" + api.token("nob:k").encode() + \
        b"\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"k\"\r\n\r\nxx\r\n--B--\r\n"
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /file/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        first = sock.makefile("rb").readline()
    assert first.startswith(b"HTTP/1.1 631 Bucket Not Exist")


def test_keys_with_control_characters_are_refused(api, bucket):
    for key in ("a\nb", "a\rb", "x\x00", "x\x7f", "tab\tkey"):
        resp = api.upload(api.token(bucket), b"data", key=key)
        assert resp.status_code == 400 and "control characters" in resp.json()["message"], key
        resp = requests.post(api.url + "/mkblk/4/0", data=b"data",
                             headers={"Authorization": api.token(bucket)})
        ctx = resp.json()["ctx"]
        resp = requests.post(api.url + "/mkfile/4", data=ctx, headers={
            "Authorization": api.token(bucket), "Key": urlsafe_base64_encode(key)})
        assert resp.status_code == 400, key
    api.put(bucket, "plain")
    path = "/copy/%s/%s" % (entry(bucket, "plain"), entry(bucket, "new\nline"))
    assert api.mgr("POST", path).status_code == 400


def _official_style_form(token, key, data):
    """The body the official SDK sends: ``token`` then ``file`` (filename = quoted key, text/plain)."""
    from requests_toolbelt import MultipartEncoder

    return MultipartEncoder({"token": token, "file": (quote(key), io.BytesIO(data), "text/plain")},
                            boundary="2b7c4f0e7a1d4c4e9c1f3a5b6d7e8f90")


def test_forms_whose_reads_end_inside_the_closing_delimiter_store_the_bytes_sent(api, bucket):
    # The emulator reads bodies 64 KiB at a time: at 64 KiB x k + 3 bytes the last read but one ended
    # between the two closing dashes, and 65,110 bytes were stored as 65,111.
    cases = []
    for k in (1, 2, 3):
        for tail in (2, 3, 4):
            cases.append((k, tail))
    for number, (k, tail) in enumerate(cases):
        key = "split-%d.bin" % number
        token = api.token("%s:%s" % (bucket, key))
        overhead = _official_style_form(token, key, b"").len
        if (k, tail) == (1, 3):  # the size first seen: a longer key makes the file 65,110 bytes
            key = "x" * (65536 + 3 - 65110 - overhead) + key
            token = api.token("%s:%s" % (bucket, key))
            overhead = _official_style_form(token, key, b"").len
        size = 65536 * k + tail - overhead
        data = bytes((i * 7 + number) % 251 for i in range(size))
        form = _official_style_form(token, key, data)
        assert form.len == 65536 * k + tail
        resp = requests.post(api.url + "/file/upload", data=form, headers={"Content-Type": form.content_type})
        assert resp.status_code == 200, resp.text
        if (k, tail) == (1, 3):
            assert size == 65110
        stat = _stat(api, bucket, key).json()
        assert (stat["fsize"], stat["hash"]) == (size, etag_stream(io.BytesIO(data))), (k, tail)
        assert requests.get("%s/%s/%s" % (api.url, bucket, quote(key))).content == data


class _FileBeforeToken:
    """A form with a file part of ``size`` bytes before the token, made as it is sent; it notes how much
    the emulator holds in its spool folder as the body goes out."""

    def __init__(self, size, token, spool_dir):
        from tests.emulator.test_form_reads import LazyForm

        self.boundary = "0fa1b2c3d4e5"
        self._form = LazyForm(size, token, self.boundary)
        self._spool_dir = spool_dir
        self._next_look = 0
        self.most_spooled = 0

    def __len__(self):
        return len(self._form)

    def read(self, size=-1):
        if self._form.consumed >= self._next_look:
            self._next_look += 256 * 1024
            spooled = 0
            for name in os.listdir(self._spool_dir):
                try:
                    spooled += os.path.getsize(os.path.join(self._spool_dir, name))
                except OSError:
                    pass
            self.most_spooled = max(self.most_spooled, spooled)
        return self._form.read(size)


def test_an_unauthenticated_file_before_the_token_is_refused_at_the_spool_cap(api, bucket):
    spool_dir = os.path.join(api.emu.data_dir, "tmp")
    headers = {"Content-Type": "multipart/form-data; boundary=0fa1b2c3d4e5"}
    # The vendor's browser SDK sends forms of up to 4 MiB file first: they go through.
    small = _FileBeforeToken(5 * 1024 * 1024, api.token(bucket + ":small"), spool_dir)
    resp = requests.post(api.url + "/file/upload", data=small, headers=headers)
    assert resp.status_code == 200, resp.text
    assert _stat(api, bucket, "small").json()["fsize"] == 5 * 1024 * 1024
    # 64 MiB before a forged token: refused once 8 MiB are spooled, and the spool is gone.
    big = _FileBeforeToken(64 * 1024 * 1024, "AK:forged:token", spool_dir)
    resp = requests.post(api.url + "/file/upload", data=big, headers=headers)
    assert resp.status_code == 413 and "before a valid token" in resp.json()["message"]
    assert big.most_spooled <= 8 * 1024 * 1024
    assert os.listdir(spool_dir) == []
