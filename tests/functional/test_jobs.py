"""fmgr jobs, persistent processing (fops) and the live-recording list against the emulator."""

import io
import zipfile

from tests.helpers.waiting import wait_until
from wcs.commons.util import entry
from wcs.commons.util import urlsafe_base64_encode as b64

DONE_CODES = (3, 5, 6)


def wait_for(status_call, persistent_id, timeout=10.0):
    """Poll a status call until the job is finished; returns the last status Result."""
    results = []

    def finished():
        results.append(status_call(persistent_id))
        assert results[-1].code == 200, results[-1]
        return results[-1].body["code"] in DONE_CODES

    wait_until(finished, timeout, interval=0.05)
    return results[-1]


def run(client, method, fops, **options):
    res = getattr(client, method)(fops, **options)
    assert res.code == 200, res
    return wait_for(client.fmgr_status, res.body["persistentId"])


def item_codes(status):
    return [item["code"] for item in status.body["items"]]


def test_fmgr_copy_and_move(client, bucket, uploaded):
    digest = uploaded("src")
    ops = "resource/%s/bucket/%s/key/%s" % (entry(bucket, "src"), b64(bucket), b64("copied"))
    status = run(client, "fmgr_copy", ops)
    assert status.body["code"] == 3 and item_codes(status) == [3]
    assert client.stat(bucket, "copied").body["hash"] == digest
    ops = "resource/%s/bucket/%s/key/%s" % (entry(bucket, "copied"), b64(bucket), b64("moved"))
    assert item_codes(run(client, "fmgr_move", ops)) == [3]
    assert client.stat(bucket, "copied").code == 404 and client.stat(bucket, "moved").code == 200


def test_fmgr_copy_onto_existing_needs_force(client, bucket, uploaded):
    uploaded("a", seed=1)
    uploaded("b", seed=2)
    ops = "resource/%s/bucket/%s/key/%s" % (entry(bucket, "a"), b64(bucket), b64("b"))
    assert item_codes(run(client, "fmgr_copy", ops)) == [2]
    assert item_codes(run(client, "fmgr_copy", ops, force=1)) == [3]


def test_fmgr_force_from_config(client, config, bucket, uploaded):
    uploaded("a", seed=1)
    uploaded("b", seed=2)
    config.force = 1
    ops = "resource/%s/bucket/%s/key/%s" % (entry(bucket, "a"), b64(bucket), b64("b"))
    assert item_codes(run(client, "fmgr_copy", ops)) == [3]


def test_fmgr_delete_several_ops(client, bucket, uploaded):
    uploaded("x")
    uploaded("y")
    ops = ";".join("bucket/%s/key/%s" % (b64(bucket), b64(k)) for k in ("x", "y"))
    assert item_codes(run(client, "fmgr_delete", ops)) == [3, 3]
    assert client.stat(bucket, "x").code == 404 and client.stat(bucket, "y").code == 404


def test_prefix_delete(client, bucket, uploaded):
    for key in ("dir/a", "dir/b", "dirty"):
        uploaded(key)
    assert item_codes(run(client, "prefix_delete", "bucket/%s/prefix/%s" % (b64(bucket), b64("dir")))) == [3]
    assert [i["key"] for i in client.iter_objects(bucket)] == ["dirty"]


def test_m3u8_delete(client, bucket, tmp_path):
    playlist = tmp_path / "p.m3u8"
    playlist.write_text("#EXTM3U\n#EXTINF:10,\nseg0.ts\n#EXTINF:10,\nseg1.ts\n")
    assert client.simple_upload(str(playlist), bucket, "v/p.m3u8").code == 200
    for name in ("seg0.ts", "seg1.ts"):
        assert client.stream_upload(io.BytesIO(b"ts"), bucket, "v/" + name).code == 200
    status = run(client, "m3u8_delete", "bucket/%s/key/%s" % (b64(bucket), b64("v/p.m3u8")))
    assert item_codes(status) == [3]
    assert list(client.iter_objects(bucket)) == []


def test_fmgr_compress(client, bucket, uploaded, tmp_path):
    uploaded("c/1", seed=1)
    uploaded("c/2", seed=2)
    ops = "bucket/%s/keys/%s|%s/saveas/%s" % (b64(bucket), b64("c/1"), b64("c/2"), entry(bucket, "c.zip"))
    assert item_codes(run(client, "fmgr_compress", ops)) == [3]
    res = client.download(client.download_url(bucket, "c.zip"), str(tmp_path / "c.zip"))
    assert res.code == 200
    assert sorted(zipfile.ZipFile(str(tmp_path / "c.zip")).namelist()) == ["c/1", "c/2"]


def test_fmgr_fetch_from_a_loopback_url(client, bucket, uploaded):
    digest = uploaded("origin", size=3000)
    ops = "fetchURL/%s/bucket/%s/key/%s" % (b64(client.download_url(bucket, "origin")), b64(bucket),
                                            b64("fetched"))
    assert item_codes(run(client, "fmgr_fetch", ops)) == [3]
    assert client.stat(bucket, "fetched").body["hash"] == digest


def test_fmgr_errors(client, bad_client, bucket):
    assert bad_client.fmgr_delete("bucket/%s/key/%s" % (b64(bucket), b64("x"))).code == 401
    assert client.fmgr_delete("").code == 400
    assert client.fmgr_status("no-such-job").code == 404


def test_ops_execute_and_status(client, bucket, uploaded, tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(str(archive), "w") as zf:
        zf.writestr("inside/one.txt", "one")
    assert client.simple_upload(str(archive), bucket, "a.zip").code == 200
    fops = "decompression/zip/dir/%s|saveas/%s" % (entry(bucket, "out"), entry(bucket, "list.txt"))
    res = client.ops_execute(fops, bucket, "a.zip")
    assert res.code == 200 and res.body["persistentId"]
    status = wait_for(client.ops_status, res.body["persistentId"])
    assert status.body["code"] == 3 and item_codes(status) == [3]
    assert status.body["inputkey"] == "a.zip" and status.body["inputbucket"] == bucket
    assert client.stat(bucket, "list.txt").code == 200


def test_ops_execute_unsupported_op_fails_in_status(client, bucket, uploaded):
    uploaded("v.mp4")
    res = client.ops_execute("avthumb/mp4|saveas/%s" % entry(bucket, "o.mp4"), bucket, "v.mp4")
    assert res.code == 200
    assert item_codes(wait_for(client.ops_status, res.body["persistentId"])) == [2]


def test_ops_errors(client, bad_client, bucket):
    assert client.ops_execute("decompression/zip", bucket, "missing").code == 404
    assert bad_client.ops_execute("decompression/zip", bucket, "k").code == 401
    assert client.ops_status("no-such-job").code == 404


def test_wslive_list(client, bucket, uploaded):
    uploaded("live-ch/rec1.ts")
    uploaded("live-ch/rec2.ts")
    uploaded("other/rec.ts")
    res = client.wslive_list("live-ch", "20000101000000", "20991231235959", bucket)
    assert res.code == 200 and res.body["total"] == 2
    assert sorted(i["key"] for i in res.body["items"]) == ["live-ch/rec1.ts", "live-ch/rec2.ts"]
    page = client.wslive_list("live-ch", "20000101000000", "20991231235959", bucket, start=2, limit=1)
    assert len(page.body["items"]) == 1
    assert client.wslive_list("live-ch", "bad", "20991231235959", bucket).code == 400
    assert client.wslive_list("live-ch", "20000101000000", "20991231235959", "no-such-bucket-xyz").code == 404
