"""The classes and functions at the official module paths, called against the emulator (issue 13, point 3).

Each is a thin view of our services; these tests call every one of them, with no official SDK
needed (``tests/compat`` compares them with it, value by value).
"""

import json

import pytest

import wcs
from tests.helpers.files import MiB
from wcs.commons import compat, error_deal, logme
from wcs.commons.auth import Auth
from wcs.commons.config import Config
from wcs.commons.errors import MissingFile, WcsError
from wcs.commons.http import _get, _post
from wcs.commons.putpolicy import PutPolicy
from wcs.commons.util import etag, urlsafe_base64_decode, urlsafe_base64_encode
from wcs.services.filemanager import BucketManager
from wcs.services.fmgr import Fmgr
from wcs.services.mgrbase import MgrBase
from wcs.services.multipartupload import MultipartUpload
from wcs.services.persistentfop import PersistentFop
from wcs.services.simple_multipartupload import Simple_MultipartUpload
from wcs.services.simpleupload import SimpleUpload
from wcs.services.streamupload import StreamUpload
from wcs.services.uploadprogressrecorder import UploadProgressRecorder
from wcs.services.wslive import WsLive


@pytest.fixture
def auth(emulator):
    return Auth(emulator.access_key, emulator.secret_key)


@pytest.fixture
def token(auth):
    def make(bucket, key, **policy):
        return auth.uploadtoken(dict(policy, scope="%s:%s" % (bucket, key)))

    return make


def _wait(status):
    for _ in range(200):
        code, body, _ = status()
        if code != 200 or body.get("code") not in (0, 1, 4):
            return code, body
    raise AssertionError("job did not finish")


def test_upload_classes(config, bucket, token, make_file):
    small, big = make_file(1000), make_file(4 * MiB + 5)
    with SimpleUpload(config.put_url, config) as up:
        code, body, headers = up.upload(small, token(bucket, "s"), "s")
        assert code == 200 and urlsafe_base64_decode(body) == ("hash=" + etag(small)).encode() and headers["x-reqid"]
        with pytest.raises(ValueError):  # as the official class
            up.upload(small + ".missing", token(bucket, "m"))
    url = "%s/%s/s" % (config.mgr_url, bucket)
    with StreamUpload(config.put_url, config) as up:
        res = up.upload(url, token(bucket, "streamed"), "streamed")
        assert res.code == 200 and res.data == {"hash": etag(small)}
    with MultipartUpload(config.put_url, config) as up:
        res = up.upload(big, token(bucket, "big"))
        assert tuple(res)[:2] == (200, {"hash": etag(big), "key": "big"}) and res.upload_id
        with pytest.raises(error_deal.WcsSeriveError) as info:
            up.smart_upload(big, token(bucket, "big"))  # exists, no overwrite
        assert info.value.result.code == 406 and isinstance(info.value, WcsError)
    with Simple_MultipartUpload(config.put_url, config) as up:
        assert up.simple_multiupload(big, token(bucket, "big2"))[1] == {"hash": etag(big), "key": "big2"}


def test_management_classes(config, bucket, auth, token, make_file):
    path = make_file(10)
    with SimpleUpload(config.put_url, config) as up:
        assert up.upload(path, token(bucket, "k"))[0] == 200
    with BucketManager(auth, config.mgr_url, config) as bm:
        assert bm.stat(bucket, "k")[1]["hash"] == etag(path)
        assert bm.copy(bucket, "k", bucket, "k2")[0] == 200
        assert bm.move(bucket, "k2", bucket, "k3")[0] == 200
        assert bm.setdeadline(bucket, "k3", 2)[0] == 200
        assert [i["key"] for i in bm.bucketlist(bucket, None, None, 1, 2)[1]["items"]] == ["k"]  # mode 2: dropped
        with pytest.raises(ValueError):
            bm.bucketlist(bucket, limit=1001)
        assert bucket in [b["name"] for b in bm.bucket_list()[1]["buckets"]]
        assert bm.bucket_stat(bucket, "2026-01-01", "2026-01-02")[0] == 200
        assert bm.bucket_statistics(bucket, "uploadRequest", "2026-01-01", "2026-01-02")[0] == 200
        code, body, _ = bm.image_detect("http://example.com/a.jpg", "porn", bucket)
        assert code == 200 and body["results"] == [{"type": "porn", "label": "normal", "rate": 1.0, "review": False}]
        assert bm.delete(bucket, "k3")[0] == 200
    fops = "resource/%s/bucket/%s/key/%s" % (urlsafe_base64_encode(bucket + ":k"), urlsafe_base64_encode(bucket),
                                             urlsafe_base64_encode("f"))
    with Fmgr(auth, config.mgr_url, config) as fmgr:
        code, body, _ = fmgr.fmgr_copy("fops=" + fops)
        assert code == 200 and _wait(lambda: fmgr.status(body["persistentId"]))[1]["code"] == 3
    with PersistentFop(auth, config.mgr_url, config) as pfop:
        assert pfop.build_ops({"avthumb": "mp4"}, bucket, "o") == ["avthumb/mp4|saveas/" + urlsafe_base64_encode(
            bucket + ":o")]
        code, body, _ = pfop.execute("avthumb/mp4", bucket, "k")
        assert code == 200 and _wait(lambda: pfop.fops_status(body["persistentId"]))[0] == 200
    with WsLive(auth, config.mgr_url, config) as live:
        assert live.wslive_list("ch", "20260101000000", "20260102000000", bucket)[1]["total"] == 0
    with MgrBase(auth, config.mgr_url, config) as base:
        assert base._params_parse({"a": 1, "b": "x"}) == "a=1&b=x" and base._params_parse({}) == []
        assert base._gernerate_headers("http://h/x")["Authorization"] == auth.managertoken("http://h/x")


def test_module_functions_read_the_home_config(emulator, bucket, monkeypatch, tmp_path):
    emulator.write_config(str(tmp_path / ".wcscfg"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Config().mgr_url == emulator.url
    code, body, headers = _get("%s/fmgr/status?persistentId=nope" % emulator.url)
    assert code == 404 and body["message"] == "persistentId Not Found" and headers["x-reqid"]
    url = "%s/bucket/list" % emulator.url
    auth = Auth(emulator.access_key, emulator.secret_key)
    assert _post(url, {"Authorization": auth.managertoken(url)})[0] == 405  # /bucket/list is GET only
    assert wcs.BucketManager is BucketManager and wcs.Fmgr is Fmgr and wcs._get is _get
    assert wcs.urlparse("http://h/p").netloc == "h" and wcs.etag is etag


def test_progress_recorder_keeps_json_per_block(tmp_path):
    recorder = UploadProgressRecorder("abc123", Config(None, tmp_record_folder=str(tmp_path)))
    assert recorder.find_upload_record()
    with pytest.raises(Exception, match="Null"):
        recorder.get_upload_record()
    recorder.set_upload_record(4194304, {"offset": 4194304, "code": 200, "ctx": "c"})
    records = recorder.get_upload_record()
    assert records["uploadBatch"] == "abc123" and json.loads(records["upload_record"][0])["ctx"] == "c"
    recorder.delete_upload_record()
    assert not recorder.find_upload_record()


def test_small_official_modules():
    assert compat.b("é") == "é".encode() and compat.s(b"x") == "x" and compat.urlparse("http://h").netloc == "h"
    logme.debug("quiet")  # goes to logging, never printed
    err = error_deal.ClientError("boom")
    assert err.status == -1 and "boom" in str(err) and isinstance(err, WcsError)
    assert str(error_deal.WcsSeriveError("x")) == "x" and error_deal.WcsSeriveError("x").seriveerror == "x"
    assert issubclass(MissingFile, ValueError) and issubclass(MissingFile, OSError)
    policy = PutPolicy()
    policy.set_conf("scope", "b:k")
    policy.set_conf("no-such-field", 1)  # ignored, as the official class does
    assert policy.get_conf("scope") == "scope:b:k" and policy.putpolicy == {"scope": "b:k"}
    assert policy.get_conf("no-such-field") is None
