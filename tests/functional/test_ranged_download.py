"""Downloads on the download domain: parallel ranges, resume across runs, pipes, mid-body resets."""

import http.server
import io
import os

import pytest

from tests.helpers.files import write_file
from tests.helpers.servers import loopback_server
from wcs.commons.errors import ConfigError, IntegrityError
from wcs.commons.util import etag
from wcs.services.client import Client
from wcs.services.ranged import CHECKPOINT_NAME, PARTIAL_NAME, staging_path

MiB = 1024 * 1024


class Stop(Exception):
    pass


@pytest.fixture
def ranged(config):
    """The config with objects of 8 MiB or more fetched as 4 MiB ranges, two at a time."""
    config.update(download_threshold=8 * MiB, download_part_size=4 * MiB, concurrency=2)
    return config


def test_no_download_domain_is_a_config_error_naming_the_key(config, bucket):
    config.download_url = ""
    with Client(config) as client, pytest.raises(ConfigError) as info:
        client.download_file(bucket, "k", "/nonexistent/never-written")
    assert info.value.key == "download_url" and "download_url" in str(info.value)


def test_per_bucket_domain_wins_over_the_template(config):
    config.update(download_url="http://{bucket}.example.com", download_domains="site=https://cdn.example.com")
    with Client(config) as client:
        assert client.download_url("b", "a b/c.txt") == "http://b.example.com/a%20b/c.txt"
        assert client.download_url("site", "k") == "https://cdn.example.com/k"


def test_large_object_comes_as_parallel_ranges_and_is_verified(ranged, emulator, bucket, tmp_path):
    path = write_file(tmp_path / "big.bin", 5 * 4 * MiB + 123, seed=3)
    with Client(ranged) as client:
        assert client.multipart_upload(path, bucket, "big").ok
        emulator.reset_counters()
        deltas = []
        target = tmp_path / "out.bin"
        res = client.download_file(bucket, "big", target, progress=deltas.append)
    assert res.code == 200 and res.body["hash"] == etag(path) and res.body["fsize"] == os.path.getsize(path)
    assert open(target, "rb").read() == open(path, "rb").read()
    assert emulator.counters.get("download", 0) == 6  # six 4 MiB parts, one request each
    assert sum(deltas) == os.path.getsize(path) and max(deltas) <= MiB
    assert sorted(os.listdir(tmp_path)) == ["big.bin", "out.bin", "records"] or \
        sorted(os.listdir(tmp_path)) == ["big.bin", "out.bin"]


def test_interrupted_download_fetches_only_the_missing_parts(ranged, emulator, bucket, tmp_path):
    path = write_file(tmp_path / "big.bin", 10 * 4 * MiB + 5, seed=4)
    target = tmp_path / "out.bin"
    part = os.path.join(staging_path(str(target)), PARTIAL_NAME)
    checkpoint = os.path.join(staging_path(str(target)), CHECKPOINT_NAME)
    with Client(ranged) as client:
        assert client.multipart_upload(path, bucket, "big").ok
        got = [0]

        def stop_half_way(delta):
            got[0] += delta
            if got[0] > 20 * MiB:
                raise Stop()

        with pytest.raises(Stop):
            client.download_file(bucket, "big", target, progress=stop_half_way)
        assert not target.exists() and os.path.exists(part) and os.path.exists(checkpoint)
        emulator.reset_counters()
        deltas = []
        res = client.download_file(bucket, "big", target, progress=deltas.append)
    assert res.ok and open(target, "rb").read() == open(path, "rb").read()
    resumed = deltas[0]
    assert resumed >= 4 * 4 * MiB, "the parts finished before the interruption count as done"
    assert sum(deltas) == os.path.getsize(path)
    # Only what was missing is fetched again: at most the parts not recorded.
    assert emulator.counters.get("download", 0) <= 11 - resumed // (4 * MiB)
    assert not os.path.exists(staging_path(str(target)))


def test_a_changed_object_starts_over(ranged, emulator, bucket, tmp_path):
    first = write_file(tmp_path / "v1.bin", 3 * 4 * MiB, seed=5)
    second = write_file(tmp_path / "v2.bin", 3 * 4 * MiB, seed=6)
    target = tmp_path / "out.bin"
    with Client(ranged) as client:
        assert client.multipart_upload(first, bucket, "obj").ok
        with pytest.raises(Stop):
            client.download_file(bucket, "obj", target, progress=lambda d: (_ for _ in ()).throw(Stop()))
        assert client.multipart_upload(second, bucket, "obj", overwrite=1).ok
        res = client.download_file(bucket, "obj", target)
    assert res.ok and open(target, "rb").read() == open(second, "rb").read()


def test_download_into_a_stream(config, bucket, tmp_path):
    path = write_file(tmp_path / "f.bin", 3 * MiB + 7, seed=7)
    with Client(config) as client:
        assert client.simple_upload(path, bucket, "f").ok
        out = io.BytesIO()
        res = client.download_fileobj(bucket, "f", out)
    assert res.ok and out.getvalue() == open(path, "rb").read() and res.body["hash"] == etag(path)


class _Cutting(http.server.BaseHTTPRequestHandler):
    """Serves ``server.data`` with Range support; the first response of each range is cut after 1 MiB."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # name fixed by http.server
        data = self.server.data
        start, end = 0, len(data) - 1
        wanted = self.headers.get("Range")
        if wanted:
            first, _, last = wanted.split("=", 1)[1].partition("-")
            start, end = int(first), int(last) if last else len(data) - 1
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("ETag", '"%s"' % self.server.etag)
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        body = data[start:end + 1]
        self.server.ranges.append(wanted)
        if self.server.cuts > 0:
            self.server.cuts -= 1
            self.wfile.write(body[:MiB])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("size", [3 * MiB, 12 * MiB])
def test_a_reset_mid_body_continues_from_the_last_byte(ranged, tmp_path, size):
    data = os.urandom(size)
    src = write_file(tmp_path / "src.bin", 0)
    with open(src, "wb") as fp:
        fp.write(data)
    with loopback_server(_Cutting, data=data, etag=etag(src), cuts=2, ranges=[]) as server:
        url = "http://127.0.0.1:%d/obj" % server.server_address[1]
        with Client(ranged) as client:
            res = client.download(url, tmp_path / "out.bin", size=size, expected_hash=etag(src))
        assert res.ok and open(tmp_path / "out.bin", "rb").read() == data
        assert any(r and r.startswith("bytes=%d-" % MiB) for r in server.ranges), server.ranges


def test_a_lying_etag_is_an_integrity_error_and_leaves_nothing(ranged, tmp_path):
    data = os.urandom(12 * MiB)
    with loopback_server(_Cutting, data=data, etag="FakeFakeFakeFakeFakeFakeFake", cuts=0, ranges=[]) as server:
        url = "http://127.0.0.1:%d/obj" % server.server_address[1]
        with Client(ranged) as client, pytest.raises(IntegrityError):
            client.download(url, tmp_path / "out.bin")
    assert os.listdir(tmp_path) == []
