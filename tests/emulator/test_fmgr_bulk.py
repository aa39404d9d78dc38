"""fmgr over raw HTTP beyond the basics of test_jobs (reference 7.2): setdeadline over a prefix (a
directory, the whole bucket, -1, java's deleteAfterDays), compress from a keyList alone, deletem3u8 with
and without its segments, one result per item, and Archive sources."""

import io
import zipfile

import requests

from tests.emulator.test_jobs import exists, fmgr
from wcs.commons.util import entry, urlsafe_base64_encode

b64 = urlsafe_base64_encode


def expiration(api, bucket, key):
    return api.mgr("GET", "/stat/" + entry(bucket, key)).json()["expirationDate"]


def test_setdeadline_over_a_prefix_and_the_whole_bucket(api, bucket):
    for key in ("logs/a", "logs/deep/b", "logs2", "logsx/c", "top"):
        api.put(bucket, key)
    status = fmgr(api, "setdeadline", "bucket/%s/prefix/%s/deadline/30" % (b64(bucket), b64("logs"))
                  + ";bucket/%s/prefix/%s/deleteAfterDays/7" % (b64(bucket), b64("logsx/"))
                  + ";bucket/%s/deadline/x" % b64(bucket))
    first, second, third = status["items"]
    assert first["code"] == 3 and first["count"] == 2 and first["key"] == "logs"
    assert second["code"] == 3 and second["count"] == 1
    assert third["code"] == 2 and "deadline" in third["desc"]
    assert status["desc"] == "fileOperateFailed"
    assert expiration(api, bucket, "logs/a") and expiration(api, bucket, "logs/deep/b")
    assert expiration(api, bucket, "logs2") == "" and expiration(api, bucket, "top") == ""
    assert expiration(api, bucket, "logsx/c") < expiration(api, bucket, "logs/a")
    # no prefix: the whole bucket; -1 keeps forever again
    status = fmgr(api, "setdeadline", "bucket/%s/deadline/-1" % b64(bucket))
    assert status["items"][0]["count"] == 5
    assert all(expiration(api, bucket, k) == "" for k in ("logs/a", "logs2", "top"))
    missing = fmgr(api, "setdeadline", "bucket/%s/deadline/1" % b64("no-such-bucket"))
    assert missing["items"][0]["code"] == 2


def compress(api, bucket, key, out):
    return fmgr(api, "compress", "bucket/%s/keys/%s/saveas/%s" % (b64(bucket), b64(key), entry(bucket, out)))


def test_compress_from_a_key_list_alone_and_refusals(api, bucket):
    api.put(bucket, "d/one.txt", b"1")
    api.put(bucket, "d/two.txt", b"22")
    api.put(bucket, "three.txt", b"333")
    api.put(bucket, "list.txt", b"d/\nthree.txt\n\n")
    status = fmgr(api, "compress", "bucket/%s/keyList/%s/saveas/%s" % (
        b64(bucket), b64("list.txt"), entry(bucket, "out.zip")))
    item = status["items"][0]
    assert item["code"] == 3 and item["key"] == "out.zip" and item["fsize"] > 0 and item["hash"]
    archive = zipfile.ZipFile(io.BytesIO(requests.get(item["url"]).content))
    assert sorted(archive.namelist()) == ["d/one.txt", "d/two.txt", "three.txt"]
    # force=0 keeps an existing output; a missing key list fails the item
    again = compress(api, bucket, "three.txt", "out.zip")
    assert again["items"][0]["code"] == 2 and "Exist" in again["items"][0]["desc"]
    nolist = fmgr(api, "compress", "bucket/%s/keyList/%s/saveas/%s" % (
        b64(bucket), b64("nope"), entry(bucket, "o.zip")))
    assert nolist["items"][0]["code"] == 2
    # an Archive member that is not restored cannot be read
    assert api.mgr("POST", "/converttype/%s/Archive" % entry(bucket, "three.txt")).status_code == 200
    frozen = compress(api, bucket, "three.txt", "f.zip")
    assert frozen["items"][0]["code"] == 2 and "Archive" in frozen["items"][0]["desc"]
    assert not exists(api, bucket, "f.zip")
    copy = fmgr(api, "copy", "resource/%s/bucket/%s/key/%s" % (entry(bucket, "three.txt"), b64(bucket), b64("c")))
    assert copy["items"][0]["code"] == 2
    move = fmgr(api, "move", "resource/%s/bucket/%s/key/%s" % (entry(bucket, "three.txt"), b64(bucket), b64("m")))
    assert move["items"][0]["code"] == 3
    assert api.mgr("GET", "/stat/" + entry(bucket, "m")).json()["storageClass"] == "Archive"


def test_deletem3u8_with_and_without_segments(api, bucket):
    playlist = b"#EXTM3U\n#EXTINF:10,\nseg0.ts\n#EXTINF:10,\nsub/seg1.ts\nhttp://elsewhere/seg2.ts\n"
    for directory in ("keep", "drop"):
        api.put(bucket, directory + "/seg0.ts")
        api.put(bucket, directory + "/sub/seg1.ts")
        api.put(bucket, directory + "/index.m3u8", playlist)
    status = fmgr(api, "deletem3u8", "bucket/%s/key/%s/deletets/0;bucket/%s/key/%s" % (
        b64(bucket), b64("keep/index.m3u8"), b64(bucket), b64("drop/index.m3u8")))
    kept, dropped = status["items"]
    assert kept["code"] == 3 and kept["deletets"] == 0 and kept["key"] == "keep/index.m3u8"
    assert dropped["code"] == 3 and dropped["deletets"] == 2
    assert not exists(api, bucket, "keep/index.m3u8") and exists(api, bucket, "keep/seg0.ts")
    assert not exists(api, bucket, "drop/seg0.ts") and not exists(api, bucket, "drop/sub/seg1.ts")
