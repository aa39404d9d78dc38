"""Append upload over raw HTTP (reference 5): appendable objects, positions, refusals, the etag after every
append, concurrent appenders with lost answers, and what copies, moves and restarts do to them."""

import io
import os
import random
import threading
from urllib.parse import quote

import pytest
import requests

from tests.helpers.emulator_api import Api
from wcs.commons.util import entry, etag_stream, urlsafe_base64_decode
from wcs.emulator import Emulator

MIB = 1024 * 1024


def etag(data):
    return etag_stream(io.BytesIO(data))


def append(api, bucket, name, position, data, token=None, **fields):
    """``POST /append/<position>`` of ``data`` to ``bucket``/``name`` (form ``fields`` added)."""
    files = {"token": (None, token or api.token("%s:%s" % (bucket, name)))}
    for field, value in fields.items():
        files[field] = (None, value)
    files["file"] = (name, data, "application/octet-stream")
    return api.session.post("%s/append/%d" % (api.url, position), files=files, allow_redirects=False)


def stat(api, bucket, key):
    return api.mgr("GET", "/stat/" + entry(bucket, key))


def download(api, bucket, key, **headers):
    return requests.get("%s/%s/%s" % (api.url, bucket, quote(key)), headers=headers)


def test_append_creates_and_extends_an_appendable_object(api, bucket):
    first = append(api, bucket, "log.txt", 0, b"hello ")
    assert first.status_code == 200, first.text
    assert first.headers["x-wcs-next-append-position"] == "6"
    assert first.headers["x-wcs-object-type"] == "Appendable"
    assert urlsafe_base64_decode(first.text) == b"hash=" + etag(b"hello ").encode()
    second = append(api, bucket, "log.txt", 6, b"world", mimeType="text/x-log")
    assert second.status_code == 200, second.text
    assert second.headers["x-wcs-next-append-position"] == "11"
    assert urlsafe_base64_decode(second.text) == b"hash=" + etag(b"hello world").encode()

    info = stat(api, bucket, "log.txt")
    body = info.json()
    assert body["fsize"] == 11 and body["hash"] == etag(b"hello world") and body["mimeType"] == "text/x-log"
    assert body["objectType"] == "Appendable" and body["storageClass"] == "Standard"
    assert info.headers["x-wcs-object-type"] == "Appendable"
    assert info.headers["x-wcs-next-append-position"] == "11"

    got = download(api, bucket, "log.txt")
    assert got.content == b"hello world" and got.headers["ETag"] == '"%s"' % etag(b"hello world")
    assert got.headers["x-wcs-object-type"] == "Appendable"
    assert got.headers["x-wcs-next-append-position"] == got.headers["x-next-append-position"] == "11"

    (item,) = api.mgr("GET", "/list?bucket=%s" % bucket).json()["items"]
    assert item["objectType"] == "Appendable" and item["fsize"] == "11"


def test_wrong_positions_and_normal_objects_are_refused(api, bucket):
    assert append(api, bucket, "a", 0, b"abc").status_code == 200
    for position in (0, 2, 4):
        resp = append(api, bucket, "a", position, b"zz")
        assert resp.status_code == 409, resp.text
        assert resp.json()["message"].startswith("Position Not Equal To Length")
        assert resp.headers["x-wcs-next-append-position"] == "3"
    missing = append(api, bucket, "nothing-yet", 5, b"x")
    assert missing.status_code == 409 and missing.headers["x-wcs-next-append-position"] == "0"
    assert stat(api, bucket, "nothing-yet").status_code == 404

    api.put(bucket, "normal", b"plain")
    refused = append(api, bucket, "normal", 5, b"more")
    assert refused.status_code == 409 and refused.json()["message"] == "Object Not Appendable"
    assert download(api, bucket, "normal").content == b"plain"
    assert stat(api, bucket, "normal").json()["objectType"] == "Normal"
    assert "x-wcs-object-type" not in download(api, bucket, "normal").headers

    # a normal upload with overwrite replaces the appendable object by a normal one
    api.put(bucket, "a", b"replaced")
    assert stat(api, bucket, "a").json()["objectType"] == "Normal"
    assert append(api, bucket, "a", 8, b"!").status_code == 409
    # ... and without overwrite it is refused like any existing key
    token = api.token("%s:%s" % (bucket, "log2"))
    assert append(api, bucket, "log2", 0, b"x", token=token).status_code == 200
    assert api.upload(api.token(bucket + ":log2"), b"y", filename="log2").status_code == 406


def test_token_key_size_limit_and_bad_requests(api, bucket):
    # the key comes from the form when the scope has none
    resp = append(api, bucket, "ignored", 0, b"data", token=api.token(bucket), key="from-form")
    assert resp.status_code == 200 and stat(api, bucket, "from-form").json()["fsize"] == 4
    # a key outside a bucket:key scope
    assert append(api, bucket, "x", 0, b"d", token=api.token(bucket + ":y"), key="x").status_code == 401
    # fsizeLimit bounds each append
    limited = api.token(bucket + ":lim", fsizeLimit=4)
    assert append(api, bucket, "lim", 0, b"1234", token=limited).status_code == 200
    assert append(api, bucket, "lim", 4, b"56789", token=limited).status_code == 401
    assert append(api, bucket, "lim", 4, b"5678", token=limited).status_code == 200
    assert append(api, bucket, "bad", 0, b"d", token="not-a-token").status_code == 401
    assert append(api, "no-such-bucket", "k", 0, b"d").status_code == 631
    plain = api.session.post(api.url + "/append/0", data=b"raw")
    assert plain.status_code == 400
    assert api.session.post(api.url + "/append/x", data=b"raw").status_code == 405  # not a position
    # returnBody answers like a form upload
    shaped = append(api, bucket, "rb", 0, b"zz", token=api.token(bucket + ":rb", returnBody="key=$(key)&size=$(fsize)"))
    assert urlsafe_base64_decode(shaped.text) == ("key=rb&size=2&hash=" + etag(b"zz")).encode()


def test_etag_across_4_mib_pieces(api, bucket):
    """Appends that end inside a 4 MiB piece, on its edge and across it: the etag is always that of the
    whole content (only the last piece is re-hashed, from the digests kept)."""
    rng = random.Random(7)
    content = b""
    for size in (3 * MIB, 1 * MIB, 5 * MIB + 17, 0, 3 * MIB - 17):
        piece = rng.randbytes(size) if hasattr(rng, "randbytes") else os.urandom(size)
        resp = append(api, bucket, "big", len(content), piece)
        assert resp.status_code == 200, resp.text
        content += piece
        assert urlsafe_base64_decode(resp.text) == b"hash=" + etag(content).encode()
    assert len(content) == 12 * MIB
    assert download(api, bucket, "big").content == content


def test_copy_is_normal_and_unchanged_by_later_appends_move_keeps_appendable(api, bucket):
    assert append(api, bucket, "src", 0, b"first").status_code == 200
    assert api.mgr("POST", "/copy/%s/%s" % (entry(bucket, "src"), entry(bucket, "copy"))).status_code == 200
    assert stat(api, bucket, "copy").json()["objectType"] == "Normal"
    # the copy shares the file (hard link): appending to the source must not change it
    assert append(api, bucket, "src", 5, b"-second").status_code == 200
    assert download(api, bucket, "copy").content == b"first"
    assert download(api, bucket, "src").content == b"first-second"
    assert append(api, bucket, "src", 12, b"-third").status_code == 200
    assert download(api, bucket, "src").content == b"first-second-third"
    assert api.mgr("POST", "/move/%s/%s" % (entry(bucket, "src"), entry(bucket, "moved"))).status_code == 200
    assert stat(api, bucket, "moved").json()["objectType"] == "Appendable"
    assert append(api, bucket, "moved", 18, b"!").status_code == 200
    assert download(api, bucket, "moved").content == b"first-second-third!"


def test_appendable_objects_survive_a_restart_and_lose_an_unfinished_tail(tmp_path):
    data_dir = str(tmp_path / "data")
    with Emulator(data_dir=data_dir, buckets=["b"]) as emu:
        api = Api(emu)
        assert append(api, "b", "k", 0, b"kept").status_code == 200
        path = emu.store.get("b", "k").path
    with open(path, "ab") as fp:  # what an append interrupted before its commit leaves behind
        fp.write(b"JUNK")
    with Emulator(data_dir=data_dir) as emu:
        api = Api(emu)
        assert os.path.getsize(path) == 4
        assert stat(api, "b", "k").json()["objectType"] == "Appendable"
        assert append(api, "b", "k", 4, b"+more").status_code == 200
        assert download(api, "b", "k").content == b"kept+more"
        assert stat(api, "b", "k").json()["hash"] == etag(b"kept+more")
        api.session.close()


@pytest.mark.parametrize("per_writer", [pytest.param(125, marks=pytest.mark.slow, id="1000"),
                                        pytest.param(4, id="32")])
def test_appends_from_8_threads_with_lost_answers(api, bucket, per_writer):
    """Eight writers race for the end of one object. Each appends at the position it believes is the end;
    on a 409 it takes the length from the answer's header and tries again. One answer in ten is "lost"
    (the writer ignores it and sends the same append again, which the emulator refuses as stale); the
    writer then finds out whether its piece landed by reading the object at the position it sent."""
    key = "race.log"
    token = api.token("%s:%s" % (bucket, key))
    landed = {}  # position -> piece
    lock = threading.Lock()
    errors = []

    def writer(number):
        session = requests.Session()
        rng = random.Random(number)
        position = 0
        try:
            for seq in range(per_writer):
                piece = b"<w%d:%d:%s>" % (number, seq, b"." * rng.randrange(0, 40))
                lose_answer = rng.random() < 0.1
                while True:
                    resp = session.post("%s/append/%d" % (api.url, position), allow_redirects=False, files={
                        "token": (None, token), "file": (key, piece, "application/octet-stream")})
                    if resp.status_code == 200 and not lose_answer:
                        with lock:
                            landed[position] = piece
                        position = int(resp.headers["x-wcs-next-append-position"])
                        break
                    if resp.status_code == 200:  # the answer is lost: send the same append again
                        lose_answer = False
                        sent_at = position
                        retry = session.post("%s/append/%d" % (api.url, sent_at), allow_redirects=False, files={
                            "token": (None, token), "file": (key, piece, "application/octet-stream")})
                        assert retry.status_code == 409, retry.text
                        got = session.get("%s/%s/%s" % (api.url, bucket, key), headers={
                            "Range": "bytes=%d-%d" % (sent_at, sent_at + len(piece) - 1)})
                        assert got.content == piece  # it had landed: done with this piece
                        with lock:
                            landed[sent_at] = piece
                        position = int(retry.headers["x-wcs-next-append-position"])
                        break
                    assert resp.status_code == 409, resp.text
                    position = int(resp.headers["x-wcs-next-append-position"])
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[0]
    assert len(landed) == 8 * per_writer
    expected = b"".join(landed[position] for position in sorted(landed))
    offsets = sorted(landed)
    assert offsets[0] == 0 and all(a + len(landed[a]) == b for a, b in zip(offsets, offsets[1:]))
    assert download(api, bucket, key).content == expected
    body = stat(api, bucket, key).json()
    assert body["fsize"] == len(expected) and body["hash"] == etag(expected)
