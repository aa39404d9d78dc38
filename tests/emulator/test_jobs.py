"""Async jobs over HTTP: fmgr operations and fops change the store and report through status; callbacks
and notifications reach a loopback receiver with the service's signature."""

import hashlib
import io
import json
import zipfile
from urllib.parse import quote

import requests

from wcs.commons.auth import callback_signature
from wcs.commons.util import entry, urlsafe_base64_decode, urlsafe_base64_encode
from wcs.emulator.jobs import new_persistent_id

b64 = urlsafe_base64_encode


def fmgr(api, op, fops, **extra):
    body = "fops=" + fops + "".join("&%s=%s" % item for item in extra.items())
    resp = api.mgr("POST", "/fmgr/" + op, body.encode())
    assert resp.status_code == 200, resp.text
    return api.wait_job(resp.json()["persistentId"])


def exists(api, bucket, key):
    return api.mgr("GET", "/stat/" + entry(bucket, key)).status_code == 200


def test_fmgr_copy_move_delete(api, bucket):
    api.put(bucket, "src", b"data")
    status = fmgr(api, "copy", "resource/%s/bucket/%s/key/%s" % (entry(bucket, "src"), b64("b2"), b64("copied"))
                  + ";resource/%s/bucket/%s" % (entry(bucket, "src"), b64(bucket)))
    assert status["code"] == 3 and status["desc"] == "fileOperateFailed"
    ok, same_bucket_without_key = status["items"]
    assert ok["code"] == 3 and ok["key"] == "copied" and ok["error"] is None and ok["fsize"] == 4
    assert same_bucket_without_key["code"] == 2 and "key is required" in same_bucket_without_key["desc"]
    assert exists(api, "b2", "copied")

    status = fmgr(api, "move", "resource/%s/bucket/%s/key/%s/prefix/%s" % (
        entry(bucket, "src"), b64(bucket), b64("moved"), b64("p")))
    assert status["items"][0]["code"] == 3 and status["items"][0]["key"] == "p/moved"
    assert not exists(api, bucket, "src") and exists(api, bucket, "p/moved")

    # force=0 keeps an existing destination; force=1 replaces it
    api.put(bucket, "again", b"x")
    fops = "resource/%s/bucket/%s/key/%s" % (entry(bucket, "again"), b64("b2"), b64("copied"))
    assert fmgr(api, "copy", fops)["items"][0]["code"] == 2
    assert fmgr(api, "copy", fops, force=1)["items"][0]["code"] == 3

    status = fmgr(api, "delete", "bucket/%s/key/%s;bucket/%s/key/%s" % (
        b64(bucket), b64("p/moved"), b64(bucket), b64("never-existed")))
    assert [item["code"] for item in status["items"]] == [3, 3]
    assert not exists(api, bucket, "p/moved")


def test_fmgr_delete_prefix_is_a_directory(api, bucket):
    for key in ["test/a", "test/sub/b", "test123", "test"]:
        api.put(bucket, key)
    status = fmgr(api, "deletePrefix", "bucket/%s/prefix/%s/output/%s" % (
        b64(bucket), b64("test"), entry(bucket, "report.txt")))
    assert status["items"][0]["code"] == 3
    assert not exists(api, bucket, "test/a") and not exists(api, bucket, "test/sub/b")
    assert exists(api, bucket, "test123") and exists(api, bucket, "test")
    report = requests.get("%s/%s/report.txt" % (api.url, bucket)).text
    assert sorted(report.split()) == ["test/a", "test/sub/b"]


def test_fmgr_deletem3u8(api, bucket):
    api.put(bucket, "hls/seg0.ts")
    api.put(bucket, "hls/seg1.ts")
    api.put(bucket, "hls/index.m3u8", b"#EXTM3U\n#EXTINF:10,\nseg0.ts\n#EXTINF:10,\nseg1.ts?x=1\n")
    status = fmgr(api, "deletem3u8", "bucket/%s/key/%s" % (b64(bucket), b64("hls/index.m3u8")))
    assert status["items"][0]["code"] == 3
    for key in ("hls/index.m3u8", "hls/seg0.ts", "hls/seg1.ts"):
        assert not exists(api, bucket, key)
    status = fmgr(api, "deletem3u8", "bucket/%s/key/%s" % (b64(bucket), b64("hls/index.m3u8")))
    assert status["items"][0]["code"] == 2 and "File Not Found" in status["items"][0]["desc"]


def test_fmgr_fetch_from_emulator_and_refuses_remote_hosts(api, bucket, receiver):
    api.put(bucket, "origin.txt", b"fetch me")
    source = "%s/%s/origin.txt" % (api.url, bucket)
    md5 = hashlib.md5(b"fetch me").hexdigest()
    status = fmgr(api, "fetch", "fetchURL/%s/bucket/%s/key/%s/md5/%s" % (b64(source), b64("b2"), b64("got"), md5))
    item = status["items"][0]
    assert item["code"] == 3, item
    assert requests.get(api.url + "/b2/got").content == b"fetch me"
    assert item["hash"] == api.mgr("GET", "/stat/" + entry(bucket, "origin.txt")).json()["hash"]
    # no key: named after the URL path, under prefix
    status = fmgr(api, "fetch", "fetchURL/%s/bucket/%s/prefix/%s" % (b64(receiver.url + "/some/file.txt"),
                                                                      b64(bucket), b64("pre")))
    assert status["items"][0]["key"] == "pre/some/file.txt"
    status = fmgr(api, "fetch", "fetchURL/%s/bucket/%s/key/%s/md5/%s" % (
        b64(source), b64(bucket), b64("badmd5"), "0" * 32))
    assert status["items"][0]["code"] == 2 and "md5" in status["items"][0]["desc"]
    status = fmgr(api, "fetch", "fetchURL/%s/bucket/%s/key/%s" % (
        b64("http://203.0.113.9/x"), b64(bucket), b64("remote")))
    item = status["items"][0]
    assert item["code"] == 2 and "not a loopback address" in item["desc"]
    assert not exists(api, bucket, "remote")


def test_fmgr_compress_makes_a_real_zip(api, bucket):
    api.put(bucket, "z/a.txt", b"alpha")
    api.put(bucket, "z/d/b.txt", b"beta")
    api.put(bucket, "c.txt", b"gamma")
    api.put(bucket, "index.txt", b"c.txt\n")
    fops = "bucket/%s/keys/%s|%s/keyList/%s/saveas/%s" % (
        b64(bucket), b64("z/"), b64("z/a.txt"), b64("index.txt"), entry(bucket, "out.zip"))
    status = fmgr(api, "compress", fops)
    assert status["items"][0]["code"] == 3, status
    archive = zipfile.ZipFile(io.BytesIO(requests.get("%s/%s/out.zip" % (api.url, bucket)).content))
    assert sorted(archive.namelist()) == ["c.txt", "z/a.txt", "z/d/b.txt"]
    assert archive.read("z/d/b.txt") == b"beta"
    missing = "bucket/%s/keys/%s/saveas/%s" % (b64(bucket), b64("nope"), entry(bucket, "o2.zip"))
    assert fmgr(api, "compress", missing)["items"][0]["code"] == 2


def test_fmgr_setdeadline_and_bad_requests(api, bucket):
    api.put(bucket, "s/a")
    status = fmgr(api, "setdeadline", "bucket/%s/prefix/%s/deadline/0" % (b64(bucket), b64("s")))
    assert status["items"][0]["code"] == 3
    assert not exists(api, bucket, "s/a")
    assert api.mgr("POST", "/fmgr/unknown", b"fops=x").status_code == 400
    assert api.mgr("POST", "/fmgr/copy", b"").status_code == 400
    assert api.mgr("POST", "/fmgr/copy", b"fops=x&notifyURL=%%%").status_code == 400
    assert api.mgr("POST", "/fmgr/copy", b"fops=x&force=7").status_code == 400
    assert api.mgr("POST", "/fmgr/copy", b"fops=x", token="bad:token").status_code == 401
    status = fmgr(api, "copy", "garbage")
    assert status["items"][0]["code"] == 2 and status["items"][0]["desc"]


def test_fmgr_notification_is_signed(api, bucket, receiver):
    api.put(bucket, "n")
    notify = receiver.url + "/hook?x=1"
    status = fmgr(api, "delete", "bucket/%s/key/%s" % (b64(bucket), b64("n")), notifyURL=b64(notify))
    assert status["code"] == 6
    request = receiver.wait(1)[0]
    assert request["path"] == "/hook?x=1"
    body = request["body"]
    assert request["headers"]["Authorization"] == callback_signature(api.emu.access_key, api.emu.secret_key,
                                                                     notify, body)
    sent = json.loads(urlsafe_base64_decode(body))
    assert sent["id"] == status["id"] and sent["code"] == 3 and sent["items"][0]["code"] == 3


def test_fmgr_separate_notifies_per_op(api, bucket, receiver):
    fops = "bucket/%s/key/%s;bucket/%s/key/%s" % (b64(bucket), b64("a"), b64(bucket), b64("b"))
    fmgr(api, "delete", fops, notifyURL=b64(receiver.url), separate=1)
    sent = [json.loads(urlsafe_base64_decode(r["body"])) for r in receiver.wait(2)]
    assert [len(s["items"]) for s in sent] == [1, 1]


def test_notification_to_remote_host_fails_without_traffic(api, bucket):
    status = fmgr(api, "delete", "bucket/%s/key/%s" % (b64(bucket), b64("x")), notifyURL=b64("http://192.0.2.1/h"))
    assert status["code"] == 5 and status["items"][0]["code"] == 3


def _zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


def fops(api, bucket, key, ops, **extra):
    body = "bucket=%s&key=%s&fops=%s" % (b64(bucket), b64(key), b64(ops))
    body += "".join("&%s=%s" % item for item in extra.items())
    resp = api.mgr("POST", "/fops", body.encode())
    assert resp.status_code == 200, resp.text
    return api.wait_job(resp.json()["persistentId"], "/status/get/prefop")


def test_fops_decompression_zip(api, bucket, receiver):
    api.put(bucket, "arch.zip", _zip({"one.txt": b"1", "dir/two.txt": b"22", "emptydir/": b""}))
    ops = "decompression/zip/dir/%s|saveas/%s" % (b64("b2:unz"), entry(bucket, "list.txt"))
    status = fops(api, bucket, "arch.zip", ops, notifyURL=b64(receiver.url))
    assert status["inputkey"] == "arch.zip" and status["inputbucket"] == bucket and status["inputfsize"] > 0
    item = status["items"][0]
    assert item["code"] == 3, item
    assert sorted(d["key"] for d in item["detail"]) == ["unz/dir/two.txt", "unz/one.txt"]
    assert requests.get(api.url + "/b2/unz/dir/two.txt").content == b"22"
    assert sorted(requests.get("%s/%s/list.txt" % (api.url, bucket)).text.split()) == [
        "unz/dir/two.txt", "unz/one.txt"]
    assert status["code"] == 6
    sent = receiver.wait(1)[0]
    assert sent["headers"]["Authorization"] == callback_signature(api.emu.access_key, api.emu.secret_key,
                                                                  receiver.url, sent["body"])
    # again without force: the list file exists
    again = fops(api, bucket, "arch.zip", ops)
    assert again["items"][0]["code"] == 2 and "Already Exists" in again["items"][0]["desc"]
    assert fops(api, bucket, "arch.zip", ops, force=1)["items"][0]["code"] == 3


def test_fops_unsupported_ops_fail_clearly(api, bucket):
    api.put(bucket, "v.mp4", b"not really a video")
    status = fops(api, bucket, "v.mp4", "avthumb/mp4/vb/1.25m|saveas/%s;vframe/jpg/offset/1;nonsense/x;"
                  "decompression/zip" % entry(bucket, "o.mp4"))
    descs = [item["desc"] for item in status["items"]]
    assert all(item["code"] == 2 for item in status["items"])
    assert descs[0] == "avthumb is not supported by the emulator (no ffmpeg)"
    assert "vframe" in descs[1] and "nonsense" in descs[2] and "zip" in descs[3]
    assert status["desc"] == "fileOperateFailed"
    assert not exists(api, bucket, "o.mp4")


def test_fops_errors(api, bucket):
    body = "bucket=%s&key=%s&fops=%s" % (b64(bucket), b64("missing"), b64("decompression/zip"))
    assert api.mgr("POST", "/fops", body.encode()).status_code == 404
    assert api.mgr("POST", "/fops", b"bucket=" + b64(bucket).encode()).status_code == 400
    assert api.mgr("POST", "/fops", body.encode(), token="x:y").status_code == 401


def test_persistent_ops_from_the_put_policy(api, bucket, receiver):
    token = api.token(bucket + ":up.zip", persistentOps="decompression/zip/dir/%s" % b64(bucket + ":pz"),
                      persistentNotifyUrl=receiver.url, returnBody="id=$(persistentId)")
    resp = api.upload(token, _zip({"f.txt": b"from policy"}))
    assert resp.status_code == 200
    pid = urlsafe_base64_decode(resp.text).decode().split("&")[0].split("=", 1)[1]
    assert len(pid) == 36
    status = api.wait_job(pid, "/status/get/prefop")
    assert status["items"][0]["code"] == 3
    assert requests.get("%s/%s/pz/f.txt" % (api.url, bucket)).content == b"from policy"
    receiver.wait(1)


def test_upload_callback_is_signed_and_relayed(api, bucket, receiver):
    receiver.reply = b'{"from": "callback server"}'
    url = receiver.url + "/cb"
    token = api.token(bucket + ":cb.txt", callbackUrl=url, callbackBody="key=$(key)&fsize=$(fsize)&v=$(x:v)")
    resp = api.upload(token, b"abc", **{"x:v": "1"})
    assert resp.status_code == 200 and resp.json() == {"from": "callback server"}
    request = receiver.wait(1)[0]
    assert request["body"] == b"key=cb.txt&fsize=3&v=1"
    assert request["headers"]["Authorization"] == callback_signature(api.emu.access_key, api.emu.secret_key,
                                                                     url, request["body"])


def test_upload_callback_failures_are_579_after_storing(api, bucket, receiver):
    receiver.status = 500
    resp = api.upload(api.token(bucket + ":cb500", callbackUrl=receiver.url), b"abc")
    assert resp.status_code == 579 and resp.reason == "Callback Failed"
    assert exists(api, bucket, "cb500")
    assert len(receiver.requests) == 3  # bounded retries
    remote = api.upload(api.token(bucket + ":cbremote", callbackUrl="http://198.51.100.7/cb"), b"abc")
    assert remote.status_code == 579 and "loopback" in remote.json()["message"]
    assert exists(api, bucket, "cbremote")
    # multipart: same rule on mkfile
    token = api.token(bucket + ":cbmk", callbackUrl="http://example.com/cb")
    ctx = requests.post(api.url + "/mkblk/3/0", data=b"abc", headers={"Authorization": token}).json()["ctx"]
    resp = requests.post(api.url + "/mkfile/3", data=ctx, headers={"Authorization": token})
    assert resp.status_code == 579 and exists(api, bucket, "cbmk")


def test_status_of_unknown_and_id_shape(api):
    assert len(new_persistent_id()) == 36
    assert requests.get(api.url + "/status/get/prefop?persistentId=" + quote("a/b")).status_code == 404
