"""``Client.upload_fileobj(fp, bucket, key)`` of a stream of unknown length: blocks as they fill, bounded memory."""

import io
import os
import threading

import pytest

from tests.helpers.files import MiB
from tests.helpers.files import etag_of as _etag
from wcs.commons.errors import IntegrityError, InvalidArgument


class _Pipe:
    """The read end of an OS pipe fed by a thread: a real stream that cannot seek and has no size."""

    def __init__(self, data, piece=64 * 1024):
        read_fd, write_fd = os.pipe()
        self.reader = os.fdopen(read_fd, "rb", buffering=0)
        self._writer = threading.Thread(target=self._write, args=(write_fd, data, piece), daemon=True)
        self._writer.start()

    @staticmethod
    def _write(fd, data, piece):
        with os.fdopen(fd, "wb", buffering=0) as fp:
            for start in range(0, len(data), piece):
                try:
                    fp.write(data[start:start + piece])
                except BrokenPipeError:
                    return

    def close(self):
        self.reader.close()
        self._writer.join(10)


@pytest.fixture
def pipe():
    made = []

    def make(data, piece=64 * 1024):
        made.append(_Pipe(data, piece))
        return made[-1].reader

    yield make
    for item in made:
        item.close()


@pytest.mark.parametrize("size", [0, 1, 300 * 1024, 4 * MiB - 1, 4 * MiB, 8 * MiB, 9 * MiB + 5])
def test_stream_of_any_length_is_stored_exactly(client, bucket, pipe, size):
    data = os.urandom(size)
    deltas = []
    res = client.upload_fileobj(pipe(data), bucket, "s/%d" % size, progress=deltas.append)
    assert res.ok, res
    assert res.data["hash"] == _etag(data) and res.upload_id is None  # nothing to resume
    stat = client.stat(bucket, "s/%d" % size).raise_for_status()
    assert stat.body["fsize"] == size and stat.body["hash"] == _etag(data)
    assert sum(deltas) == size


def test_short_stream_is_one_form_upload_long_one_multipart(client, bucket, pipe, emulator):
    emulator.reset_counters()
    assert client.upload_fileobj(pipe(b"tiny"), bucket, "tiny").ok
    counters = emulator.counters
    assert counters.get("upload") == 1 and not counters.get("mkblk")
    emulator.reset_counters()
    assert client.upload_fileobj(pipe(os.urandom(9 * MiB)), bucket, "long").ok
    counters = emulator.counters
    assert counters.get("mkblk") == 3 and counters.get("mkfile") == 1 and not counters.get("upload")


@pytest.mark.parametrize("concurrency", [0, 1, 3])
def test_stream_holds_at_most_concurrency_plus_one_blocks(client, bucket, monkeypatch, concurrency):
    from wcs.services import sources

    client.cfg.concurrency = concurrency
    block = client.cfg.block_size
    allocated = []

    def counted(size):
        allocated.append(size)
        return bytearray(size)

    monkeypatch.setattr(sources, "bytearray", counted, raising=False)
    data = os.urandom(10 * block + 7)
    res = client.upload_fileobj(io.BufferedReader(io.BytesIO(data)), bucket, "bounded-%d" % concurrency)
    assert res.ok and res.data["hash"] == _etag(data)
    assert allocated == [block] * len(allocated) and len(allocated) <= max(concurrency, 1) + 1, allocated
    # Peak RSS of a 256 MiB stream: tests/functional/test_memory.py.


def test_stream_upload_with_every_option_and_subscribers(client, bucket, pipe):
    events = []

    class Listener:
        def on_queued(self, transfer):
            events.append(("queued", transfer.key, transfer.size))

        def on_done(self, transfer, error):
            events.append(("done", error))

    data = os.urandom(5 * MiB)
    res = client.upload_fileobj(pipe(data), bucket, "opts.txt", subscribers=[Listener()], mime_type="text/plain",
                                deadline=3)
    assert res.ok
    assert events == [("queued", "opts.txt", None), ("done", None)]
    stat = client.stat(bucket, "opts.txt").body
    assert stat["mimeType"] == "text/plain" and stat["expirationDate"]
    again = client.upload_fileobj(pipe(os.urandom(5 * MiB)), bucket, "opts.txt")
    assert again.code == 406  # overwrite 0, as for files (also the same bytes: a first mkfile's 406 stands)
    assert client.upload_fileobj(pipe(b"new"), bucket, "opts.txt", overwrite=1).ok


def test_stream_block_failure_is_a_result_not_resumable(fast_client, bucket, pipe, faults):
    fast_client.cfg.update(mkblk_retries=0, connection_retries=0)
    faults("mkblk:500:1.0")
    res = fast_client.upload_fileobj(pipe(os.urandom(9 * MiB)), bucket, "failing")
    assert res.code == 500 and res.upload_id is None


def test_stream_hash_mismatch_is_an_integrity_error(client, bucket, pipe, monkeypatch):
    from wcs.services import blocksteps

    mkfile = blocksteps.BlockSteps.mkfile

    def lying(self, *args, **kwargs):
        result = mkfile(self, *args, **kwargs)
        result.body["hash"] = "Fqr0xh3cxeii2r7eDztILNmuqUNN"
        return result

    monkeypatch.setattr(blocksteps.BlockSteps, "mkfile", lying)
    with pytest.raises(IntegrityError):
        client.upload_fileobj(pipe(os.urandom(5 * MiB)), bucket, "lied")


def test_text_streams_and_sizes_without_seek_are_refused(client, bucket, pipe):
    with pytest.raises(InvalidArgument, match="binary"):
        client.upload_fileobj(io.StringIO("text"), bucket, "t")
    with pytest.raises(InvalidArgument, match="seekable"):
        client.upload_fileobj(pipe(b"abc"), bucket, "t", size=3)
    assert client.upload_fileobj(io.BytesIO(b"abcdef"), bucket, "sized", size=6).data["hash"] == _etag(b"abcdef")
