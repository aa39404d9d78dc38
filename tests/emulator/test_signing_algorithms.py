"""HMAC-SM3 tokens (the Java SDK's ``encryption-type: SM3``) beside HMAC-SHA1, verified per the request's header.

Raw HTTP with tokens signed here by :func:`wcs.commons.auth.encode_sign` (pinned by the unit vectors), on
every signed endpoint: form upload, mkblk, bput, mkfile and management calls.
"""

import io
import json
import time

import pytest
import requests

from wcs.commons.auth import encode_sign, manager_signing_string, upload_token_from_encoded
from wcs.commons.util import entry, etag_stream, urlsafe_base64_encode

SM3 = {"encryption-type": "SM3"}


def _token(api, scope, algorithm, **policy):
    policy.update(scope=scope, deadline=int(time.time() * 1000) + 3600 * 1000)
    return upload_token_from_encoded(api.emu.access_key, api.emu.secret_key,
                                     urlsafe_base64_encode(json.dumps(policy)), algorithm)


def _mgr_token(api, path, body, algorithm):
    raw_path, _, query = path.partition("?")
    sign = encode_sign(api.emu.secret_key, manager_signing_string(raw_path, query, body), algorithm)
    return "%s:%s" % (api.emu.access_key, sign)


def _form(api, token, data, headers):
    files = {"token": (None, token), "file": ("f.bin", data, "application/octet-stream")}
    return requests.post(api.url + "/file/upload", files=files, headers=headers)


def _stat(api, bucket, key, algorithm, headers):
    path = "/stat/" + entry(bucket, key)
    return api.mgr("GET", path, token=_mgr_token(api, path, b"", algorithm), headers=headers)


def test_form_upload_signed_with_sm3(api, bucket):
    resp = _form(api, _token(api, bucket + ":sm3.txt", "SM3"), b"signed with sm3", SM3)
    assert resp.status_code == 200, resp.text
    stat = _stat(api, bucket, "sm3.txt", "SM3", SM3)
    assert stat.status_code == 200, stat.text
    assert stat.json()["fsize"] == len(b"signed with sm3")


@pytest.mark.parametrize("algorithm,headers", [
    ("SHA-1", SM3),  # SM3 announced, SHA-1 signed
    ("SM3", {}),  # SM3 signed, nothing announced (the service reads no header as SHA-1)
    ("SM3", {"encryption-type": "SHA-1"}),
])
def test_form_upload_with_the_wrong_algorithm_is_token_invalid(api, bucket, algorithm, headers):
    resp = _form(api, _token(api, bucket + ":x", algorithm), b"x", headers)
    assert resp.status_code == 401 and resp.json()["message"] == "Token Invalid"
    assert _stat(api, bucket, "x", "SHA-1", {}).status_code == 404


@pytest.mark.parametrize("value", ["SHA-1", "sha-1", "SHA1"])
def test_sha1_named_in_the_header_is_sha1(api, bucket, value):
    # The Java SDK sends "encryption-type: SHA-1" on every request of its default mode.
    headers = {"encryption-type": value}
    assert _form(api, _token(api, bucket + ":j", "SHA-1"), b"j", headers).status_code == 200
    assert _stat(api, bucket, "j", "SHA-1", headers).status_code == 200


def test_another_algorithm_in_the_header_is_refused(api, bucket):
    resp = _form(api, _token(api, bucket + ":m", "SHA-1"), b"m", {"encryption-type": "MD5"})
    assert resp.status_code == 401 and "MD5" in resp.json()["message"]
    stat = _stat(api, bucket, "m", "SHA-1", {"encryption-type": "MD5"})
    assert stat.status_code == 401 and stat.json()["message"].startswith("Token Invalid")


def _post(api, path, data, token, headers):
    return requests.post(api.url + path, data=data, headers=dict(headers, Authorization=token, UploadBatch="b-1"))


def test_multipart_steps_signed_with_sm3(api, bucket):
    data = bytes(range(256)) * 40  # 10240 bytes: one block, mkblk + two bputs
    token = _token(api, bucket + ":multi.bin", "SM3")
    resp = _post(api, "/mkblk/%d/0" % len(data), data[:4096], token, SM3)
    assert resp.status_code == 200, resp.text
    ctx, offset = resp.json()["ctx"], resp.json()["offset"]
    while offset < len(data):
        resp = _post(api, "/bput/%s/%d" % (ctx, offset), data[offset:offset + 4096], token, SM3)
        assert resp.status_code == 200, resp.text
        ctx, offset = resp.json()["ctx"], resp.json()["offset"]
    sha1_token = _token(api, bucket + ":multi.bin", "SHA-1")
    for step, body in (("/bput/%s/%d" % (ctx, offset), b"more"), ("/mkfile/%d" % len(data), ctx)):
        wrong = _post(api, step, body, sha1_token, SM3)
        assert wrong.status_code == 401 and wrong.json()["message"] == "Token Invalid", step
    wrong = _post(api, "/mkblk/4/0", b"abcd", sha1_token, SM3)
    assert wrong.status_code == 401
    resp = _post(api, "/mkfile/%d" % len(data), ctx, "UpToken " + token, SM3)
    assert resp.status_code == 200, resp.text
    assert resp.json()["hash"] == etag_stream(io.BytesIO(data))


def test_management_body_signed_with_sm3(api, bucket):
    api.put(bucket, "a.txt")
    body = ("bucket=%s&key=%s&deadline=3" % (urlsafe_base64_encode(bucket), urlsafe_base64_encode("a.txt"))).encode()
    right = api.mgr("POST", "/setdeadline", body, token=_mgr_token(api, "/setdeadline", body, "SM3"), headers=SM3)
    assert right.status_code == 200, right.text
    wrong = api.mgr("POST", "/setdeadline", body, token=_mgr_token(api, "/setdeadline", body, "SHA-1"), headers=SM3)
    assert wrong.status_code == 401 and wrong.json()["message"] == "Token Invalid"
    path = "/list?bucket=%s&limit=10" % bucket
    listed = api.mgr("GET", path, token=_mgr_token(api, path, b"", "SM3"), headers=SM3)
    assert listed.status_code == 200 and [i["key"] for i in listed.json()["items"]] == ["a.txt"]


def test_unsigned_status_calls_ignore_the_header(api):
    resp = requests.get(api.url + "/fmgr/status", params={"persistentId": "nope"}, headers=SM3)
    assert resp.status_code == 404
