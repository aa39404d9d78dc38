"""How service requests are built: queries, bodies, argument checks, answer decoding, config checks."""

import pytest

from wcs.commons.config import Config
from wcs.commons.errors import ConfigError, IntegrityError, InvalidArgument
from wcs.commons.http import Result, decode_body
from wcs.commons.util import urlsafe_base64_encode
from wcs.services.base import encode_query, form_body
from wcs.services.bucket import check_limit, check_mode
from wcs.services.client import Client
from wcs.services.download import header_etag
from wcs.services.formupload import verify_hash
from wcs.services.jobs import build_op, fmgr_body, fops_body


def test_encode_query_keeps_base64_markers_and_dates_byte_for_byte():
    query = encode_query([("bucket", "my-bucket"), ("prefix", "YS9i"), ("marker", "bWFyaw=="),
                          ("startTime", 1600000000000), ("limit", None), ("date", "2024-01-02")])
    assert query == "bucket=my-bucket&prefix=YS9i&marker=bWFyaw==&startTime=1600000000000&date=2024-01-02"


def test_encode_query_escapes_what_a_url_cannot_carry():
    assert encode_query({"channelname": "a b&c|d+e/f"}) == "channelname=a%20b%26c%7Cd%2Be%2Ff"


def test_form_body_is_raw():
    assert form_body([("bucket", "Yg=="), ("deadline", -1), ("skip", None)]) == "bucket=Yg==&deadline=-1"


@pytest.mark.parametrize("value, expected", [(1, 1), (1000, 1000), ("20", 20)])
def test_limit_accepted(value, expected):
    assert check_limit(value) == expected


@pytest.mark.parametrize("value", [0, -1, 1001, "x", None, True])
def test_limit_refused(value):
    with pytest.raises(InvalidArgument):
        check_limit(value)


@pytest.mark.parametrize("value, expected", [(None, None), (3, None), ("3", None), (0, 0), (1, 1), ("1", 1)])
def test_mode(value, expected):
    assert check_mode(value) == expected


@pytest.mark.parametrize("value", [2, -1, "x"])
def test_mode_refused(value):
    with pytest.raises(InvalidArgument):
        check_mode(value)


def test_fmgr_body_follows_reference_7_1():
    ops = "bucket/Yg==/key/YQ==;bucket/Yg==/key/Yw=="
    assert fmgr_body(ops) == "fops=" + ops
    assert fmgr_body(ops, "http://n.example/cb", force=1, separate=1) == \
        "fops=%s&notifyURL=%s&force=1&separate=1" % (ops, urlsafe_base64_encode("http://n.example/cb"))
    assert fmgr_body(ops, "", force=0, separate="0") == "fops=" + ops


def test_fops_body_base64s_the_whole_op_list():
    ops = "avthumb/mp4|saveas/YjprLm1wNA==;vframe/jpg/offset/1"
    body = fops_body(ops, "b", "k.mp4", "http://n/cb", force=1, separate=0)
    assert body == "bucket=Yg==&key=ay5tcDQ=&fops=%s&notifyURL=%s&force=1" % (
        urlsafe_base64_encode(ops), urlsafe_base64_encode("http://n/cb"))


def test_build_op():
    assert build_op("avthumb", "mp4", {"vb": "1.25m"}, "b", "k") == \
        "avthumb/mp4/vb/1.25m|saveas/" + urlsafe_base64_encode("b:k")


@pytest.mark.parametrize("value, expected", [
    ('"Fto5o-5ea0sNMlW_75VgGJCv2AcJ"', "Fto5o-5ea0sNMlW_75VgGJCv2AcJ"),
    ('W/"lhCFgki5yzon0rjN9uJusf6qtsF6"', "lhCFgki5yzon0rjN9uJusf6qtsF6"),
    ('"d41d8cd98f00b204e9800998ecf8427e"', None),  # an MD5 etag from some other server
    ("", None),
    (None, None),
])
def test_header_etag(value, expected):
    assert header_etag(value) == expected


def test_form_upload_answer_decodes_to_pairs():
    body = decode_body("aGFzaD1GcXIweGgzY3hlaWkycjdlRHp0SUxObXVxVU5O")
    assert body == {"hash": "Fqr0xh3cxeii2r7eDztILNmuqUNN"}
    assert Result(200, body, {}).answered_hash == "Fqr0xh3cxeii2r7eDztILNmuqUNN"


def test_verify_hash_reads_a_303s_location():
    moved = Result(303, "http://www.abc.com/done?bucket=b&key=k&hash=FqHASH", {})
    assert verify_hash(moved, "FqHASH", "upload") is moved
    with pytest.raises(IntegrityError):
        verify_hash(moved, "FqOTHER", "upload")


def test_verify_hash():
    ok = Result(200, {"hash": "A"}, {"x-reqid": "r"})
    assert verify_hash(ok, "A", "upload") is ok
    with pytest.raises(IntegrityError) as info:
        verify_hash(ok, "B", "upload")
    assert info.value.result is ok and "reqid r" in str(info.value)
    failed = Result(406, {"hash": "A"}, {})
    assert verify_hash(failed, "B", "upload") is failed  # nothing stored, nothing to compare


@pytest.mark.parametrize("call", [
    lambda c: c.stat("b", "k"),
    lambda c: c.list_buckets(),
    lambda c: c.delete("b", "k"),
])
def test_missing_credentials_raise_config_error_with_hint(call):
    with Client(Config()) as client:
        with pytest.raises(ConfigError, match="wcscmd --configure"):
            call(client)


def test_missing_mgr_url_raises_config_error():
    with Client(Config(access_key="a", secret_key="s")) as client:
        with pytest.raises(ConfigError, match="mgr_url"):
            client.stat("b", "k")
        with pytest.raises(ConfigError, match="mgr_url"):
            client.fmgr_status("id")  # unsigned, but still needs the host


def test_missing_put_url_raises_config_error(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x")
    with Client(Config(access_key="a", secret_key="s", tmp_record_folder=str(tmp_path / "records"))) as client:
        with pytest.raises(ConfigError, match="put_url"):
            client.simple_upload(str(path), "b", "k")
        with pytest.raises(ConfigError, match="put_url"):
            client.multipart_upload(str(path), "b", "k")


def test_download_url():
    with Client(Config(download_url="127.0.0.1:1234/{bucket}")) as client:
        assert client.download_url("b", "dir/a b#?.txt") == "http://127.0.0.1:1234/b/dir/a%20b%23%3F.txt"
    with Client(Config(download_url="{bucket}.example.com", ishttps=True)) as client:
        assert client.download_url("b", "k") == "https://b.example.com/k"
    with Client(Config(mgr_url="example.com")) as client, pytest.raises(ConfigError, match="download_url"):
        client.download_url("b", "k")  # never the management host


def test_caller_mistakes_raise_before_any_request(tmp_path):
    cfg = Config(access_key="a", secret_key="s", put_url="127.0.0.1:9", mgr_url="127.0.0.1:9",
                 tmp_record_folder=str(tmp_path / "records"))
    with Client(cfg) as client:
        # limit 0 is not a mistake: as in the official SDK it takes the config's (issue 13); mode 2 is dropped.
        assert client._list_args(None, None, 0, 2) == dict(prefix=None, marker=None, limit=1000, mode=None)
        with pytest.raises(InvalidArgument):
            client.bucket_list("b", limit=1001)
        with pytest.raises(InvalidArgument):
            client.setdeadline("b", "k", "soon")
        with pytest.raises(OSError):  # LocalFileError is an OSError
            client.simple_upload(str(tmp_path / "missing"), "b", "k")
        with pytest.raises(OSError):
            client.multipart_upload(str(tmp_path), "b", "k")
        with pytest.raises(InvalidArgument):
            client.multipart_upload(__file__, "b", "k", upload_id="../../etc")
        with pytest.raises(InvalidArgument):
            client.stream_upload(12, "b", "k")


@pytest.mark.parametrize("settings, call_args, error", [
    ({}, {}, ConfigError),  # no put_url
    ({"put_url": "127.0.0.1:9", "access_key": ""}, {}, ConfigError),  # no key pair
    ({"put_url": "127.0.0.1:9"}, {"overwrite": "yes"}, InvalidArgument),
    ({"put_url": "127.0.0.1:9"}, {"deadline": "soon"}, InvalidArgument),
    ({"put_url": "127.0.0.1:9"}, {"path": "missing"}, OSError),
])
def test_multipart_upload_refused_up_front_leaves_no_record(tmp_path, settings, call_args, error):
    records = tmp_path / "records"
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    values = dict(access_key="a", secret_key="s", tmp_record_folder=str(records), connection_retries=0)
    values.update(settings)
    call_args = dict(call_args)
    target = str(tmp_path / call_args.pop("path", "f"))
    with Client(Config(**values)) as client:
        with pytest.raises(error):
            client.multipart_upload(target, "b", "k", upload_id="refused", **call_args)
    assert not (records / "refused").exists()
