"""Issue 15, point 1 — a no-op sync of 2,000 files reads none of them and sends only listing requests.

The tree is uploaded once by ``Client.sync`` (which learns every etag from the upload answers); the
second sync of the unchanged tree must open none of the 2,000 files (every ``open``/``os.open``
of a path inside the tree is counted), hash 0 bytes, and reach the emulator with nothing but the
``/list`` pages (2,000 keys = 2 pages of 1,000). The same holds for the other direction once the
downloaded tree was hashed once: a small file's download is written and renamed within one tick
of the clock, so its etag is racy (:func:`wcs.services.tree.hashcache.is_racy`) and the first sync
after it reads it back.
"""

import builtins
import os
import time

import pytest

from wcs.services.tree import Remote
from wcs.services.tree.hashcache import FINE_WINDOW_NS

SETTLE_S = 2 * FINE_WINDOW_NS / 1e9  # past the racy window of files just written

FILES = 2000

pytestmark = pytest.mark.slow


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    for i in range(FILES):
        folder = root / ("d%02d" % (i % 40)) / ("e%d" % (i % 3))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ("file %04d.txt" % i)).write_bytes(b"content of %d\n" % i * (1 + i % 5))
    time.sleep(SETTLE_S)
    return str(root)


@pytest.fixture
def opens_inside(monkeypatch):
    """``opens_inside(root)`` -> list of the paths under root opened since."""
    seen = []
    roots = []
    real_open, real_os_open = builtins.open, os.open

    def note(path):
        try:
            text = os.path.abspath(os.fspath(path))
        except TypeError:
            return  # a file descriptor
        if any(text.startswith(root + os.sep) for root in roots):
            seen.append(text)

    def counting_open(file, *args, **kwargs):
        note(file)
        return real_open(file, *args, **kwargs)

    def counting_os_open(path, *args, **kwargs):
        note(path)
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(os, "open", counting_os_open)

    def start(root):
        roots.append(os.path.abspath(root))
        del seen[:]
        return seen

    return start


def test_noop_sync_of_2000_files_reads_nothing_and_only_lists(client, emulator, bucket, tree, tmp_path,
                                                               opens_inside):
    cache = str(tmp_path / "etags.sqlite")
    first = client.sync(tree, Remote(bucket, "t"), hash_cache=cache, transfers=8)
    assert first.ok and first.transferred_files == FILES, first.to_json()

    emulator.reset_counters()
    opened = opens_inside(tree)
    again = client.sync(tree, Remote(bucket, "t"), hash_cache=cache, transfers=8)
    assert again.ok and again.transferred_files == 0 and again.skipped == {"same": FILES}
    assert again.hashed_bytes == 0 and again.hashed_files == 0
    assert opened == []
    # Listing requests and nothing else: the two pages' worth of keys, fetched as key ranges at once
    # (the first page, a listing of the folders it shows, the ranges after it).
    assert dict(emulator.counters, mgr=0) == {"faults_injected": 0, "mgr": 0} and emulator.counters["mgr"] <= 8

    down = str(tmp_path / "down")
    assert client.download_tree(bucket, "t", down, hash_cache=cache).transferred_files == FILES
    time.sleep(SETTLE_S)
    checked = client.sync(Remote(bucket, "t"), down, hash_cache=cache)
    assert checked.ok and checked.skipped == {"same": FILES} and checked.hashed_files <= FILES
    emulator.reset_counters()
    opened = opens_inside(down)
    back = client.sync(Remote(bucket, "t"), down, hash_cache=cache)
    assert back.ok and back.skipped == {"same": FILES} and back.hashed_bytes == 0
    assert opened == []
    assert dict(emulator.counters, mgr=0) == {"faults_injected": 0, "mgr": 0} and emulator.counters["mgr"] <= 8
