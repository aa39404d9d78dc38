"""The etag cache: hits by identity, misses after any change (even with mtime set back), fallbacks."""

import os
import threading
import time

import pytest

from wcs.commons.errors import Cancelled
from wcs.commons.util import etag
from wcs.services.tree import hashcache
from wcs.services.tree.hashcache import EtagCache, default_cache_path
from wcs.services.tree.localtree import LocalFile


def entry(path):
    return LocalFile.from_stat(os.path.basename(path), path, os.stat(path))


def later():
    """A clock ten seconds ahead: every file was last changed long before its etag is computed."""
    return time.time_ns() + 10 * 10 ** 9


def test_computed_once_then_read_from_the_database(tmp_path):
    data = tmp_path / "f.bin"
    data.write_bytes(os.urandom(5 * 1024 * 1024))
    db = str(tmp_path / "cache" / "etags.sqlite")
    with EtagCache(db, clock=later) as cache:
        assert cache.etag(entry(str(data))) == etag(str(data))
        assert (cache.files_hashed, cache.bytes_read) == (1, 5 * 1024 * 1024)
    with EtagCache(db, clock=later) as cache:  # another run
        assert cache.etag(entry(str(data))) == etag(str(data))
        assert (cache.files_hashed, cache.bytes_read) == (0, 0)


def test_same_size_edit_with_mtime_set_back_is_not_a_hit(tmp_path):
    data = tmp_path / "f.txt"
    data.write_bytes(b"version one")
    st = os.stat(str(data))
    db = str(tmp_path / "etags.sqlite")
    with EtagCache(db, clock=later) as cache:
        first = cache.etag(entry(str(data)))
    data.write_bytes(b"version two")  # same size
    os.utime(str(data), ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
    assert os.stat(str(data)).st_mtime_ns == st.st_mtime_ns
    with EtagCache(db, clock=later) as cache:
        second = cache.etag(entry(str(data)))
        assert cache.files_hashed == 1
    assert second != first and second == etag(str(data))


def test_put_and_get(tmp_path):
    data = tmp_path / "f"
    data.write_bytes(b"x")
    f = entry(str(data))
    cache = EtagCache(None, clock=later)
    assert cache.get(f) is None
    cache.put(f, "Fsomething")
    assert cache.get(f) == "Fsomething"
    moved = LocalFile(f.rel, f.path, f.size + 1, f.mtime_ns, f.ctime_ns, f.dev, f.ino)
    assert cache.get(moved) is None


def test_unusable_database_falls_back_to_memory(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    data = tmp_path / "f"
    data.write_bytes(b"abc")
    cache = EtagCache(str(blocker / "etags.sqlite"), clock=later)  # its folder cannot exist
    assert "unavailable" in caplog.text
    assert cache.etag(entry(str(data))) == etag(str(data))
    assert cache.etag(entry(str(data))) == etag(str(data))
    assert cache.files_hashed == 1
    cache.close()


def test_corrupt_database_falls_back(tmp_path):
    db = tmp_path / "etags.sqlite"
    db.write_bytes(b"this is not sqlite" * 100)
    cache = EtagCache(str(db))
    data = tmp_path / "f"
    data.write_bytes(b"abc")
    assert cache.etag(entry(str(data))) == etag(str(data))
    cache.close()


def test_cancel_stops_hashing(tmp_path):
    data = tmp_path / "f"
    data.write_bytes(b"x" * 10)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        EtagCache(None).etag(entry(str(data)), stop)


def test_file_changing_while_read_is_not_cached(tmp_path, monkeypatch):
    data = tmp_path / "f"
    data.write_bytes(b"abc")
    real_fstat = os.fstat
    calls = []

    def fstat(fd):
        st = real_fstat(fd)
        calls.append(1)
        if len(calls) == 3:  # the check after reading (after the open's and the one before) sees another mtime
            return os.stat_result(st[:8] + (st.st_mtime + 1, st.st_ctime))
        return st

    monkeypatch.setattr(hashcache.os, "fstat", fstat)
    cache = EtagCache(None, clock=later)
    cache.etag(entry(str(data)))
    assert cache.get(entry(str(data))) is None


def test_default_path_follows_xdg_and_home():
    assert default_cache_path({"XDG_CACHE_HOME": "/x"}) == os.path.join("/x", "wcs", "etags.sqlite")
    assert default_cache_path({"HOME": "/h"}) == os.path.join("/h", ".cache", "wcs", "etags.sqlite")


def test_known_looks_up_many_files_with_one_query_per_batch(tmp_path, monkeypatch):
    paths = []
    for i in range(700):
        path = tmp_path / ("f%03d" % i)
        path.write_bytes(b"%d" % i)
        paths.append(str(path))
    db = str(tmp_path / "etags.sqlite")
    with EtagCache(db, clock=later) as cache:
        for path in paths[:600]:
            assert cache.put(entry(path), "E" + os.path.basename(path))
    files = [entry(path) for path in paths]
    files[5] = LocalFile(files[5].rel, files[5].path, files[5].size + 1, files[5].mtime_ns, files[5].ctime_ns,
                         files[5].dev, files[5].ino)  # changed since: not a hit
    with EtagCache(db, clock=later) as cache:
        queries = []
        cache._db = _Counting(cache._db, queries)
        found = cache.known(files)
        assert len([q for q in queries if q.startswith("SELECT")]) == 2  # 700 files: two batches of at most 500
        cache._db = cache._db.db
    assert found[5] is None and found[600:] == [None] * 100
    assert found[:5] == ["Ef%03d" % i for i in range(5)] and found[599] == "Ef599"
    memory = EtagCache(None, clock=later)
    memory.put(files[0], "Ememory")
    assert memory.known(files[:2]) == ["Ememory", None]


class _Counting:
    """A sqlite connection that records the statements it runs."""

    def __init__(self, db, queries):
        self.db = db
        self.queries = queries

    def execute(self, sql, *args):
        self.queries.append(sql)
        return self.db.execute(sql, *args)


def test_known_refreshes_the_seen_time_of_old_rows_only(tmp_path):
    import sqlite3

    paths = []
    for name in ("old", "new"):
        path = tmp_path / name
        path.write_bytes(name.encode())
        paths.append(str(path))
    db = str(tmp_path / "etags.sqlite")
    with EtagCache(db, clock=later) as cache:
        for path in paths:
            assert cache.put(entry(path), "E" + os.path.basename(path))
    old = int(time.time()) - 30 * 86400  # a month ago: past the weekly refresh, well within KEEP_DAYS
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE etags SET seen = ? WHERE etag = 'Eold'", (old,))
        seen_new = raw.execute("SELECT seen FROM etags WHERE etag = 'Enew'").fetchone()[0]
    raw.close()
    with EtagCache(db, clock=later) as cache:
        assert cache.known([entry(path) for path in paths]) == ["Eold", "Enew"]
    raw = sqlite3.connect(db)
    seen = dict(raw.execute("SELECT etag, seen FROM etags").fetchall())
    raw.close()
    assert seen["Eold"] >= int(time.time()) - 60 and seen["Enew"] == seen_new
