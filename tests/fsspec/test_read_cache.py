"""The read cache of ``wcs://`` files: what is asked for, plus a read-ahead only while reads are sequential.

The bytes fetched are counted on the wire, by a proxy between the filesystem and the emulator's
download endpoint (the benchmarks' link shaper with no delay and no rate limit).
"""

import io
import random

import pytest

from tests.bench.shaper import Link, Shaper
from wcs.fs import FileExpired
from wcs.fs.reads import GrowingReadAhead

MiB = 1024 * 1024


def payload(size, seed=1):
    rng = random.Random(seed)
    return rng.randbytes(size) if hasattr(rng, "randbytes") else bytes(rng.getrandbits(8) for _ in range(size))


class Fetcher:
    def __init__(self, data):
        self.data = data
        self.calls = []

    def __call__(self, start, end):
        self.calls.append((start, end))
        return self.data[start:end]


# -- the cache alone --------------------------------------------------------------------------------


def test_scattered_reads_fetch_exactly_what_they_ask():
    data = payload(100_000)
    fetch = Fetcher(data)
    cache = GrowingReadAhead(10_000, fetch, len(data))
    for start, end in [(90_000, 100_000), (1_000, 1_500), (40_000, 40_100), (20_000, 21_000)]:
        assert cache._fetch(start, end) == data[start:end]
    assert fetch.calls == [(90_000, 100_000), (1_000, 1_500), (40_000, 40_100), (20_000, 21_000)]
    assert cache.total_requested_bytes == 10_000 + 500 + 100 + 1_000


def test_sequential_reads_double_the_read_ahead_up_to_the_block_size():
    data = payload(10_000)
    fetch = Fetcher(data)
    cache = GrowingReadAhead(1_000, fetch, len(data))
    out = b"".join(cache._fetch(position, position + 100) for position in range(0, 10_000, 100))
    assert out == data
    assert fetch.calls[:5] == [(0, 100), (100, 300), (300, 600), (600, 1100), (1100, 2000)]
    assert all(end - start <= 1_100 for start, end in fetch.calls)
    assert len(fetch.calls) == 13 and cache.total_requested_bytes == 10_000
    # A seek elsewhere starts again from nothing.
    assert cache._fetch(5_000, 5_050) == data[5_000:5_050] and fetch.calls[-1] == (5_000, 5_050)


def test_a_read_starting_inside_the_buffer_fetches_only_what_it_lacks():
    data = payload(10_000)
    fetch = Fetcher(data)
    cache = GrowingReadAhead(1_000, fetch, len(data))
    assert cache._fetch(100, 300) == data[100:300]
    assert cache._fetch(250, 400) == data[250:400]
    assert cache._fetch(150, 200) == data[150:200]  # not kept: the buffer is the last fetch
    assert fetch.calls == [(100, 300), (300, 400), (150, 200)]


def test_reads_at_and_past_the_end_and_empty_reads():
    data = payload(1_000)
    fetch = Fetcher(data)
    cache = GrowingReadAhead(4_096, fetch, len(data))
    assert cache._fetch(990, 2_000) == data[990:]
    assert cache._fetch(1_000, 1_100) == b"" and cache._fetch(500, 500) == b"" and cache._fetch(None, None) == data
    assert fetch.calls == [(990, 1_000), (0, 1_000)]


# -- through the filesystem ---------------------------------------------------------------------------


@pytest.fixture
def proxy(emulator):
    """A counting proxy in front of the emulator: ``proxy.stats()["bytes_down"]`` is what came back."""
    host, port = emulator.url.split("//", 1)[1].rsplit(":", 1)
    with Shaper((host, int(port)), Link(rtt=0, conn_rate=0, total_rate=0, handshake=False)) as shaper:
        yield shaper


@pytest.fixture
def counted_fs(storage_options, proxy):
    """A filesystem whose downloads (only they) go through the counting proxy."""
    import fsspec

    fs = fsspec.filesystem("wcs", skip_instance_cache=True,
                           **dict(storage_options, download_url=proxy.url + "/{bucket}"))
    yield fs
    if fs._client is not None:
        fs._client.close()


def test_read_parquet_of_one_column_of_four_fetches_about_a_quarter_of_the_file(counted_fs, storage_options,
                                                                                bucket, proxy):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    import numpy

    rng = numpy.random.default_rng(5)
    frame = pd.DataFrame({name: rng.random(100_000) for name in "abcd"})
    path = "%s/columns.parquet" % bucket
    buffer = io.BytesIO()
    frame.to_parquet(buffer, row_group_size=12_500)  # 8 row groups, 8 chunks of ~100 KB per column
    size = len(buffer.getvalue())
    counted_fs.pipe_file(path, buffer.getvalue())
    options = dict(storage_options, download_url=proxy.url + "/{bucket}")
    proxy.reset_stats()
    column = pd.read_parquet("wcs://" + path, columns=["c"], storage_options=options)
    fetched = proxy.stats()["bytes_down"]
    assert column["c"].tolist() == frame["c"].tolist()
    assert fetched <= 0.35 * size, "%d of %d bytes fetched" % (fetched, size)
    # fsspec's readahead cache (the default before) pulls a block after every chunk.
    proxy.reset_stats()
    with counted_fs.open(path, "rb", cache_type="readahead") as fp:
        assert pd.read_parquet(fp, columns=["c"])["c"].tolist() == frame["c"].tolist()
    assert proxy.stats()["bytes_down"] > 0.5 * size


def test_scattered_reads_fetch_at_most_1_3_times_what_they_ask_on_the_wire(counted_fs, bucket, proxy):
    data = payload(4 * MiB, seed=2)
    path = "%s/scattered.bin" % bucket
    counted_fs.pipe_file(path, data)
    rng = random.Random(3)
    starts = sorted(rng.sample(range(0, 4 * MiB - 40_000, 40_000), 40))
    asked = 0
    proxy.reset_stats()
    with counted_fs.open(path, "rb") as fp:
        for start in rng.sample(starts, len(starts)):  # in no order, never adjacent
            length = rng.randrange(4_000, 30_000)
            fp.seek(start)
            assert fp.read(length) == data[start:start + length]
            asked += length
    fetched = proxy.stats()["bytes_down"]  # bodies and response headers
    assert fetched <= 1.3 * asked, "%d bytes fetched for %d asked" % (fetched, asked)


def test_a_sequential_read_gets_its_read_ahead_and_no_byte_twice(counted_fs, bucket, proxy, emulator):
    data = payload(12 * MiB, seed=3)
    path = "%s/sequential.bin" % bucket
    counted_fs.pipe_file(path, data)
    before = emulator.counters.get("download", 0)
    proxy.reset_stats()
    with counted_fs.open(path, "rb", block_size=2 * MiB) as fp:
        out = b"".join(iter(lambda: fp.read(256 * 1024), b""))
    assert out == data
    requests = emulator.counters.get("download", 0) - before
    # 256 KiB, then read-aheads of 256 KiB, 512 KiB, 1 MiB, then 2 MiB: about one request per 2.25 MiB.
    assert requests <= 9, requests
    assert proxy.stats()["bytes_down"] < 12 * MiB + requests * 4096


def test_a_replaced_object_is_file_expired_with_the_default_cache(wcsfs, bucket, storage_options):
    import fsspec

    path = "%s/replaced.bin" % bucket
    data = payload(300_000, seed=4)
    wcsfs.pipe_file(path, data)
    with wcsfs.open(path, "rb") as fp:
        assert fp.read(1000) == data[:1000]
        other = fsspec.filesystem("wcs", skip_instance_cache=True, **storage_options)
        other.pipe_file(path, payload(300_000, seed=5))
        fp.seek(200_000)
        with pytest.raises(FileExpired):
            fp.read(100)
