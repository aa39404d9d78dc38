"""Restarts keep everything; concurrent uploads of one key and of many keys stay consistent."""

import json
import os
import threading
import time

import pytest
import requests

from tests.helpers.emulator_api import Api
from wcs.commons.util import entry, etag_from_block_digests, urlsafe_base64_encode
from wcs.emulator import Emulator


def test_restart_keeps_buckets_objects_jobs_and_ctx(tmp_path):
    data_dir = str(tmp_path / "data")
    with Emulator(data_dir=data_dir, buckets=["keep"]) as emu:
        api = Api(emu)
        api.put("keep", "obj.txt", b"persisted")
        emu.create_bucket("later")
        body = "fops=bucket/%s/key/%s" % (urlsafe_base64_encode("keep"), urlsafe_base64_encode("none"))
        job = api.mgr("POST", "/fmgr/delete", body.encode()).json()["persistentId"]
        api.wait_job(job)
        token = api.token("keep:resumed")
        ctx = requests.post(emu.url + "/mkblk/6/0", data=b"abc", headers={"Authorization": token}).json()["ctx"]
        stat_before = api.mgr("GET", "/stat/" + entry("keep", "obj.txt")).json()
    with Emulator(data_dir=data_dir) as emu:
        api = Api(emu)
        assert api.mgr("GET", "/stat/" + entry("keep", "obj.txt")).json() == stat_before
        assert requests.get(emu.url + "/keep/obj.txt").content == b"persisted"
        assert sorted(b["name"] for b in api.mgr("GET", "/bucket/list").json()["buckets"]) == ["keep", "later"]
        assert api.wait_job(job)["items"][0]["code"] == 3
        token = api.token("keep:resumed")
        resp = requests.post(emu.url + "/bput/%s/3" % ctx, data=b"def", headers={"Authorization": token})
        assert resp.status_code == 200
        resp = requests.post(emu.url + "/mkfile/6", data=resp.json()["ctx"], headers={"Authorization": token})
        assert resp.status_code == 200
        assert requests.get(emu.url + "/keep/resumed").content == b"abcdef"


def test_private_data_dir_is_removed_and_stop_is_idempotent():
    emu = Emulator(buckets=["x"]).start()
    data_dir = emu.data_dir
    assert requests.get(emu.url + "/x/none").status_code == 404
    emu.stop()
    emu.stop()
    assert not os.path.exists(data_dir)


def test_concurrent_uploads_of_one_key_and_many_keys(api, bucket):
    payloads = [bytes([65 + i]) * (100000 + i) for i in range(8)]
    results = []

    def same_key(data):
        results.append(api.upload(api.token(bucket + ":same", overwrite=1), data, "same").status_code)

    def own_key(i, data):
        results.append(api.upload(api.token("%s:k%d" % (bucket, i)), data, "k").status_code)

    threads = [threading.Thread(target=same_key, args=(p,)) for p in payloads]
    threads += [threading.Thread(target=own_key, args=(i, p)) for i, p in enumerate(payloads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 16
    body = requests.get("%s/%s/same" % (api.url, bucket)).content
    assert body in payloads  # one complete version, never a mix
    stat = api.mgr("GET", "/stat/" + entry(bucket, "same")).json()
    assert stat["fsize"] == len(body)
    for i, data in enumerate(payloads):
        assert requests.get("%s/%s/k%d" % (api.url, bucket, i)).content == data
    listing = api.mgr("GET", "/list?bucket=" + bucket).json()
    assert len(listing["items"]) == 9


def test_concurrent_same_key_without_overwrite_has_one_winner(api, bucket):
    codes = []

    def upload():
        codes.append(api.upload(api.token(bucket + ":once"), b"x" * 50000, "once").status_code)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] + [406] * 5


def test_upload_visible_only_when_complete(api, bucket):
    """While a slow upload is in flight the key does not exist; afterwards it does, whole."""
    token = api.token(bucket + ":slow")
    stop = threading.Event()
    stats_done = threading.Event()

    def body():
        boundary = b"--XyZ"
        yield boundary + b'\r\nContent-Disposition: form-data; name="token"\r\n\r\n' + token.encode() + b"\r\n"
        yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="slow"\r\n\r\n'
        for _ in range(5):
            yield b"a" * 1000
            time.sleep(0.1)
        stop.set()
        stats_done.wait(10)  # a stat call already in flight ends before the upload can complete
        yield b"\r\n" + boundary + b"--\r\n"

    thread = threading.Thread(target=lambda: requests.post(
        api.url + "/file/upload", data=body(), headers={"Content-Type": "multipart/form-data; boundary=XyZ"}))
    thread.start()
    seen_during = []
    while not stop.is_set():
        seen_during.append(api.mgr("GET", "/stat/" + entry(bucket, "slow")).status_code)
        stop.wait(0.05)
    stats_done.set()
    thread.join()
    assert set(seen_during) == {404}
    stat = api.mgr("GET", "/stat/" + entry(bucket, "slow")).json()
    assert stat["fsize"] == 5000
    assert json.dumps(stat) and stat["hash"] != etag_from_block_digests([])


def test_restart_in_the_middle_of_a_piece_keeps_the_etag_right(tmp_path):
    # The SHA-1 state of a partly received 4 MiB piece lives in memory; after a restart it is rebuilt
    # from the bytes on disk, so the etag mkfile computes from the kept digests is still right.
    from wcs.commons.util import BLOCK_SIZE, etag

    data_dir = str(tmp_path / "data")
    data = os.urandom(2 * BLOCK_SIZE + 5)
    chunk = 3 * 1024 * 1024  # ends inside the first piece, then inside the second
    with Emulator(data_dir=data_dir, buckets=["keep"]) as emu:
        token = Api(emu).token("keep:pieces")
        resp = requests.post(emu.url + "/mkblk/%d/0" % len(data), data=data[:chunk],
                             headers={"Authorization": token})
        resp = requests.post(emu.url + "/bput/%s/%d" % (resp.json()["ctx"], chunk), data=data[chunk:2 * chunk],
                             headers={"Authorization": token})
        ctx = resp.json()["ctx"]
    with Emulator(data_dir=data_dir) as emu:
        token = Api(emu).token("keep:pieces")
        resp = requests.post(emu.url + "/bput/%s/%d" % (ctx, 2 * chunk), data=data[2 * chunk:],
                             headers={"Authorization": token})
        assert resp.status_code == 200 and resp.json()["offset"] == len(data)
        resp = requests.post(emu.url + "/mkfile/%d" % len(data), data=resp.json()["ctx"],
                             headers={"Authorization": token})
        assert resp.status_code == 200, resp.text
        path = str(tmp_path / "expected.bin")
        with open(path, "wb") as fp:
            fp.write(data)
        assert resp.json()["hash"] == etag(path)
        assert requests.get(emu.url + "/keep/pieces").content == data


def test_restart_keeps_the_blocks_of_a_batch_file(tmp_path):
    from wcs.commons.util import BLOCK_SIZE, etag

    data_dir = str(tmp_path / "data")
    data = os.urandom(2 * BLOCK_SIZE + 1)
    ctxs = []
    with Emulator(data_dir=data_dir, buckets=["keep"]) as emu:
        token = Api(emu).token("keep:batch")
        for order in (0, 1):
            resp = requests.post(emu.url + "/mkblk/%d/%d" % (BLOCK_SIZE, order),
                                 data=data[order * BLOCK_SIZE:(order + 1) * BLOCK_SIZE],
                                 headers={"Authorization": token, "UploadBatch": "kept"})
            ctxs.append(resp.json()["ctx"])
        assert any(name.startswith("u-") for name in os.listdir(os.path.join(data_dir, "blocks")))
    with Emulator(data_dir=data_dir) as emu:
        token = Api(emu).token("keep:batch")
        resp = requests.post(emu.url + "/mkblk/1/2", data=data[2 * BLOCK_SIZE:],
                             headers={"Authorization": token, "UploadBatch": "kept"})
        ctxs.append(resp.json()["ctx"])
        resp = requests.post(emu.url + "/mkfile/%d" % len(data), data=",".join(ctxs),
                             headers={"Authorization": token})
        assert resp.status_code == 200, resp.text
        path = str(tmp_path / "expected.bin")
        with open(path, "wb") as fp:
            fp.write(data)
        assert resp.json()["hash"] == etag(path)
        assert requests.get(emu.url + "/keep/batch").content == data
        assert os.listdir(os.path.join(data_dir, "blocks")) == []


def _read_while_overwritten(api, bucket, reads_per_reader):
    """Two writers replace one key with distinct versions while two readers GET it and two /copy it;
    returns what went wrong (every read must be 200 and one whole version)."""
    versions = [bytes([65 + n]) * (1000 + 700 * n) for n in range(4)]
    api.put(bucket, "hot", versions[0])
    stop = threading.Event()
    wrong = []

    def writer(first):
        session = requests.Session()
        token = api.token(bucket + ":hot", overwrite=1)
        n = first
        while not stop.is_set():
            files = {"token": (None, token), "file": ("hot", versions[n % 4])}
            resp = session.post(api.url + "/file/upload", files=files)
            if resp.status_code != 200:
                wrong.append(("upload", resp.status_code, resp.text))
            n += 2

    def getter():
        session = requests.Session()
        for _ in range(reads_per_reader):
            resp = session.get("%s/%s/hot" % (api.url, bucket))
            if resp.status_code != 200 or resp.content not in versions:
                wrong.append(("GET", resp.status_code, resp.content[:60]))

    def copier(number):
        session = Api(api.emu)
        target = "copy-%d" % number
        for _ in range(reads_per_reader):
            resp = session.mgr("POST", "/copy/%s/%s" % (entry(bucket, "hot"), entry(bucket, target)))
            if resp.status_code != 200:
                wrong.append(("copy", resp.status_code, resp.text))
                continue
            copied = session.session.get("%s/%s/%s" % (api.url, bucket, target)).content
            if copied not in versions:
                wrong.append(("copy", "content", copied[:60]))
        session.session.close()

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    readers = [threading.Thread(target=getter) for _ in range(2)] + \
        [threading.Thread(target=copier, args=(n,)) for n in range(2)]
    for thread in writers + readers:
        thread.start()
    for thread in readers:
        thread.join()
    stop.set()
    for thread in writers:
        thread.join()
    return wrong


def test_a_key_being_overwritten_reads_as_one_version_never_404(api, bucket):
    wrong = _read_while_overwritten(api, bucket, 30)
    assert wrong == [], "%d wrong reads, e.g. %s" % (len(wrong), wrong[:3])


@pytest.mark.slow
def test_a_key_being_overwritten_reads_as_one_version_never_404_long(api, bucket):
    wrong = _read_while_overwritten(api, bucket, 2000)
    assert wrong == [], "%d wrong reads, e.g. %s" % (len(wrong), wrong[:3])
