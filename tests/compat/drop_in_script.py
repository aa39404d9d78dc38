"""One script of official-style calls, run unchanged by the official ``wcs-python3-sdk`` 5.0.36 and by ours.

``python drop_in_script.py CONFIG WORKDIR BUCKET`` drives every ``Client`` method, the utility functions
and the classes at the official import paths against the emulator named in CONFIG, and prints one JSON
document: a list of ``[name, outcome]`` where an outcome is ``{"code", "body", "type", "headers"}`` for a
returned triple, ``{"value", "type"}`` for a plain value, or ``{"raises": <class name>}``. Nothing here
may use a name the official SDK lacks: ``tests/compat/test_drop_in.py`` compares the two outputs.
"""

import io
import json
import os
import sys
import time

from wcs.commons.config import Config
from wcs.commons.util import urlsafe_base64_encode as b64
from wcs.services.client import Client

OUT = []


def record(name, value):
    if isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[0], int):
        headers = value[2] if len(value) == 3 else None
        OUT.append([name, {"code": value[0], "body": value[1], "type": type(value[1]).__name__,
                           "headers": sorted(headers) if isinstance(headers, dict) else repr(headers)}])
    else:
        OUT.append([name, {"value": value, "type": type(value).__name__}])


def call(name, fn, *args, **kwargs):
    try:
        value = fn(*args, **kwargs)
    except Exception as exc:  # the outcome is the class of what was raised, and the classes it is
        OUT.append([name, {"raises": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__]}])
        return None
    record(name, value)
    return value


def wait_job(name, status_fn, persistent_id):
    """Poll a job until it leaves the queued/running states, then record the final status."""
    value = None
    for _ in range(200):
        value = status_fn(persistent_id)
        body = value[1] if isinstance(value, tuple) else None
        if not isinstance(body, dict) or body.get("code") not in (0, 1, 4):
            break
        time.sleep(0.05)
    record(name, value)


def main():
    config_path, workdir, bucket = sys.argv[1:4]
    cfg = Config(config_path)
    cli = Client(cfg)
    mgr_url = cfg.mgr_url
    small = os.path.join(workdir, "small.txt")
    other = os.path.join(workdir, "other.txt")
    big = os.path.join(workdir, "big.bin")
    image = os.path.join(workdir, "image.jpg")

    # -- uploads ------------------------------------------------------------------------------
    call("simple_upload", cli.simple_upload, small, bucket, "small.txt")
    call("simple_upload_exists", cli.simple_upload, other, bucket, "small.txt")
    call("simple_upload_missing_bucket", cli.simple_upload, small, "no-such-bucket", "x.txt")
    call("simple_upload_missing_file", cli.simple_upload, os.path.join(workdir, "nope"), bucket, "nope")
    call("stream_upload", cli.stream_upload, "%s/%s/small.txt" % (mgr_url, bucket), bucket, "streamed.txt")
    call("multipart_upload", cli.multipart_upload, big, bucket, "big.bin")
    call("multipart_upload_exists", cli.multipart_upload, big, bucket, "big.bin")
    call("multipart_upload_keyword", cli.multipart_upload, big, bucket, "big-kw.bin", tmp_upload_id=None)
    call("smart_upload_small", cli.smart_upload, small, bucket, "smart-small.txt")
    call("smart_upload_small_exists", cli.smart_upload, other, bucket, "smart-small.txt")
    call("smart_upload_big", cli.smart_upload, big, bucket, "smart-big.bin", 4)
    call("smart_upload_big_exists", cli.smart_upload, big, bucket, "smart-big.bin", 4)
    cfg.overwrite = 1
    call("simple_upload_overwrite", cli.simple_upload, other, bucket, "small.txt")
    call("multipart_upload_overwrite", cli.multipart_upload, big, bucket, "big.bin")
    cfg.overwrite = 0
    call("image_upload", cli.simple_upload, image, bucket, "image.jpg")

    # -- management ---------------------------------------------------------------------------
    call("list_buckets", cli.list_buckets)
    call("stat", cli.stat, bucket, "big.bin")
    call("stat_missing", cli.stat, bucket, "missing.txt")
    call("bucket_list", cli.bucket_list, bucket)
    call("bucket_list_prefix", cli.bucket_list, bucket, "smart")
    call("bucket_list_limit", cli.bucket_list, bucket, None, None, 2)
    page = call("bucket_list_limit_mode", cli.bucket_list, bucket, None, None, 2, 0)
    marker = page[1].get("marker") if page and isinstance(page[1], dict) else None
    call("bucket_list_marker", cli.bucket_list, bucket, None, marker, 2)
    call("bucket_list_limit0", cli.bucket_list, bucket, None, None, 0)
    call("bucket_list_mode1", cli.bucket_list, bucket, None, None, None, 1)
    call("bucket_list_mode2", cli.bucket_list, bucket, None, None, None, 2)
    call("bucket_list_limit5000", cli.bucket_list, bucket, None, None, 5000)
    call("bucket_list_missing", cli.bucket_list, "no-such-bucket")
    call("bucket_listAll", cli.bucket_listAll, bucket, None, None, 2)
    call("bucket_listAll_prefix", cli.bucket_listAll, bucket, "smart")
    for name in ("dir1/a.txt", "dir2/b.txt", "dir3/c.txt"):
        cli.simple_upload(small, bucket, name)
    call("bucket_listAll_dirs", cli.bucket_listAll, bucket, None, None, 2, 0)
    call("bucket_stat", cli.bucket_stat, bucket, "2026-01-01", "2026-01-03")
    call("bucket_stat_bad_dates", cli.bucket_stat, bucket, "2026-01-03", "2026-01-01")
    call("bucket_statistics", cli.bucket_statistics, bucket, "uploadRequest", "2026-01-01", "2026-01-03")
    call("image_detect", cli.image_detect, "%s/%s/image.jpg" % (mgr_url, bucket), "porn", bucket)
    call("image_detect_missing_bucket", cli.image_detect, "%s/%s/image.jpg" % (mgr_url, bucket), "porn",
         "no-such-bucket")
    call("copy", cli.copy, bucket, "small.txt", bucket, "copy.txt")
    call("copy_default_key", cli.copy, bucket, "small.txt", bucket + "2")
    call("copy_missing", cli.copy, bucket, "missing.txt", bucket, "copy2.txt")
    call("move", cli.move, bucket, "copy.txt", bucket, "moved.txt")
    call("move_missing", cli.move, bucket, "copy.txt", bucket, "moved2.txt")
    call("setdeadline", cli.setdeadline, bucket, "moved.txt", 3)
    call("setdeadline_forever", cli.setdeadline, bucket, "moved.txt", -1)
    call("setdeadline_missing", cli.setdeadline, bucket, "missing.txt", 3)
    call("delete", cli.delete, bucket, "moved.txt")
    call("delete_missing", cli.delete, bucket, "moved.txt")
    call("wslive_list", cli.wslive_list, "live", "20260101000000", "20260102000000", bucket)
    call("wslive_list_paged", cli.wslive_list, "live", "20260101000000", "20260102000000", bucket, 1, 10)

    # -- fmgr and fops jobs -------------------------------------------------------------------
    def job(name, fn, fops):
        value = call(name, fn, fops)
        if value and isinstance(value[1], dict) and value[1].get("persistentId"):
            wait_job(name + "_status", cli.fmgr_status, value[1]["persistentId"])

    src = b64("%s:small.txt" % bucket)
    job("fmgr_copy", cli.fmgr_copy, "resource/%s/bucket/%s/key/%s" % (src, b64(bucket), b64("fmgr-copy.txt")))
    job("fmgr_move", cli.fmgr_move, "resource/%s/bucket/%s/key/%s" % (
        b64("%s:fmgr-copy.txt" % bucket), b64(bucket), b64("fmgr-moved.txt")))
    job("fmgr_fetch", cli.fmgr_fetch, "fetchURL/%s/bucket/%s/key/%s" % (
        b64("%s/%s/small.txt" % (mgr_url, bucket)), b64(bucket), b64("fetched.txt")))
    job("fmgr_compress", cli.fmgr_compress, "bucket/%s/keys/%s|%s/saveas/%s" % (
        b64(bucket), b64("small.txt"), b64("fetched.txt"), b64("%s:archive.zip" % bucket)))
    job("fmgr_delete", cli.fmgr_delete, "bucket/%s/key/%s" % (b64(bucket), b64("fmgr-moved.txt")))
    job("m3u8_delete", cli.m3u8_delete, "bucket/%s/key/%s" % (b64(bucket), b64("none.m3u8")))
    job("prefix_delete", cli.prefix_delete, "bucket/%s/prefix/%s" % (b64(bucket), b64("smart-")))
    job("fmgr_copy_bad", cli.fmgr_copy, "")
    call("fmgr_status_missing", cli.fmgr_status, "no-such-id")
    ops = call("ops_execute", cli.ops_execute, "avthumb/mp4", bucket, "small.txt")
    if ops and isinstance(ops[1], dict) and ops[1].get("persistentId"):
        wait_job("ops_status", cli.ops_status, ops[1]["persistentId"])
    call("ops_execute_missing", cli.ops_execute, "avthumb/mp4", bucket, "missing.txt")
    call("ops_status_missing", cli.ops_status, "no-such-id")

    # -- the utility functions ----------------------------------------------------------------
    from wcs.commons import util

    call("util.etag", util.etag, big)
    call("util.etag_block", util.etag, big, 4 * 1024 * 1024)
    call("util.etag_small", util.etag, small)
    with open(big, "rb") as fp:
        call("util.etag_stream", util.etag_stream, fp)
    call("util.file_crc64", util.file_crc64, big)
    call("util.file_crc64_block", util.file_crc64, big, 1024 * 1024)
    with open(small, "rb") as fp:
        call("util.file_crc64_bytes", util.file_crc64, fp.read(), 16, False)
    call("util.file_crc64_missing", util.file_crc64, os.path.join(workdir, "nope"))
    call("util.crc64", util.crc64, b"hello world")
    call("util.crc64_empty", util.crc64, b"")
    call("util.crc64_str", util.crc64, "hello")
    call("util.file_crc32", util.file_crc32, big)
    call("util.crc32", util.crc32, "hello world")
    call("util.crc32_bytes", util.crc32, b"hello world")
    call("util.urlsafe_base64_encode", util.urlsafe_base64_encode, "a:b?c")
    call("util.urlsafe_base64_encode_bytes", util.urlsafe_base64_encode, b"\xff\xfe")
    value = call("util.urlsafe_base64_decode", util.urlsafe_base64_decode, "YTpiP2M=")
    record("util.urlsafe_base64_decode_text", value.decode() if isinstance(value, bytes) else value)
    call("util.entry", util.entry, "b", "k")
    call("util.entry_bucket", util.entry, "b", None)
    record("util.GetUuid_len", len(util.GetUuid()))
    call("util.https_check", util.https_check, "example.com/x")
    call("util.https_check_kept", util.https_check, "https://example.com/x")
    with open(small, "rb") as fp:
        value = call("util.readfile", util.readfile, fp, 2, 4)
    record("util.readfile_value", value.decode() if isinstance(value, bytes) else value)
    with open(small, "rb") as fp:
        record("util.readfile_end", util.readfile(fp, 10 ** 6, 4))
    stream = util.file_to_stream(small)
    record("util.file_to_stream", stream.read().decode())
    stream.close()
    record("util.get_afterdate_len", len(util.get_afterdate(3)))
    record("util.datetime_timestamp_type", type(util.datetime_timestamp(10)).__name__)

    # -- classes at the official paths --------------------------------------------------------
    from wcs.commons.auth import Auth
    from wcs.commons.error_deal import WcsSeriveError
    from wcs.commons.putpolicy import PutPolicy

    auth = Auth(cfg.access_key, cfg.secret_key)
    other = Client(cfg)
    other.auth = Auth(cfg.access_key, "not-the-secret")  # the signer is an assignable attribute
    call("Client.auth_assigned_wrong", other.stat, bucket, "small.txt")
    other.auth = auth
    call("Client.auth_assigned", other.stat, bucket, "small.txt")
    call("Auth.managertoken", auth.managertoken, "http://h/stat/abc?x=1", "a=b")
    call("Auth.managertoken_nobody", auth.managertoken, "http://h/bucket/list")
    call("Auth.bad_keys", Auth, "", "")
    token = auth.uploadtoken({"scope": "%s:via-class.txt" % bucket, "deadline": 3600})
    record("Auth.uploadtoken_parts", len(token.split(":")))
    policy = PutPolicy()
    policy.set_conf("scope", "%s:k" % bucket)
    call("PutPolicy.get_conf", policy.get_conf, "scope")
    policy.dump_policy(cfg)
    record("PutPolicy.putpolicy", policy.putpolicy)
    try:
        raise WcsSeriveError("boom")
    except WcsSeriveError as exc:
        record("WcsSeriveError.str", str(exc))

    from wcs.services.filemanager import BucketManager
    bmgr = BucketManager(auth, mgr_url)
    call("BucketManager.stat", bmgr.stat, bucket, "small.txt")
    call("BucketManager.bucketlist", bmgr.bucketlist, bucket, "smart", None, 10)
    call("BucketManager.bucket_list", bmgr.bucket_list)
    call("BucketManager.copy", bmgr.copy, bucket, "small.txt", bucket, "bm-copy.txt")
    call("BucketManager.move", bmgr.move, bucket, "bm-copy.txt", bucket, "bm-moved.txt")
    call("BucketManager.setdeadline", bmgr.setdeadline, bucket, "bm-moved.txt", 2)
    call("BucketManager.delete", bmgr.delete, bucket, "bm-moved.txt")
    call("BucketManager.bucketlist_bad_limit", bmgr.bucketlist, bucket, None, None, 1001)

    from wcs.services.simpleupload import SimpleUpload
    token = auth.uploadtoken({"scope": "%s:via-class.txt" % bucket})
    call("SimpleUpload.upload", SimpleUpload(cfg.put_url).upload, small, token, "via-class.txt")
    call("SimpleUpload.upload_missing", SimpleUpload(cfg.put_url).upload, os.path.join(workdir, "nope"), token)

    from wcs.services.streamupload import StreamUpload
    token = auth.uploadtoken({"scope": "%s:via-stream.txt" % bucket})
    call("StreamUpload.upload", StreamUpload(cfg.put_url).upload, "%s/%s/small.txt" % (mgr_url, bucket), token,
         "via-stream.txt")

    from wcs.services.multipartupload import MultipartUpload
    token = auth.uploadtoken({"scope": "%s:via-multipart.bin" % bucket})
    call("MultipartUpload.upload", MultipartUpload(cfg.put_url).upload, big, token)

    from wcs.services.simple_multipartupload import Simple_MultipartUpload
    token = auth.uploadtoken({"scope": "%s:via-simple-multipart.bin" % bucket})
    call("Simple_MultipartUpload.simple_multiupload", Simple_MultipartUpload(cfg.put_url).simple_multiupload,
         big, token)

    from wcs.services.persistentfop import PersistentFop
    pfop = PersistentFop(auth, mgr_url)
    record("PersistentFop.build_ops", pfop.build_ops({"avthumb": "mp4"}, bucket, "out.mp4"))
    value = call("PersistentFop.execute", pfop.execute, "avthumb/mp4", bucket, "small.txt")
    if value and isinstance(value[1], dict) and value[1].get("persistentId"):
        wait_job("PersistentFop.fops_status", pfop.fops_status, value[1]["persistentId"])

    from wcs.services.fmgr import Fmgr
    fmgr = Fmgr(auth, mgr_url)
    value = call("Fmgr.fmgr_copy", fmgr.fmgr_copy, "fops=resource/%s/bucket/%s/key/%s" % (
        src, b64(bucket), b64("fmgr-class.txt")))
    if value and isinstance(value[1], dict) and value[1].get("persistentId"):
        wait_job("Fmgr.status", fmgr.status, value[1]["persistentId"])

    from wcs.services.wslive import WsLive
    call("WsLive.wslive_list", WsLive(auth, mgr_url).wslive_list, "live", "20260101000000", "20260102000000",
         bucket)

    from wcs.services.mgrbase import MgrBase
    call("MgrBase._params_parse", MgrBase(auth, mgr_url)._params_parse, {"a": 1, "b": "x"})

    import wcs
    for name in ("Auth", "BucketManager", "Client", "Fmgr", "MgrBase", "MultipartUpload", "PersistentFop",
                 "SimpleUpload", "UploadProgressRecorder", "WsLive", "etag", "file_to_stream", "readfile",
                 "urlparse", "_get", "_post"):
        record("wcs." + name, callable(getattr(wcs, name, None)))
    call("wcs._get()", wcs._get, "%s/fmgr/status?persistentId=no-such-id" % mgr_url)
    call("wcs.urlparse()", lambda: tuple(wcs.urlparse("http://h/p?q=1")))

    # -- the final state of the bucket ---------------------------------------------------------
    call("bucket_listAll_final", cli.bucket_listAll, bucket)

    # An id without a record: the official raises, ours starts a fresh upload under that id (last: it
    # changes what the bucket holds on one side only).
    call("multipart_upload_new_id", cli.multipart_upload, big, bucket, "big-id.bin", "dropInNoRecord")

    # -- no answer: -1 (port 9 of the loopback: nothing listens; no retries, to stay quick) --------
    cfg.connection_retries = 0
    cfg.put_url = cfg.mgr_url = "http://127.0.0.1:9"
    dead = Client(cfg)
    call("simple_upload_no_answer", dead.simple_upload, small, bucket, "never.txt")
    call("stat_no_answer", dead.stat, bucket, "small.txt")
    call("delete_no_answer", dead.delete, bucket, "small.txt")

    sys.stdout.write(json.dumps({"module": wcs.__file__, "calls": OUT}, default=repr) + "\n")


if __name__ == "__main__":
    sys.stdin = io.StringIO()
    main()
