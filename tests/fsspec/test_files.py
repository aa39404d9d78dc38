"""Reads and writes of ``wcs://`` files: ranges, a changed object, 0 bytes / 1 block / many blocks, ``xb``."""

import io
import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from wcs.commons.errors import IntegrityError
from wcs.commons.util import BLOCK_SIZE, etag_stream
from wcs.fs import FileExpired

MiB = 1024 * 1024


def payload(size, seed=1):
    """``size`` bytes that differ from block to block (so a misplaced block changes the hash)."""
    pattern = bytes((seed * 7 + i * 13) % 251 for i in range(4093))
    return (pattern * (size // len(pattern) + 1))[:size]


def counted(emulator, before, *names):
    after = emulator.counters
    return {name: after.get(name, 0) - before.get(name, 0) for name in names}


# -- reads ------------------------------------------------------------------------------------------


def test_cat_file_ranges_behave_like_slices(wcsfs, bucket):
    data = payload(100_000)
    wcsfs.pipe_file("%s/r.bin" % bucket, data)
    path = "wcs://%s/r.bin" % bucket
    assert wcsfs.cat_file(path) == data
    assert wcsfs.cat_file(path, 10, 20) == data[10:20]
    assert wcsfs.cat_file(path, start=99_990) == data[99_990:]
    assert wcsfs.cat_file(path, -10) == data[-10:]
    assert wcsfs.cat_file(path, 5, -5) == data[5:-5]
    assert wcsfs.cat_file(path, 90_000, 200_000) == data[90_000:]
    assert wcsfs.cat_file(path, 100_000, 100_010) == b""  # at the end: empty, as a slice
    assert wcsfs.cat_file(path, 50, 50) == b""


def test_cat_file_of_missing_objects_and_buckets(wcsfs, bucket):
    with pytest.raises(FileNotFoundError):
        wcsfs.cat_file("%s/missing" % bucket)
    with pytest.raises(FileNotFoundError):
        wcsfs.cat_file("no-such-bucket-here/x")
    with pytest.raises(FileNotFoundError):
        wcsfs.open("%s/missing" % bucket, "rb")


def test_cat_ranges_fetch_in_parallel_on_the_scheduler(wcsfs, bucket, monkeypatch):
    import wcs.fs.filesystem as module

    data = payload(50_000)
    for i in range(3):
        wcsfs.pipe_file("%s/p%d" % (bucket, i), data[i:])
    threads = set()
    fetch = module.fetch_range

    def recording(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return fetch(*args, **kwargs)

    monkeypatch.setattr(module, "fetch_range", recording)
    paths = ["%s/p%d" % (bucket, i) for i in range(3)] * 4 + ["%s/missing" % bucket]
    starts = [i * 100 for i in range(len(paths))]
    out = wcsfs.cat_ranges(paths, starts, [s + 1000 for s in starts])
    for index, (path, start) in enumerate(zip(paths[:-1], starts)):
        shift = int(path[-1])
        assert out[index] == data[shift:][start:start + 1000]
    assert isinstance(out[-1], FileNotFoundError)
    assert all(name.startswith("wcs-transfer") for name in threads), threads
    with pytest.raises(FileNotFoundError):
        wcsfs.cat_ranges(paths, starts, [s + 1 for s in starts], on_error="raise")


def test_reads_are_ranged_gets_of_the_blocks_asked_for(wcsfs, bucket, emulator):
    data = payload(300_000)
    wcsfs.pipe_file("%s/seek.bin" % bucket, data)
    with wcsfs.open("%s/seek.bin" % bucket, "rb", block_size=10_000, cache_type="bytes") as fp:
        before = emulator.counters
        fp.seek(200_000)
        assert fp.read(100) == data[200_000:200_100]
        fp.seek(-50, 2)
        assert fp.read() == data[-50:]
        assert counted(emulator, before, "download") == {"download": 2}


def test_a_reader_of_a_replaced_object_gets_file_expired(wcsfs, bucket, storage_options):
    import fsspec

    path = "%s/changing.bin" % bucket
    data = payload(200_000)
    wcsfs.pipe_file(path, data)
    with wcsfs.open(path, "rb", block_size=1024, cache_type="bytes") as fp:
        assert fp.read(100) == data[:100]
        other = fsspec.filesystem("wcs", skip_instance_cache=True, **storage_options)
        other.pipe_file(path, payload(200_000, seed=2))  # another writer replaces it
        fp.seek(150_000)
        with pytest.raises(FileExpired) as caught:
            fp.read(100)
    assert caught.value.e_tag == etag_stream(io.BytesIO(data))
    wcsfs.invalidate_cache()
    with wcsfs.open(path, "rb") as fp:  # opened again: the new version reads fine
        assert fp.read() == payload(200_000, seed=2)


def test_get_file_is_the_verified_download_with_progress(wcsfs, bucket, tmp_path):
    from fsspec.callbacks import Callback

    data = payload(3 * MiB)
    wcsfs.pipe_file("%s/d/big.bin" % bucket, data)
    seen = []

    class Recorder(Callback):
        def call(self, *args, **kwargs):
            seen.append((self.size, self.value))

    target = tmp_path / "out" / "big.bin"
    wcsfs.get_file("%s/d/big.bin" % bucket, str(target), callback=Recorder())
    assert target.read_bytes() == data
    assert seen and seen[-1] == (len(data), len(data))
    sink = io.BytesIO()
    wcsfs.get_file("%s/d/big.bin" % bucket, sink)
    assert sink.getvalue() == data


# -- writes ---------------------------------------------------------------------------------------


def test_write_of_zero_bytes_is_one_form_upload(wcsfs, bucket, emulator):
    before = emulator.counters
    with wcsfs.open("%s/empty" % bucket, "wb"):
        pass
    assert counted(emulator, before, "upload", "mkblk", "mkfile") == {"upload": 1, "mkblk": 0, "mkfile": 0}
    assert wcsfs.info("%s/empty" % bucket)["size"] == 0
    assert wcsfs.cat_file("%s/empty" % bucket) == b""
    assert wcsfs.ukey("%s/empty" % bucket) == etag_stream(io.BytesIO(b""))


def test_write_of_exactly_one_block_is_mkblk_and_mkfile(wcsfs, bucket, emulator):
    data = payload(BLOCK_SIZE)
    before = emulator.counters
    with wcsfs.open("%s/one" % bucket, "wb") as fp:
        for start in range(0, len(data), 100_000):
            fp.write(data[start:start + 100_000])
    assert counted(emulator, before, "upload", "mkblk", "mkfile") == {"upload": 0, "mkblk": 1, "mkfile": 1}
    assert wcsfs.cat_file("%s/one" % bucket) == data
    assert wcsfs.ukey("%s/one" % bucket) == etag_stream(io.BytesIO(data))


@pytest.mark.parametrize("concurrency", [0, 2])
def test_write_of_many_blocks_sends_them_as_they_fill(bucket, emulator, storage_options, concurrency):
    import fsspec

    wcsfs = fsspec.filesystem("wcs", skip_instance_cache=True, concurrency=concurrency, **storage_options)
    size = 3 * BLOCK_SIZE + 12345
    data = payload(size)
    emulator.reset_counters()
    with wcsfs.open("%s/many" % bucket, "wb") as fp:
        fp.write(data[:3 * BLOCK_SIZE + 10])
        assert len(emulator.mkblk_log) >= 1  # blocks go out while the file is still being written
        fp.write(data[3 * BLOCK_SIZE + 10:])
        assert len(fp.buffer.getbuffer()) < BLOCK_SIZE  # only the part short of a block stays buffered
    log = emulator.mkblk_log
    assert sorted((order, block_size) for _, order, block_size in log) == \
        [(0, BLOCK_SIZE), (1, BLOCK_SIZE), (2, BLOCK_SIZE), (3, 12345)]
    assert len({batch for batch, _, _ in log}) == 1  # one upload
    assert emulator.counters.get("mkfile") == 1 and emulator.counters.get("upload", 0) == 0
    assert wcsfs.cat_file("%s/many" % bucket) == data
    assert wcsfs.info("%s/many" % bucket)["etag"] == etag_stream(io.BytesIO(data))


WRITER = textwrap.dedent("""
    import json, sys
    import fsspec

    def status(name):
        with open("/proc/self/status") as fp:
            for line in fp:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024

    options, path, size = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    fs = fsspec.filesystem("wcs", **options)
    fs.pipe_file(path + ".warm", b"x" * (5 << 20))  # libraries and pools loaded, one block sent
    piece = bytes(range(256)) * 4096
    base = status("VmRSS")
    with fs.open(path, "wb") as fp:
        for _ in range(size // len(piece)):
            fp.write(piece)
    print(json.dumps({"grown": status("VmHWM") - base, "size": fs.info(path)["size"]}))
""")


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc/self/status (Linux)")
def test_memory_of_a_256_mib_write_stays_bounded(bucket, storage_options):
    # The writer runs in a subprocess (the emulator stays here), so its peak RSS is its own.
    size, limit = 256 * MiB, 64 * MiB
    options = dict(storage_options, concurrency=4)
    proc = subprocess.run([sys.executable, "-c", WRITER, json.dumps(options), "%s/large" % bucket, str(size)],
                          capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["size"] == size
    assert out["grown"] < limit, "writing 256 MiB grew peak RSS by %.1f MiB" % (out["grown"] / MiB)


def test_xb_refuses_an_existing_key_at_open_and_on_the_service(wcsfs, bucket, storage_options):
    import fsspec

    wcsfs.pipe_file("%s/x" % bucket, b"first")
    with pytest.raises(FileExistsError):
        wcsfs.open("%s/x" % bucket, "xb")
    other = fsspec.filesystem("wcs", skip_instance_cache=True, **storage_options)
    for name, size in (("small", 10), ("blocks", BLOCK_SIZE + 1)):
        fp = wcsfs.open("%s/%s" % (bucket, name), "xb")
        fp.write(payload(size))
        other.pipe_file("%s/%s" % (bucket, name), b"someone else was first")
        with pytest.raises(FileExistsError):
            fp.close()
        assert other.cat_file("%s/%s" % (bucket, name)) == b"someone else was first"


def test_xb_refuses_a_key_written_meanwhile_even_with_the_same_bytes(wcsfs, bucket, storage_options):
    """The one pipeline's rule: a 406 to a first mkfile stays a 406, even for identical content (the
    writer took it for a lost answer of its own and reported success)."""
    import fsspec

    other = fsspec.filesystem("wcs", skip_instance_cache=True, **storage_options)
    data = payload(BLOCK_SIZE + 5)
    fp = wcsfs.open("%s/same" % bucket, "xb")
    fp.write(data)
    other.pipe_file("%s/same" % bucket, data)
    with pytest.raises(FileExistsError):
        fp.close()


def test_an_exception_inside_a_with_block_stores_nothing(wcsfs, bucket):
    wcsfs.pipe_file("%s/old" % bucket, b"old content")
    for size in (10, BLOCK_SIZE + 10):
        with pytest.raises(RuntimeError):
            with wcsfs.open("%s/old" % bucket, "wb") as fp:
                fp.write(payload(size))
                raise RuntimeError("the writer failed half-way")
        assert fp.closed
        assert wcsfs.cat_file("%s/old" % bucket) == b"old content"


def test_pipe_file_create_mode_is_atomic_on_the_service(wcsfs, bucket):
    wcsfs.pipe_file("%s/c" % bucket, b"one", mode="create")
    with pytest.raises(FileExistsError):
        wcsfs.pipe_file("%s/c" % bucket, b"two", mode="create")
    with pytest.raises(FileExistsError):
        wcsfs.pipe_file("%s/c" % bucket, payload(BLOCK_SIZE), mode="create")
    assert wcsfs.cat_file("%s/c" % bucket) == b"one"


def test_a_transaction_makes_objects_appear_at_its_end(wcsfs, bucket):
    with wcsfs.transaction:
        with wcsfs.open("%s/t/small" % bucket, "wb") as fp:
            fp.write(b"small")
        with wcsfs.open("%s/t/big" % bucket, "wb") as fp:
            fp.write(payload(BLOCK_SIZE + 5))
        assert not wcsfs.exists("%s/t/small" % bucket) and not wcsfs.exists("%s/t/big" % bucket)
    assert wcsfs.cat_file("%s/t/small" % bucket) == b"small"
    assert wcsfs.cat_file("%s/t/big" % bucket) == payload(BLOCK_SIZE + 5)


@pytest.mark.parametrize("faults, error", [("mkfile:500:1", OSError), ("mkblk:corrupt:1", IntegrityError),
                                           ("upload:corrupt:1", IntegrityError)])
def test_a_failed_write_raises_and_leaves_no_object(wcsfs, bucket, emulator, faults, error):
    size = 100 if faults.startswith("upload") else BLOCK_SIZE + 1
    emulator.set_faults(faults)
    try:
        fp = wcsfs.open("%s/failed" % bucket, "wb")
        fp.write(payload(size))
        with pytest.raises(error):
            fp.close()
    finally:
        emulator.set_faults(None)
    if not faults.startswith("upload"):  # a corrupted form upload is stored (wrongly): the error says so
        assert not wcsfs.exists("%s/failed" % bucket)


def test_put_file_uses_multipart_above_one_block_with_progress(wcsfs, bucket, emulator, tmp_path):
    from fsspec.callbacks import Callback

    source = tmp_path / "nine.bin"
    source.write_bytes(payload(9 * MiB))
    callback = Callback()
    before = emulator.counters
    wcsfs.put_file(str(source), "%s/up/nine.bin" % bucket, callback=callback)
    assert counted(emulator, before, "mkblk", "mkfile", "upload") == {"mkblk": 3, "mkfile": 1, "upload": 0}
    assert (callback.size, callback.value) == (9 * MiB, 9 * MiB)
    assert wcsfs.ukey("%s/up/nine.bin" % bucket) == etag_stream(io.BytesIO(source.read_bytes()))
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello")
    wcsfs.put_file(str(small), "%s/up/small.txt" % bucket)
    with pytest.raises(FileExistsError):
        wcsfs.put_file(str(small), "%s/up/small.txt" % bucket, mode="create")
    assert wcsfs.cat_file("%s/up/small.txt" % bucket) == b"hello"
