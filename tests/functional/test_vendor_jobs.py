"""The fmgr jobs the official SDK leaves to its caller, through the Client: bulk retention over a prefix, a
ZIP of objects and folders, an m3u8 with its segments, each followed to its end by ``wait_job``."""

import io
import zipfile

import pytest

from wcs.commons.errors import InvalidArgument


def put(client, bucket, key, data=b"data"):
    client.upload_fileobj(io.BytesIO(data), bucket, key, size=len(data)).raise_for_status()


def job(client, result):
    assert result.code == 200, result
    status = client.wait_job(result.data["persistentId"], timeout=30)
    assert status.finished, status
    return status


def test_setdeadline_over_a_prefix(client, bucket):
    for key in ("logs/a", "logs/sub/b", "logs2", "other"):
        put(client, bucket, key)
    status = job(client, client.fmgr_setdeadline(bucket, "logs", 30))
    assert status.succeeded and status.items[0].raw["count"] == 2
    dated = {item.key: item.expiration for item in client.list_objects(bucket)}
    assert dated["logs/a"] and dated["logs/sub/b"] and not dated["logs2"] and not dated["other"]
    whole = job(client, client.fmgr_setdeadline(bucket, "", -1))  # the whole bucket, kept forever
    assert whole.items[0].raw["count"] == 4
    assert not any(item.expiration for item in client.list_objects(bucket))
    deleted = job(client, client.fmgr_setdeadline(bucket, "logs/sub/", 0))
    assert deleted.succeeded and client.stat(bucket, "logs/sub/b").code == 404
    with pytest.raises(InvalidArgument, match="every object"):
        client.fmgr_setdeadline(bucket, "", 0)
    with pytest.raises(InvalidArgument):
        client.fmgr_setdeadline(bucket, "logs", -2)


def test_compress_objects_and_folders(client, bucket):
    put(client, bucket, "a.txt", b"alpha")
    put(client, bucket, "dir/b.txt", b"beta")
    put(client, bucket, "dir/c/d.txt", b"delta")
    put(client, bucket, "list.txt", b"a.txt\n")
    status = job(client, client.compress_objects(bucket, ["dir/"], bucket, "out/all.zip", key_list="list.txt"))
    assert status.succeeded
    out = io.BytesIO()
    client.download_fileobj(bucket, "out/all.zip", out).raise_for_status()
    with zipfile.ZipFile(out) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == {
            "a.txt": b"alpha", "dir/b.txt": b"beta", "dir/c/d.txt": b"delta"}
    exists = job(client, client.compress_objects(bucket, ["a.txt"], bucket, "out/all.zip"))
    assert not exists.succeeded and "Exist" in exists.failed[0].reason  # force=0 keeps it
    assert job(client, client.compress_objects(bucket, ["a.txt"], bucket, "out/all.zip", force=1)).succeeded
    missing = job(client, client.compress_objects(bucket, ["nope.txt"], bucket, "out/x.zip"))
    assert missing.failed and "File Not Found" in missing.failed[0].reason
    for bad in (([], None, "x.zip"), ([""], None, "x.zip"), (["a.txt"], None, "")):
        with pytest.raises(InvalidArgument):
            client.compress_objects(bucket, bad[0], bucket, bad[2], key_list=bad[1])


def test_delete_m3u8_with_and_without_its_segments(client, bucket):
    playlist = b"#EXTM3U\n#EXTINF:10,\nseg/0.ts\n#EXTINF:10,\nseg/1.ts\nhttp://elsewhere/2.ts\n"
    for name in ("v/a.m3u8", "v/b.m3u8"):
        put(client, bucket, name, playlist)
    for ts in ("v/seg/0.ts", "v/seg/1.ts"):
        put(client, bucket, ts)
    kept = job(client, client.delete_m3u8(bucket, "v/b.m3u8", deletets=False))
    assert kept.succeeded and client.stat(bucket, "v/seg/0.ts").code == 200
    gone = job(client, client.delete_m3u8(bucket, "v/a.m3u8"))
    assert gone.succeeded and gone.items[0].raw["deletets"] == 2
    assert [client.stat(bucket, key).code for key in ("v/a.m3u8", "v/seg/0.ts", "v/seg/1.ts")] == [404] * 3
    failed = job(client, client.delete_m3u8(bucket, "v/missing.m3u8"))
    assert failed.finished and not failed.succeeded and failed.failed[0].failed


def test_wait_job_of_an_unknown_job_ends_at_once(client):
    status = client.wait_job("no-such-job", timeout=30)
    assert status.code is None and not status.finished and status.result.code == 404
