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


# -- etag from the piece digests kept while the chunks arrived --------------------------------------

def _mkfile_hash(api, token, ctxs, size):
    resp = _post(api, "/mkfile/%d" % size, ",".join(ctxs), token)
    assert resp.status_code == 200, resp.text
    return resp.json()["hash"]


def test_etag_when_chunks_straddle_pieces_and_a_chunk_is_sent_again(api, bucket):
    # 3 MiB chunks cross the 4 MiB piece boundaries; the second chunk is sent twice, first with other
    # bytes (its answer "lost"): the digest of the piece it touched must follow the replacement.
    data = os.urandom(2 * BLOCK_SIZE)
    token = api.token(bucket + ":straddle")
    chunk = 3 * 1024 * 1024
    first = _post(api, "/mkblk/%d/0" % len(data), data[:chunk], token).json()
    junk = os.urandom(chunk)
    assert _post(api, "/bput/%s/%d" % (first["ctx"], chunk), junk, token).status_code == 200
    second = _post(api, "/bput/%s/%d" % (first["ctx"], chunk), data[chunk:2 * chunk], token).json()
    last = _post(api, "/bput/%s/%d" % (second["ctx"], 2 * chunk), data[2 * chunk:], token).json()
    assert last["offset"] == len(data)
    assert _mkfile_hash(api, token, [last["ctx"]], len(data)) == etag_stream(io.BytesIO(data))
    assert requests.get("%s/%s/straddle" % (api.url, bucket)).content == data


def test_etag_when_a_block_before_the_last_is_not_whole_pieces(api, bucket):
    # Blocks of 5 MiB (not a multiple of 4 MiB: the official service refuses such uploads from its
    # SDKs, the emulator still stores them): the etag pieces straddle blocks, mkfile re-hashes.
    data = os.urandom(5 * 1024 * 1024 * 2 + 7)
    size = 5 * 1024 * 1024
    token = api.token(bucket + ":odd")
    ctxs = [_upload_block(api, token, data[i:i + size], n, 1024 * 1024)
            for n, i in enumerate(range(0, len(data), size))]
    assert _mkfile_hash(api, token, ctxs, len(data)) == etag_stream(io.BytesIO(data))


def test_etag_of_a_block_without_stored_digests_is_computed_from_its_bytes(api, bucket):
    # A block row written by an older emulator has no digests: they are rebuilt from the block file.
    data = os.urandom(BLOCK_SIZE + 3 * 1024 * 1024)
    token = api.token(bucket + ":legacy")
    chunk = 3 * 1024 * 1024
    first = _post(api, "/mkblk/%d/0" % len(data), data[:chunk], token).json()
    second = _post(api, "/bput/%s/%d" % (first["ctx"], chunk), data[chunk:2 * chunk], token).json()
    block_id = second["ctx"].split("-")[0]
    store = api.emu.store
    with store._lock, store._db:
        store._db.execute("UPDATE blocks SET digests='' WHERE id=?", (block_id,))
    last = _post(api, "/bput/%s/%d" % (second["ctx"], 2 * chunk), data[2 * chunk:], token).json()
    assert _mkfile_hash(api, token, [last["ctx"]], len(data)) == etag_stream(io.BytesIO(data))


# -- blocks written in place in their upload's batch file -------------------------------------------

def _batch_files(api):
    return sorted(name for name in os.listdir(api.emu.store.blocks_dir) if name.startswith("u-"))


def _block(api, token, data, order, batch, block_size=None):
    resp = _post(api, "/mkblk/%d/%d" % (block_size or len(data), order), data, token, UploadBatch=batch)
    assert resp.status_code == 200, resp.text
    return resp.json()["ctx"]


def test_blocks_in_place_out_of_order_become_the_object_without_a_copy(api, bucket):
    data = os.urandom(3 * BLOCK_SIZE + 99)
    token = api.token(bucket + ":inplace")
    batch = "in-place-1"
    before = set(_batch_files(api))
    # the short last block first, then the others in reverse order
    ctxs = {3: _block(api, token, data[3 * BLOCK_SIZE:], 3, batch)}
    for order in (2, 1, 0):
        ctxs[order] = _block(api, token, data[order * BLOCK_SIZE:(order + 1) * BLOCK_SIZE], order, batch)
    (batch_file,) = set(_batch_files(api)) - before
    path = os.path.join(api.emu.store.blocks_dir, batch_file)
    ino = os.stat(path).st_ino
    assert requests.get("%s/%s/inplace" % (api.url, bucket)).status_code == 404  # nothing visible yet
    resp = _post(api, "/mkfile/%d" % len(data), ",".join(ctxs[i] for i in range(4)), token)
    assert resp.status_code == 200 and resp.json()["hash"] == etag_stream(io.BytesIO(data))
    info = api.emu.store.get(bucket, "inplace")
    assert os.stat(info.path).st_ino == ino  # the batch file became the object
    assert not os.path.exists(path)
    assert requests.get("%s/%s/inplace" % (api.url, bucket)).content == data


def test_a_block_sent_again_gets_its_own_file_and_the_object_is_copied(api, bucket):
    data = os.urandom(2 * BLOCK_SIZE)
    token = api.token(bucket + ":again")
    batch = "in-place-2"
    stale = _block(api, token, os.urandom(BLOCK_SIZE), 0, batch)  # its answer "lost": sent again
    first = _block(api, token, data[:BLOCK_SIZE], 0, batch)
    second = _block(api, token, data[BLOCK_SIZE:], 1, batch)
    resp = _post(api, "/mkfile/%d" % len(data), first + "," + second, token)
    assert resp.status_code == 200 and resp.json()["hash"] == etag_stream(io.BytesIO(data))
    assert requests.get("%s/%s/again" % (api.url, bucket)).content == data
    # the stale block was not part of the object and is still intact in the batch file (merged under its
    # own token's scope: a ctx is bound to it, see test_ctx_is_bound_to_its_bucket_key_and_batch)
    other = api.token(bucket + ":again", overwrite=1)
    resp = _post(api, "/mkfile/%d" % BLOCK_SIZE, stale, other)
    assert resp.status_code == 200
    stale_data = requests.get("%s/%s/again" % (api.url, bucket)).content
    assert len(stale_data) == BLOCK_SIZE and stale_data != data[:BLOCK_SIZE]
    assert resp.json()["hash"] == etag_stream(io.BytesIO(stale_data))


def test_two_uploads_of_one_key_with_their_own_batches(api, bucket):
    token = api.token(bucket + ":same", overwrite=1)
    a, b = os.urandom(2 * BLOCK_SIZE), os.urandom(2 * BLOCK_SIZE)
    ctx_a = [_block(api, token, a[i * BLOCK_SIZE:(i + 1) * BLOCK_SIZE], i, "batch-a") for i in range(2)]
    ctx_b = [_block(api, token, b[i * BLOCK_SIZE:(i + 1) * BLOCK_SIZE], i, "batch-b") for i in range(2)]
    assert _post(api, "/mkfile/%d" % len(b), ",".join(ctx_b), token).status_code == 200
    assert requests.get("%s/%s/same" % (api.url, bucket)).content == b
    assert _post(api, "/mkfile/%d" % len(a), ",".join(ctx_a), token).status_code == 200
    assert requests.get("%s/%s/same" % (api.url, bucket)).content == a
    # merged blocks cannot be merged again
    assert _post(api, "/mkfile/%d" % len(a), ",".join(ctx_a), token).status_code == 701


def test_mkfile_of_part_of_a_batch_copies_and_keeps_the_rest(api, bucket):
    data = os.urandom(3 * BLOCK_SIZE)
    token = api.token(bucket)
    batch = "in-place-3"
    ctxs = [_block(api, token, data[i * BLOCK_SIZE:(i + 1) * BLOCK_SIZE], i, batch) for i in range(3)]
    resp = _post(api, "/mkfile/%d" % (2 * BLOCK_SIZE), ",".join(ctxs[:2]), token, Key=urlsafe_base64_encode("p"))
    assert resp.status_code == 200 and resp.json()["hash"] == etag_stream(io.BytesIO(data[:2 * BLOCK_SIZE]))
    assert requests.get("%s/%s/p" % (api.url, bucket)).content == data[:2 * BLOCK_SIZE]
    resp = _post(api, "/mkfile/%d" % BLOCK_SIZE, ctxs[2], token, Key=urlsafe_base64_encode("q"))
    assert resp.status_code == 200
    assert requests.get("%s/%s/q" % (api.url, bucket)).content == data[2 * BLOCK_SIZE:]
