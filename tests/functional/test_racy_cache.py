"""Edits that leave a file's size, mtime and ctime as they were (issue 21, item 16): the etag cache
must not trust an entry whose content was known within the granularity of the file's own times
(git's "racily clean" rule).

The same-second edit is made where it really happens: a file system with whole-second times (ext4
with 128-byte inodes, loop-mounted; root only) under a real sync against the emulator. The mmap
edit (a write into a page that is already dirty changes no time at all) is made on the test's own
file system, with the cache's clock injected so that the hash is computed within the window.
"""

import contextlib
import mmap
import os
import shutil
import subprocess
import time

import pytest

from wcs.commons.util import etag
from wcs.services.tree import Remote

MiB = 1024 * 1024


@pytest.fixture
def whole_second_fs(tmp_path):
    """A fresh ext4 with whole-second timestamps mounted on ``tmp_path/mnt``; skipped when this
    process cannot make one (not root, no mkfs.ext4, no loop device)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        pytest.skip("needs root and mkfs.ext4 to mount a file system with whole-second times")
    image, mount_point = tmp_path / "fs.img", tmp_path / "mnt"
    mount_point.mkdir()
    with open(str(image), "wb") as fp:
        fp.truncate(16 * MiB)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", "-I", "128", str(image)], capture_output=True)
    mounted = made.returncode == 0 and subprocess.run(
        ["mount", "-o", "loop", str(image), str(mount_point)], capture_output=True).returncode == 0
    if not mounted:
        pytest.skip("cannot loop-mount an ext4 image here")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True)
        if os.path.ismount(str(mount_point)):
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def _stamps(path):
    st = os.stat(str(path))
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def test_a_same_second_edit_is_uploaded_by_the_next_sync(client, emulator, bucket, tmp_path, whole_second_fs):
    src = whole_second_fs / "src"
    src.mkdir()
    path = src / "notes.txt"
    cache = str(tmp_path / "etags.sqlite")
    assert _stamps(whole_second_fs)[1] % 10 ** 9 == 0, "the file system should have whole-second times"
    for attempt in range(5):
        # Start early in a second, so that the sync and the edit usually fall in it.
        time.sleep(1 - time.time() % 1 + 0.01)
        path.write_bytes(b"version %d: first" % attempt)
        before = _stamps(path)
        assert client.sync(str(src), Remote(bucket, "s"), hash_cache=cache).ok
        path.write_bytes(b"version %d: later" % attempt)  # same size
        if _stamps(path) == before:
            break  # size, mtime and ctime as they were: a same-second edit
    else:
        pytest.skip("could not make an edit within one second of the sync")
    summary = client.sync(str(src), Remote(bucket, "s"), hash_cache=cache)
    assert summary.ok and summary.transferred_files == 1, summary.to_json()
    stored = {info.key: info.hash for info in emulator.store.keys_under(bucket, "s/")}
    assert stored == {"s/notes.txt": etag(str(path))}


def test_an_mmap_edit_into_a_dirty_page_is_seen_when_the_etag_was_racy(tmp_path):
    from wcs.services.tree.hashcache import EtagCache
    from wcs.services.tree.localtree import LocalFile

    path = tmp_path / "mapped.bin"
    path.write_bytes(b"a" * 4096)
    time.sleep(0.05)  # the first mmap write below gets a later time than the file's creation
    for _ in range(5):
        with open(str(path), "r+b") as fp, contextlib.closing(mmap.mmap(fp.fileno(), 4096)) as mapped:
            mapped[0:1] = b"b"  # dirties the page: the kernel sets mtime and ctime now
            first = LocalFile.from_stat("mapped.bin", str(path), os.stat(str(path)))
            # The etag is computed 1 ms after that write (the clock is injected, the read is real).
            hashed_at = max(first.mtime_ns, first.ctime_ns) + 10 ** 6
            cache = EtagCache(None, clock=lambda at=hashed_at: at)
            assert cache.etag(first) == etag(str(path))
            mapped[1:2] = b"c"  # the same dirty page: no time changes
            mapped.flush()  # msync
        second = LocalFile.from_stat("mapped.bin", str(path), os.stat(str(path)))
        if second.identity == first.identity:
            break
    else:
        pytest.skip("the page was written back between the two writes every time")
    assert cache.etag(second) == etag(str(path))  # not the etag of the first version


def test_the_racy_rule():
    from wcs.services.tree.hashcache import FINE_WINDOW_NS, WHOLE_SECOND_WINDOW_NS, is_racy
    from wcs.services.tree.localtree import LocalFile

    def file(mtime_ns, ctime_ns):
        return LocalFile("f", "/f", 1, mtime_ns, ctime_ns, 1, 1)

    t = 1700000000 * 10 ** 9
    assert is_racy(file(t, t), t + WHOLE_SECOND_WINDOW_NS - 1)  # whole seconds: the next 2 s
    assert not is_racy(file(t, t), t + WHOLE_SECOND_WINDOW_NS)
    fine = t + 123456789
    assert is_racy(file(fine, fine), fine + FINE_WINDOW_NS - 1)
    assert not is_racy(file(fine, fine), fine + FINE_WINDOW_NS)
    # mtime set back (touch -d): a write would change it, so nothing is racy
    assert not is_racy(file(t - 86400 * 10 ** 9, fine), fine)
