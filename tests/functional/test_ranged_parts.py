"""Ranged downloads cut so that the connections finish together: parts that share an etag block, what
their checkpoint records when some of them fail, and resuming from it (also from a checkpoint of
the fixed-size parts of earlier versions)."""

import hashlib
import http.server
import json
import os
import time

import pytest

from tests.helpers.files import MiB, write_file
from tests.helpers.servers import loopback_server
from wcs.commons.util import BLOCK_SIZE, etag
from wcs.services.client import Client
from wcs.services.partplan import plan_parts
from wcs.services.ranged import CHECKPOINT_NAME, PARTIAL_NAME, staging_path


class _Ranges(http.server.BaseHTTPRequestHandler):
    """Serves ``server.data`` with Range support and an ETag; logs every range asked in ``server.ranges``.
    A range starting at an offset in ``server.refuse`` is refused (403), once ``server.others`` more
    ranges were asked (so that the parts running beside it have started and are not cancelled)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # name fixed by http.server
        data = self.server.data
        start, end = 0, len(data) - 1
        wanted = self.headers.get("Range")
        if wanted:
            first, _, last = wanted.split("=", 1)[1].partition("-")
            start, end = int(first), int(last) if last else len(data) - 1
        self.server.ranges.append((start, end))
        if start in self.server.refuse:
            deadline = time.monotonic() + 10
            while len(self.server.ranges) <= self.server.others and time.monotonic() < deadline:
                time.sleep(0.005)
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if wanted else 200)
        if wanted:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("ETag", '"%s"' % self.server.etag)
        self.end_headers()
        self.wfile.write(data[start:end + 1])

    def log_message(self, *args):
        pass


def _serve(path, refuse=(), others=0):
    with open(path, "rb") as fp:
        data = fp.read()
    return loopback_server(_Ranges, data=data, etag=etag(path), refuse=set(refuse), others=others, ranges=[])


def _block_sha1s(data):
    return {i // BLOCK_SIZE: hashlib.sha1(data[i:i + BLOCK_SIZE]).hexdigest() for i in range(0, len(data), BLOCK_SIZE)}


@pytest.mark.parametrize("concurrency,size", [(3, 10 * MiB + 7), (8, 9 * MiB + 5), (2, 10 * MiB + 3)])
def test_parts_sharing_etag_blocks_assemble_the_object_and_verify_it(config, tmp_path, concurrency, size):
    config.update(download_threshold=MiB, download_part_size=4 * MiB, concurrency=concurrency)
    path = write_file(tmp_path / "src.bin", size, seed=concurrency)
    plan = plan_parts(size, 4 * MiB, concurrency)
    assert any(first % BLOCK_SIZE for first, _ in plan), "the plan cuts inside a block"
    target = tmp_path / "out.bin"
    with _serve(path) as server, Client(config) as client:
        url = "http://127.0.0.1:%d/obj" % server.server_address[1]
        deltas = []
        result = client.download(url, target, size=size, expected_hash=etag(path), progress=deltas.append)
    assert result.ok and result.body["hash"] == etag(path)
    assert target.read_bytes() == open(path, "rb").read()
    assert sorted(server.ranges) == plan  # one request per part, exactly the planned ranges
    assert sum(deltas) == size
    assert sorted(os.listdir(tmp_path)) == ["out.bin", "src.bin"]


def test_a_failed_part_leaves_only_blocks_whose_every_piece_is_on_disk_and_the_rerun_fetches_the_rest(
        config, tmp_path):
    config.update(download_threshold=MiB, download_part_size=4 * MiB, concurrency=3)
    size = 10 * MiB + 7  # three parts of ~3.3 MiB: blocks 0 and 1 are each shared by two parts
    path = write_file(tmp_path / "src.bin", size, seed=11)
    data = open(path, "rb").read()
    (first_part, middle, last_part) = plan_parts(size, 4 * MiB, 3)
    target = tmp_path / "out.bin"
    folder = staging_path(str(target))
    with _serve(path, refuse=[middle[0]], others=2) as server, Client(config) as client:
        url = "http://127.0.0.1:%d/obj" % server.server_address[1]
        failed = client.download(url, target, size=size, expected_hash=etag(path))
        assert failed.code == 403 and not target.exists()
        with open(os.path.join(folder, CHECKPOINT_NAME), encoding="utf-8") as fp:
            recorded = json.load(fp)
        # The first and last parts are on disk, but blocks 0 and 1 each miss the failed part's piece:
        # only block 2 (inside the last part) is recorded, with its true digest.
        assert recorded["part_size"] == BLOCK_SIZE
        assert recorded["parts"] == {"2": [_block_sha1s(data)[2]]}
        server.refuse.clear()
        del server.ranges[:]
        result = client.download(url, target, size=size, expected_hash=etag(path))
    assert result.ok and target.read_bytes() == data
    assert sorted(server.ranges) == [(0, BLOCK_SIZE - 1), (BLOCK_SIZE, 2 * BLOCK_SIZE - 1)]  # the missing blocks only
    assert not os.path.exists(folder)


def test_a_checkpoint_of_the_fixed_8_mib_parts_of_earlier_versions_is_resumed(config, tmp_path):
    config.update(download_threshold=MiB, download_part_size=8 * MiB, concurrency=1)
    size = 3 * BLOCK_SIZE + 12345  # parts 0..8 MiB and 8 MiB..end, one at a time
    path = write_file(tmp_path / "src.bin", size, seed=12)
    data = open(path, "rb").read()
    target = tmp_path / "out.bin"
    folder = staging_path(str(target))
    with _serve(path, refuse=[8 * MiB]) as server, Client(config) as client:
        url = "http://127.0.0.1:%d/obj" % server.server_address[1]
        assert client.download(url, target, size=size, expected_hash=etag(path)).code == 403
        checkpoint = os.path.join(folder, CHECKPOINT_NAME)
        with open(checkpoint, encoding="utf-8") as fp:
            recorded = json.load(fp)
        digests = _block_sha1s(data)
        assert recorded["parts"] == {"0": [digests[0]], "1": [digests[1]]}
        # What an earlier version wrote for the same state: part 0 of 8 MiB with its two block digests.
        recorded.update(part_size=8 * MiB, parts={"0": [digests[0], digests[1]]})
        with open(checkpoint, "w", encoding="utf-8") as fp:
            json.dump(recorded, fp)
        # Its partial file also holds bytes of a block it never recorded: they are fetched again.
        with open(os.path.join(folder, PARTIAL_NAME), "r+b") as fp:
            fp.seek(2 * BLOCK_SIZE)
            fp.write(b"junk")
        server.refuse.clear()
        del server.ranges[:]
        assert client.download(url, target, size=size, expected_hash=etag(path)).ok
    assert target.read_bytes() == data
    assert server.ranges == [(8 * MiB, size - 1)]
