"""Form upload, stream upload and smart upload against the emulator over HTTP."""

import io

import pytest

from tests.helpers.emulator_api import batch_log
from tests.helpers.files import MiB
from wcs.commons.errors import InvalidArgument, LocalFileError
from wcs.commons.util import etag, urlsafe_base64_decode


def test_simple_upload_stores_the_file_and_checks_its_hash(client, bucket, make_file):
    path = make_file(3 * MiB + 17)
    deltas = []
    res = client.simple_upload(path, bucket, "dir/a.bin", progress=deltas.append)
    code, body, headers = res  # unpacks like the official tuple
    assert code == 200 and res.ok
    assert res.data == {"hash": etag(path)}
    # The raw Base64 answer is the body, as the official SDK returns it; data has it decoded.
    assert res.text and body == res.text and urlsafe_base64_decode(body) == b"hash=" + etag(path).encode()
    assert headers["x-reqid"] and res.reqid == headers["x-reqid"]
    assert sum(deltas) == 3 * MiB + 17
    stat = client.stat(bucket, "dir/a.bin")
    assert stat.code == 200 and stat.body["fsize"] == 3 * MiB + 17 and stat.body["hash"] == etag(path)


def test_library_prints_nothing(client, bucket, make_file, capfd):
    path = make_file(10)
    client.simple_upload(path, bucket, "k")
    client.simple_upload(path, bucket, "k")  # a 406
    client.multipart_upload(path, bucket, "m")
    client.stat(bucket, "missing")
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("key", ["plain.txt", "spaces and ünïcödé/ключ.txt", "a+b=c&d?.txt"])
def test_simple_upload_keys(client, bucket, make_file, key):
    path = make_file(10)
    assert client.simple_upload(path, bucket, key).code == 200
    assert client.stat(bucket, key).body["fsize"] == 10


def test_simple_upload_empty_file(client, bucket, make_file):
    res = client.simple_upload(make_file(0), bucket, "empty")
    assert res.code == 200 and res.data["hash"] == "Fto5o-5ea0sNMlW_75VgGJCv2AcJ"


def test_existing_key_is_406_until_overwrite_is_configured(client, config, bucket, make_file):
    first, second = make_file(100, seed=1), make_file(200, seed=2)
    assert client.simple_upload(first, bucket, "k").code == 200
    res = client.simple_upload(second, bucket, "k")
    assert res.code == 406 and not res.ok and res.message
    with pytest.raises(Exception, match="406"):
        res.raise_for_status()
    config.overwrite = 1  # read at the next call, as in the official SDK's tests
    res = client.simple_upload(second, bucket, "k")
    assert res.code == 200 and res.data["hash"] == etag(second)
    assert client.stat(bucket, "k").body["fsize"] == 200


def test_overwrite_per_call(client, bucket, make_file):
    path = make_file(5)
    assert client.simple_upload(path, bucket, "k").code == 200
    assert client.simple_upload(path, bucket, "k", overwrite=1).code == 200


def test_upload_into_missing_bucket_is_631(client, make_file):
    res = client.simple_upload(make_file(5), "no-such-bucket-xyz", "k")
    assert res.code == 631 and res.reqid


def test_upload_with_wrong_secret_is_401(bad_client, bucket, make_file):
    assert bad_client.simple_upload(make_file(5), bucket, "k").code == 401


def test_mime_type_and_retention(client, bucket, make_file):
    res = client.simple_upload(make_file(5), bucket, "k", mime_type="image/x-test", deadline=3)
    assert res.code == 200
    stat = client.stat(bucket, "k").body
    assert stat["mimeType"] == "image/x-test" and stat["expirationDate"]


def test_return_url_answers_303_with_location(client, config, bucket, make_file):
    path = make_file(5)
    config.returnUrl = "http://127.0.0.1:9/done"
    res = client.simple_upload(path, bucket, "k")
    assert res.code == 303 and res.ok
    assert res.body.startswith("http://127.0.0.1:9/done?") and "hash=" + etag(path) in res.body
    assert res.reqid


def test_return_body_is_decoded_to_pairs(client, config, bucket, make_file):
    path = make_file(7)
    config.returnBody = "key=$(key)&fsize=$(fsize)&bucket=$(bucket)"
    res = client.simple_upload(path, bucket, "k")
    assert res.data == {"key": "k", "fsize": "7", "bucket": bucket, "hash": etag(path)}


def test_traffic_limit_header_is_accepted(client, config, bucket, make_file):
    config.traffic_limit = 1000
    assert client.simple_upload(make_file(5), bucket, "k").code == 200


def test_missing_file_raises_before_any_request(client, bucket, tmp_path, emulator):
    before = emulator.counters.get("upload", 0)
    with pytest.raises(LocalFileError):
        client.simple_upload(str(tmp_path / "nope"), bucket, "k")
    with pytest.raises(LocalFileError):
        client.simple_upload(str(tmp_path), bucket, "k")
    assert emulator.counters.get("upload", 0) == before


def test_file_truncated_while_sending_raises_local_file_error(client, emulator, bucket, make_file):
    path = make_file(4 * MiB)
    before = emulator.counters.get("upload", 0)

    def truncate_once(delta, done=[]):  # noqa: B006 - state of this one callback
        if not done:
            done.append(1)
            with open(path, "r+b") as fp:
                fp.truncate(MiB)

    with pytest.raises(LocalFileError, match="truncated"):
        client.simple_upload(path, bucket, "k", progress=truncate_once)
    assert emulator.counters.get("upload", 0) - before <= 1  # not retried as if the network had failed
    assert client.stat(bucket, "k").code == 404


def test_upload_survives_injected_faults(fast_client, bucket, make_file, faults):
    # About 20% of the attempts fail: answered 500/503, or the connection is reset mid-body.
    faults("upload:500:0.1,upload:503:0.05,upload:reset:0.05", seed=7)
    for i in range(8):
        path = make_file(64 * 1024 + i, seed=i)
        res = fast_client.simple_upload(path, bucket, "k%d" % i)
        assert res.code == 200 and res.data["hash"] == etag(path)


def test_no_response_is_minus_one(config, make_file):
    from wcs.services.client import Client

    cfg = config.replace(put_url="http://127.0.0.1:9", connection_retries=0)
    with Client(cfg) as cli:
        res = cli.simple_upload(make_file(5), "b", "k")
    assert res.code == -1 and not res.ok and res.error is not None


# -- stream upload ---------------------------------------------------------------------------------

def test_stream_upload_from_url(client, bucket, make_file):
    path = make_file(2 * MiB + 3)
    assert client.simple_upload(path, bucket, "source").code == 200
    deltas = []
    res = client.stream_upload(client.download_url(bucket, "source"), bucket, "copy", progress=deltas.append)
    assert res.code == 200 and res.data["hash"] == etag(path)
    assert sum(deltas) == 2 * MiB + 3
    assert client.stat(bucket, "copy").body["hash"] == etag(path)


def test_stream_upload_from_missing_url_uploads_nothing(client, bucket):
    res = client.stream_upload(client.download_url(bucket, "missing"), bucket, "copy")
    assert res.code == 404 and "source" in res.message
    assert client.stat(bucket, "copy").code == 404


def test_stream_upload_from_unreachable_url(config, bucket):
    from wcs.services.client import Client

    with Client(config.replace(connection_retries=0)) as cli:
        res = cli.stream_upload("http://127.0.0.1:9/x", bucket, "copy")
    assert res.code == -1


def test_stream_upload_from_file_object_and_path(client, bucket, make_file):
    data = b"streamed bytes" * 1000
    res = client.stream_upload(io.BytesIO(data), bucket, "from-io")
    assert res.code == 200 and client.stat(bucket, "from-io").body["fsize"] == len(data)
    path = make_file(1000)
    res = client.stream_upload(path, bucket, "from-path")
    assert res.code == 200 and res.data["hash"] == etag(path)


def test_stream_upload_refuses_other_sources(client, bucket):
    with pytest.raises(InvalidArgument):
        client.stream_upload(42, bucket, "k")
    with pytest.raises(InvalidArgument):
        client.stream_upload(io.StringIO("text"), bucket, "k")


# -- smart upload ----------------------------------------------------------------------------------

def test_smart_upload_picks_form_or_multipart(client, emulator, bucket, make_file):
    small = make_file(MiB)
    before = emulator.counters.get("upload", 0)
    res = client.smart_upload(small, bucket, "small", multi_size=1)
    assert res.code == 200 and emulator.counters.get("upload", 0) == before + 1
    big = make_file(MiB + 1)
    upload_id = client.new_upload_id()
    res = client.smart_upload(big, bucket, "big", multi_size=1, upload_id=upload_id)
    assert res.code == 200 and res.upload_id == upload_id and res.body["hash"] == etag(big)
    assert batch_log(emulator, upload_id) == [(0, MiB + 1)]


def test_a_key_with_control_characters_is_refused_before_sending(client, emulator, bucket, tmp_path):
    from wcs.commons.errors import InvalidArgument

    path = tmp_path / "f.txt"
    path.write_bytes(b"x")
    emulator.reset_counters()
    for upload in (client.simple_upload, client.multipart_upload):
        with pytest.raises(InvalidArgument, match="control characters"):
            upload(str(path), bucket, "line\nbreak")
    assert emulator.counters.get("upload", 0) == 0 and emulator.counters.get("mkblk", 0) == 0


def test_a_small_file_goes_as_one_body_and_its_progress_survives_retries(fast_client, bucket, make_file, faults):
    faults("upload:500:0.3,upload:reset:0.2", seed=3)
    for i in range(6):
        path = make_file(40 * 1024 + i, seed=i)
        deltas = []
        res = fast_client.simple_upload(path, bucket, "small%d" % i, progress=deltas.append)
        assert res.code == 200 and res.data["hash"] == etag(path)
        assert sum(deltas) == 40 * 1024 + i  # a retry takes back what it reported, then sends it all again


def test_a_small_file_shorter_than_its_size_is_refused_before_sending(client, emulator, bucket):
    import io

    before = emulator.counters.get("upload", 0)
    with pytest.raises(LocalFileError, match="shrank"):
        client.upload_fileobj(io.BytesIO(b"12345"), bucket, "short", size=10)
    assert emulator.counters.get("upload", 0) == before
