"""One block pipeline fed by different sources answers the same: a file, a stream, a buffer."""

import io
import os

import pytest

from tests.helpers.files import MiB
from wcs.commons.util import etag


@pytest.fixture
def existing(client, bucket, make_file):
    """A key holding 4 MiB + 5 bytes, and the file with exactly those bytes."""
    path = make_file(4 * MiB + 5, seed=7)
    assert client.multipart_upload(path, bucket, "exists").ok
    return path


def _stream(path):
    read_fd, write_fd = os.pipe()
    with open(path, "rb") as fp:
        data = fp.read()
    import threading

    def feed():
        with os.fdopen(write_fd, "wb") as out:
            out.write(data)

    threading.Thread(target=feed, daemon=True).start()
    return os.fdopen(read_fd, "rb")


@pytest.mark.parametrize("source", ["file", "stream", "buffered stream", "buffer"])
def test_the_same_bytes_again_without_overwrite_are_refused_from_every_source(client, bucket, existing, source):
    """406 from a file; a stream answered 200 (a first mkfile's 406 was taken for a lost answer)."""
    if source == "file":
        result = client.multipart_upload(existing, bucket, "exists", overwrite=0)
    elif source == "buffer":
        with open(existing, "rb") as fp:
            result = client.block_uploader().upload_buffer(fp.read(), bucket, "exists", overwrite=0)
    else:
        fp = _stream(existing) if source == "stream" else io.BufferedReader(io.BytesIO(open(existing, "rb").read()))
        with fp:
            result = client.upload_fileobj(fp, bucket, "exists", overwrite=0)
    assert result.code == 406, result
    assert client.stat(bucket, "exists").body["hash"] == etag(existing)


@pytest.mark.parametrize("size", [0, 5, 4 * MiB - 1, 4 * MiB, 8 * MiB + 3])
def test_a_stream_and_a_buffer_choose_form_or_blocks_by_the_same_rule(client, bucket, emulator, make_file, size):
    """Below one block: one form upload; from one block on: blocks (the fsspec writer: tests/fsspec)."""
    path = make_file(size, seed=size % 7)
    with open(path, "rb") as fp:
        data = fp.read()
    expected = {"upload": 0 if size >= 4 * MiB else 1, "mkfile": 1 if size >= 4 * MiB else 0}
    def from_stream(key):
        with _stream(path) as fp:
            return client.upload_fileobj(fp, bucket, key)

    uploads = {"stream": from_stream, "buffer": lambda key: client.block_uploader().upload_buffer(data, bucket, key)}
    for name, upload in uploads.items():
        before = emulator.counters
        result = upload("%s-%d" % (name, size))
        after = emulator.counters
        assert result.ok, (name, result)
        assert client.stat(bucket, "%s-%d" % (name, size)).body["hash"] == etag(path)
        kinds = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in expected}
        assert kinds == expected, (name, kinds)
