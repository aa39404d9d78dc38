"""``/list`` pages by directory (``mode`` 0 / 1) and flat: the same entries as a brute-force listing
whatever the page size, and each page continues from its marker instead of rescanning the prefix.

Run on the state layer (no HTTP): the cost of a page is read from sqlite itself (virtual machine
steps, counted by a progress handler) and from the rows the store hands the listing.
"""

import uuid
from typing import List, Optional, Tuple

import pytest

from wcs.emulator.state import Store
from wcs.emulator.state.listing import prefix_end

KEYS = ["d", "d/", "d//x", "d/a", "d/a.b", "d/a/", "d/a/b", "d/a/b/c", "d/a0", "d/b", "d/b/x", "d/b/y",
        "d/c", "d/c/z", "d/é", "d/é/1", "d/z/", "d/zz", "d0", "e/q", "top", "top/x", "d/\U0001f600",
        "d/\U0001f600/deep"] + ["d/f%02d" % n for n in range(12)] + ["d/s%02d/k" % n for n in range(9)]


def _seed(store: Store, bucket: str, keys, put_time=lambda key: 1000, expired=()):
    """Rows straight into the metadata table: a listing never opens object files."""
    store.create_bucket(bucket)
    rows = [(bucket, key, 1, "Fh", "text/plain", put_time(key), 1 if key in expired else None, uuid.uuid4().hex)
            for key in keys]
    with store._lock, store._db as conn:
        conn.executemany("INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _reference(keys, prefix: str, mode: Optional[int], in_time) -> List[Tuple[str, str]]:
    if mode is None:
        return [("f", key) for key in sorted(keys) if key.startswith(prefix) and in_time(key)]
    directory = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    files, dirs = [], set()
    for key in sorted(keys):
        if not key.startswith(directory):
            continue
        rest = key[len(directory):]
        if "/" in rest:
            dirs.add(directory + rest.split("/", 1)[0] + "/")
        elif in_time(key):
            files.append(("f", key))
    groups = [files, [("d", name) for name in sorted(dirs)]]
    return groups[0] + groups[1] if mode == 0 else groups[1] + groups[0]


def _walk(store: Store, bucket: str, prefix: str, mode: Optional[int], limit: int, **times):
    entries, marker, pages = [], "", 0
    while True:
        items, common, marker = store.list_objects(bucket, prefix, marker, limit, mode, **times)
        page = [("f", info.key) for info in items] + [("d", name) for name in common]
        if mode == 1:
            page = [("d", name) for name in common] + [("f", info.key) for info in items]
        pages += 1
        assert len(page) <= limit
        if marker:
            assert len(page) == limit, "a page before the last one is full"
        entries += page
        if not marker:
            return entries, pages
        assert pages < 1000


@pytest.fixture
def store(tmp_path):
    store = Store(str(tmp_path))
    yield store
    store.close()


@pytest.mark.parametrize("mode", [None, 0, 1])
def test_pages_of_every_size_give_the_brute_force_listing(store, mode):
    _seed(store, "b", KEYS + ["d/gone", "d/gone/x"], put_time=lambda key: 2000 if "a" in key else 1000,
          expired={"d/gone", "d/gone/x"})
    keys = [key for key in KEYS]
    for prefix in ("d/", "d", "", "d/a/", "d/s0", "nothing/", "d/\U0001f600/"):
        for limit in (1, 2, 3, 5, 7, 1000):
            expected = _reference(keys, prefix, mode, lambda key: True)
            assert _walk(store, "b", prefix, mode, limit)[0] == expected, (prefix, limit)
        late = _reference(keys, prefix, mode, lambda key: "a" in key)  # files put at 2000 only
        assert _walk(store, "b", prefix, mode, 2, start_time=1500)[0] == late, prefix


def test_a_marker_from_another_prefix_is_a_lower_bound(store):
    _seed(store, "b", KEYS)
    from wcs.emulator.state.listing import encode_marker

    items, common, _ = store.list_objects("b", "d/", encode_marker("f", "a"), 1000, 0)
    assert [info.key for info in items][:2] == ["d/", "d/a"] and "d/a/" in common
    items, common, _ = store.list_objects("b", "d/", encode_marker("d", "d/s04/"), 1000, 0)
    assert items == [] and common == ["d/s05/", "d/s06/", "d/s07/", "d/s08/", "d/z/", "d/é/", "d/\U0001f600/"]


def _page_cost(store: Store, bucket: str, marker_key: str, mode: int) -> Tuple[int, int]:
    """(sqlite VM steps in units of 100, rows handed to the listing) of one 100-entry page."""
    from wcs.emulator.state.listing import encode_marker

    steps = [0]
    rows = [0]
    scan = store.scan if hasattr(store, "scan") else None

    def counted_scan(*args, **kwargs):
        result = scan(*args, **kwargs)
        rows[0] += len(result)
        return result

    def progress():
        steps[0] += 1
        return 0

    if scan is not None:
        store.scan = counted_scan
    store._db.set_progress_handler(progress, 100)
    try:
        kind = "f" if mode == 0 else "d"
        items, common, marker = store.list_objects(bucket, "d/", encode_marker(kind, marker_key), 100, mode)
    finally:
        store._db.set_progress_handler(None, 100)
        if scan is not None:
            del store.scan
    assert len(items) + len(common) == 100 and marker
    return steps[0], rows[0]


def test_a_page_reads_its_own_rows_not_the_whole_directory(store):
    # Two directories of 6,000 and 20,000 files, each with a sub-directory every 50 keys: one page from
    # the middle must cost the same in both (before: every page read every key under the prefix).
    for bucket, count in (("small", 6000), ("large", 20000)):
        _seed(store, bucket, ["d/%06d" % n if n % 50 else "d/%06d/sub/k" % n for n in range(count)])
    small_steps, small_rows = _page_cost(store, "small", "d/%06d" % 1001, 0)
    large_steps, large_rows = _page_cost(store, "large", "d/%06d" % 10001, 0)
    assert large_steps < 2 * small_steps, (small_steps, large_steps)
    # 100 files and the 2 sub-directories between them, read in batches: a few rows more than the page
    assert small_rows <= 150 and large_rows <= 150, (small_rows, large_rows)
    # directories first: a page of 100 sub-directories reads them and the 49 files between two of them
    small_steps, _ = _page_cost(store, "small", "d/%06d/" % 0, 1)
    large_steps, large_rows = _page_cost(store, "large", "d/%06d/" % 10000, 1)
    assert large_steps < 2 * small_steps and large_rows <= 100 * 60, (small_steps, large_steps, large_rows)


def test_a_prefix_range_stops_at_the_end_of_the_prefix(store):
    _seed(store, "b", ["a/%05d" % n for n in range(50)] + ["b/%05d" % n for n in range(20000)])
    steps = [0]

    def progress():
        steps[0] += 1
        return 0

    store._db.set_progress_handler(progress, 100)
    try:
        assert len(store.keys_under("b", "a/")) == 50
        assert store.list_objects("b", "a/", "", 1000)[2] == ""
    finally:
        store._db.set_progress_handler(None, 100)
    assert steps[0] < 100, steps  # before: the 20,000 keys after the prefix were read and compared


def test_prefix_end():
    assert prefix_end("d/") == "d0" and prefix_end("ab") == "ac" and prefix_end("") is None
    assert prefix_end("a\U0010ffff") == "b" and prefix_end("\ud7ff") == "\ue000"
