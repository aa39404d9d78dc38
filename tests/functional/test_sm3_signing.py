"""The SDK and ``wcscmd`` signing with HMAC-SM3 (``encryption_type = SM3``) against the emulator.

The emulator verifies a token with the algorithm the request's ``encryption-type`` header names (no header:
HMAC-SHA1), so every call that succeeds here both signed with SM3 and announced it; the same call from a
client that signs with SM3 but does not send the header would be 401.
"""

import json

import pytest

from tests.functional.test_jobs import wait_for
from tests.helpers.cli_runner import run_wcscmd
from wcs.commons.auth import Auth
from wcs.commons.http import HttpClient
from wcs.commons.util import BLOCK_SIZE, entry, etag
from wcs.commons.util import urlsafe_base64_encode as b64
from wcs.services.client import Client


@pytest.fixture
def sm3_client(config):
    cli = Client(config.replace(encryption_type="SM3", bput_size=1024 * 1024, concurrency=2))
    try:
        yield cli
    finally:
        cli.close()


def test_upload_stat_list_and_a_job_signed_with_sm3(sm3_client, bucket, make_file):
    assert sm3_client.auth.encryption_type == "SM3"
    small = make_file(1000)
    assert sm3_client.simple_upload(small, bucket, "small.bin").code == 200
    big = make_file(2 * BLOCK_SIZE + 12345)  # three blocks of mkblk + bput chunks, then mkfile
    result = sm3_client.multipart_upload(big, bucket, "big.bin")
    assert result.code == 200 and result.body["hash"] == etag(big)
    stat = sm3_client.stat(bucket, "big.bin")
    assert stat.code == 200 and stat.body["fsize"] == 2 * BLOCK_SIZE + 12345
    listing = sm3_client.bucket_list(bucket)
    assert listing.code == 200 and [item["key"] for item in listing.body["items"]] == ["big.bin", "small.bin"]
    job = sm3_client.fmgr_copy("resource/%s/bucket/%s/key/%s" % (entry(bucket, "small.bin"), b64(bucket),
                                                                   b64("copied.bin")))
    assert job.code == 200, job
    status = wait_for(sm3_client.fmgr_status, job.body["persistentId"])
    assert status.body["code"] == 3 and [item["code"] for item in status.body["items"]] == [3]
    assert sm3_client.stat(bucket, "copied.bin").body["hash"] == etag(small)
    assert sm3_client.delete(bucket, "copied.bin").code == 200


class RecordingHttp(HttpClient):
    """The real HTTP client, noting the method, path and headers of every request it is asked to send."""

    def __init__(self):
        super().__init__(timeout=30, pool_size=4)
        self.sent = []

    def request(self, method, url, **kwargs):
        self.sent.append((method, url.split("/", 3)[3].split("?")[0], dict(kwargs.get("headers") or {})))
        return super().request(method, url, **kwargs)


@pytest.mark.parametrize("encryption_type,announced", [("SM3", {"encryption-type": "SM3"}), ("SHA-1", {})])
def test_every_signed_request_announces_the_algorithm(config, bucket, make_file, encryption_type, announced):
    http = RecordingHttp()
    cfg = config.replace(encryption_type=encryption_type, bput_size=1024 * 1024, concurrency=2)
    try:
        with Client(cfg, http=http) as client:
            assert client.simple_upload(make_file(10), bucket, "f").code == 200
            assert client.multipart_upload(make_file(BLOCK_SIZE + 1), bucket, "m").code == 200
            assert client.stat(bucket, "m").code == 200 and client.bucket_list(bucket).code == 200
            assert client.setdeadline(bucket, "f", 2).code == 200
            job = client.fmgr_delete("bucket/%s/key/%s" % (b64(bucket), b64("f")))
            assert wait_for(client.fmgr_status, job.body["persistentId"]).body["code"] == 3
    finally:
        http.close()
    # The form upload carries its token in the body; every other signed request in Authorization.
    signed = [(method, path, headers) for method, path, headers in http.sent
              if "Authorization" in headers or path == "file/upload"]
    assert sorted({path.split("/")[0] for _method, path, _headers in signed}) == [
        "bput", "file", "fmgr", "list", "mkblk", "mkfile", "setdeadline", "stat"]
    assert {sent[1] for sent in http.sent if sent not in signed} == {"fmgr/status"}  # the one unsigned call
    for method, path, headers in signed:
        assert {k: v for k, v in headers.items() if k.lower() == "encryption-type"} == announced, (method, path)


def test_a_signer_that_does_not_announce_sm3_is_refused(config, bucket, make_file):
    class Silent(Auth):
        def headers(self):
            return {}

    with Client(config) as client:
        client.auth = Silent(config.access_key, config.secret_key, encryption_type="SM3")
        assert client.stat(bucket, "nothing").code == 401
        assert client.simple_upload(make_file(10), bucket, "k").code == 401


def test_an_assigned_sm3_signer_wins_over_the_config(config, bucket, make_file):
    with Client(config) as client:  # the config says SHA-1
        client.auth = Auth(config.access_key, config.secret_key, encryption_type="SM3")
        assert client.simple_upload(make_file(10), bucket, "k").code == 200
        assert client.stat(bucket, "k").code == 200


def _cfgfile(emulator, tmp_path, *lines):
    path = tmp_path / "emulator.wcscfg"
    emulator.write_config(str(path))
    with open(path, "a", encoding="utf-8") as fp:
        fp.write("tmp_record_folder = %s\n" % (tmp_path / "records"))
        fp.writelines(line + "\n" for line in lines)
    return str(path)


def test_wcscmd_encryption_type_option(capsys, emulator, bucket, tmp_path, make_file):
    cfg = _cfgfile(emulator, tmp_path)
    local = make_file(5 * 1024 * 1024)
    run = run_wcscmd(capsys, "-c", cfg, "--encryption-type", "SM3", "put", "wcs://%s/a.bin" % bucket, local)
    assert run.status == 0, run.err
    run = run_wcscmd(capsys, "-c", cfg, "multiput", "wcs://%s/m.bin" % bucket, local, "--encryption-type", "sm3",
                     "-q")
    assert run.status == 0 and run.json["body"]["hash"] == etag(local), run.err
    run = run_wcscmd(capsys, "-c", cfg, "--encryption-type", "SM3", "stat", "wcs://%s/a.bin" % bucket)
    assert run.status == 0 and run.json["body"]["hash"] == etag(local)
    run = run_wcscmd(capsys, "-c", cfg, "--dump-config", "--encryption-type", "SM3")
    assert "encryption_type = SM3\n" in run.out


def test_wcscmd_encryption_type_from_the_file_and_a_bad_value(capsys, emulator, bucket, tmp_path, make_file):
    cfg = _cfgfile(emulator, tmp_path, "encryption_type = SM3")
    run = run_wcscmd(capsys, "-c", cfg, "put", "wcs://%s/f.bin" % bucket, make_file(10))
    assert run.status == 0, run.err
    run = run_wcscmd(capsys, "-c", cfg, "list", "wcs://%s" % bucket, "-")
    assert run.status == 0 and [item["key"] for item in json.loads(run.out)["items"]] == ["f.bin"]
    run = run_wcscmd(capsys, "-c", cfg, "--encryption-type", "MD5", "stat", "wcs://%s/f.bin" % bucket)
    assert run.status == 2 and "--encryption-type" in run.err and "SHA-1 or SM3" in run.err
