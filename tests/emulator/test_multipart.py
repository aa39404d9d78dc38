"""Multipart upload (``/mkblk``, ``/bput``, ``/mkfile``) over HTTP, including every 701/412/4xx path."""

import hashlib
import io
import os
import zlib

import requests

from wcs.commons.util import BLOCK_SIZE, entry, etag_stream, urlsafe_base64_encode


def _post(api, path, data, token, **headers):
    headers["Authorization"] = token
    return requests.post(api.url + path, data=data, headers=headers)


def _upload_block(api, token, data, order, chunk, batch="batch-1"):
    resp = _post(api, "/mkblk/%d/%d" % (len(data), order), data[:chunk], token, UploadBatch=batch)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["checksum"] == hashlib.md5(data[:chunk]).hexdigest()
    assert body["crc32"] == zlib.crc32(data[:chunk]) & 0xFFFFFFFF
    assert body["offset"] == min(chunk, len(data))
    for ch in "/?#%":
        assert ch not in body["ctx"]
    offset = body["offset"]
    ctx = body["ctx"]
    while offset < len(data):
        piece = data[offset:offset + chunk]
        resp = _post(api, "/bput/%s/%d" % (ctx, offset), piece, token, UploadBatch=batch)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["checksum"] == hashlib.md5(piece).hexdigest()
        assert body["crc32"] == zlib.crc32(piece) & 0xFFFFFFFF
        assert body["offset"] == offset + len(piece)
        offset, ctx = body["offset"], body["ctx"]
    return ctx


def test_multi_block_file_assembles_with_the_right_etag(api, bucket):
    data = os.urandom(2 * BLOCK_SIZE + 12345)
    token = api.token(bucket + ":multi.bin", returnBody="k=$(key)&v=$(x:v)&size=$(fsize)")
    api.emu.reset_counters()
    ctxs = [_upload_block(api, token, data[i:i + BLOCK_SIZE], n, 1024 * 1024)
            for n, i in enumerate(range(0, len(data), BLOCK_SIZE))]
    resp = _post(api, "/mkfile/%d/x:v/%s" % (len(data), urlsafe_base64_encode("ü")), ",".join(ctxs),
                 "UpToken " + token, UploadBatch="batch-1", MimeType="video/mp4")
    assert resp.status_code == 200, resp.text
    expected = etag_stream(io.BytesIO(data))
    assert resp.json() == {"hash": expected, "key": "multi.bin", "k": "multi.bin", "v": "ü",
                           "size": str(len(data))}
    assert sorted(api.emu.mkblk_log) == [("batch-1", 0, BLOCK_SIZE), ("batch-1", 1, BLOCK_SIZE),
                                         ("batch-1", 2, 12345)]
    assert api.emu.counters["mkblk"] == 3 and api.emu.counters["mkfile"] == 1
    stat = api.mgr("GET", "/stat/" + entry(bucket, "multi.bin")).json()
    assert stat["hash"] == expected and stat["fsize"] == len(data) and stat["mimeType"] == "video/mp4"
    assert requests.get("%s/%s/multi.bin" % (api.url, bucket)).content == data
    # the blocks were consumed: the same ctx list cannot be merged twice
    again = _post(api, "/mkfile/%d" % len(data), ",".join(ctxs), api.token(bucket + ":again"))
    assert again.status_code == 701


def test_key_from_header_or_path(api, bucket):
    token = api.token(bucket)
    ctx = _upload_block(api, token, b"hello", 0, 5)
    resp = _post(api, "/mkfile/5", ctx, token, Key=urlsafe_base64_encode("from-header"))
    assert resp.json()["key"] == "from-header"
    ctx = _upload_block(api, token, b"hello", 0, 5)
    resp = _post(api, "/mkfile/5/key/%s/" % urlsafe_base64_encode("from-path"), ctx, token)
    assert resp.status_code == 200 and resp.json()["key"] == "from-path"


def test_bput_retry_with_the_previous_ctx_replaces_the_chunk(api, bucket):
    token = api.token(bucket + ":retry")
    first = _post(api, "/mkblk/6/0", b"abc", token).json()
    assert _post(api, "/bput/%s/3" % first["ctx"], b"XYZ", token).status_code == 200
    # the answer was "lost": the client sends the chunk again with the ctx it had
    again = _post(api, "/bput/%s/3" % first["ctx"], b"def", token).json()
    resp = _post(api, "/mkfile/6", again["ctx"], token)
    assert resp.status_code == 200
    assert requests.get("%s/%s/retry" % (api.url, bucket)).content == b"abcdef"


def test_ctx_and_offset_errors_are_701(api, bucket):
    token = api.token(bucket + ":e")
    ctx = _post(api, "/mkblk/10/0", b"12345", token).json()["ctx"]
    forged = ctx[:-1] + ("0" if ctx[-1] != "0" else "1")
    assert _post(api, "/bput/%s/5" % forged, b"x", token).status_code == 701
    assert _post(api, "/bput/not-a-ctx/5", b"x", token).status_code == 701
    resp = _post(api, "/bput/%s/4" % ctx, b"x", token)
    assert resp.status_code == 701 and resp.reason == "Invalid Ctx"
    assert _post(api, "/bput/%s/5" % ctx, b"123456", token).status_code == 701  # past the block end
    assert _post(api, "/mkfile/10", forged, token).status_code == 701
    # the block is still intact after the refused chunk
    assert _post(api, "/bput/%s/5" % ctx, b"67890", token).status_code == 200


def test_mkfile_inconsistent_with_size_is_412(api, bucket):
    token = api.token(bucket + ":i")
    partial = _post(api, "/mkblk/10/0", b"12345", token).json()["ctx"]
    assert _post(api, "/mkfile/10", partial, token).status_code == 412
    full = _upload_block(api, token, b"abcde", 0, 5)
    resp = _post(api, "/mkfile/6", full, token)
    assert resp.status_code == 412 and resp.json()["code"] == 412


def test_mkblk_errors(api, bucket):
    token = api.token(bucket + ":m")
    assert _post(api, "/mkblk/3/0", b"12345", token).status_code == 400  # chunk larger than the block
    assert _post(api, "/mkblk/5/0", b"12345", "").status_code == 401
    assert _post(api, "/mkblk/5/0", b"12345", token + "x").status_code == 401
    assert _post(api, "/mkblk/5/0", b"12345", api.token("nosuch:m")).status_code == 631


def test_mkfile_errors(api, bucket):
    token = api.token(bucket)
    ctx = _upload_block(api, token, b"hello", 0, 5)
    assert _post(api, "/mkfile/5", ctx, token).status_code == 400  # no key anywhere
    scoped = api.token(bucket + ":scoped")
    assert _post(api, "/mkfile/5", ctx, scoped, Key=urlsafe_base64_encode("other")).status_code == 401
    limited = api.token(bucket + ":lim", fsizeLimit=4)
    assert _post(api, "/mkfile/5", ctx, limited).status_code == 401
    api.put(bucket, "exists")
    assert _post(api, "/mkfile/5", ctx, api.token(bucket + ":exists")).status_code == 406
    ok = _post(api, "/mkfile/5", ctx, api.token(bucket + ":exists", overwrite=1), Deadline="2")
    assert ok.status_code == 200
    stat = api.mgr("GET", "/stat/" + entry(bucket, "exists")).json()
    assert stat["expirationDate"]


def test_empty_file(api, bucket):
    token = api.token(bucket + ":empty")
    resp = _post(api, "/mkfile/0", b"", token)
    assert resp.status_code == 200
    assert resp.json()["hash"] == "Fto5o-5ea0sNMlW_75VgGJCv2AcJ"
