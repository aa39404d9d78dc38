"""A sync of files the bucket already holds decides them at the cost of a walk and a few cache queries:
no task, thread, action or typed object for a file whose cached etag matches, observers told in bulk."""

import os

import pytest

from wcs.commons.result import ObjectInfo
from wcs.services.tree import Remote, TreeObserver, engine, plan
from wcs.services.tree.hashcache import EtagCache

COUNT = 150


@pytest.fixture
def synced(client, bucket, tmp_path):
    root = tmp_path / "tree"
    for i in range(COUNT):
        path = root / ("d%d" % (i // 50)) / ("f%03d.txt" % i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"file %d\n" % i)
    # Times well in the past: no etag is racily clean, so every one is cached by the first run.
    for path in root.rglob("*.txt"):
        os.utime(str(path), ns=(1_600_000_000 * 10 ** 9, 1_600_000_000 * 10 ** 9))
    cache = str(tmp_path / "etags.sqlite")
    summary = client.sync(str(root), Remote(bucket, "t"), hash_cache=cache)
    assert summary.ok and summary.transferred_files == COUNT
    return root, cache


class _Each(TreeObserver):
    def __init__(self):
        self.actions = []

    def on_action(self, action):
        self.actions.append((action.op, action.reason))


class _Bulk(_Each):
    def __init__(self):
        super().__init__()
        self.unchanged = []

    def on_unchanged(self, files, size):
        self.unchanged.append((files, size))


def test_unchanged_files_cost_no_task(client, bucket, synced, monkeypatch):
    root, cache = synced
    tasks, lookups = [], []
    file_task = engine.TreeRun._file_task

    def counted(self, action):
        tasks.append(action)
        return file_task(self, action)

    monkeypatch.setattr(engine.TreeRun, "_file_task", counted)
    known = EtagCache.known
    monkeypatch.setattr(EtagCache, "known", lambda self, files: lookups.append(len(files)) or known(self, files))
    bulk = _Bulk()
    summary = client.sync(str(root), Remote(bucket, "t"), hash_cache=cache, observer=bulk)
    assert summary.ok and summary.skipped == {"same": COUNT} and summary.hashed_files == 0
    assert tasks == [] and sum(lookups) == COUNT and len(lookups) == 1  # one batch
    assert bulk.actions == [] and sum(files for files, _ in bulk.unchanged) == COUNT
    each = _Each()  # an observer without on_unchanged is told of each file, as before
    assert client.sync(str(root), Remote(bucket, "t"), hash_cache=cache, observer=each).ok
    assert each.actions == [("skip", "same")] * COUNT and tasks == []


def test_unchanged_files_cost_no_action_and_no_typed_object(client, bucket, synced, monkeypatch):
    """Nothing is made per unchanged file but its walk entry and its listing entry: no plan.Action (a
    COMPARE, a SKIP...), no ObjectInfo; a changed file still gets both."""
    root, cache = synced
    made = []
    action_init, from_item = plan.Action.__init__, ObjectInfo.from_item.__func__

    def counted_action(self, *args, **kwargs):
        made.append("action")
        action_init(self, *args, **kwargs)

    def counted_info(cls, *args, **kwargs):
        made.append("info")
        return from_item(cls, *args, **kwargs)

    monkeypatch.setattr(plan.Action, "__init__", counted_action)
    monkeypatch.setattr(ObjectInfo, "from_item", classmethod(counted_info))
    summary = client.sync(str(root), Remote(bucket, "t"), hash_cache=cache, observer=_Bulk())
    assert summary.ok and summary.skipped == {"same": COUNT} and made == []
    (root / "d1" / "f060.txt").write_bytes(b"FILE 60\n")
    summary = client.sync(str(root), Remote(bucket, "t"), hash_cache=cache, observer=_Bulk())
    assert summary.ok and summary.transferred_files == 1 and "action" in made and "info" in made


def test_a_changed_or_uncached_file_is_still_found(client, bucket, synced, tmp_path):
    root, cache = synced
    edited = root / "d0" / "f007.txt"
    edited.write_bytes(b"FILE 7\n")  # same size, new content: its cached etag no longer applies
    each = _Each()
    summary = client.sync(str(root), Remote(bucket, "t"), hash_cache=cache, observer=each)
    assert summary.ok and summary.transferred_files == 1 and summary.hashed_files == 1
    assert ("transfer", "hash") in each.actions
    fresh = client.sync(str(root), Remote(bucket, "t"), hash_cache=str(tmp_path / "new.sqlite"))
    assert fresh.ok and fresh.skipped == {"same": COUNT} and fresh.hashed_files == COUNT  # nothing cached: hashed
    dry = client.sync(str(root), Remote(bucket, "t"), hash_cache=cache, dry_run=True)
    assert dry.ok and dry.planned_files == 0 and dry.skipped == {"same": COUNT}


def test_a_no_op_sync_lists_its_key_ranges_at_once(client, bucket, emulator, tmp_path, monkeypatch):
    """The run's one planning worker waits for the listing while the pool's other threads fetch its pages:
    workers are added as files are handed out, so a no-op sync keeps the pool free for the listing."""
    from wcs.services.bucket import BucketManager

    root = tmp_path / "many"
    root.mkdir()
    names = ["f%05d" % i for i in range(3000)]
    for name in names:
        (root / name).write_bytes(b"x")
        os.utime(str(root / name), ns=(1_600_000_000 * 10 ** 9, 1_600_000_000 * 10 ** 9))

    def items():
        for name in names:
            path = emulator.store.new_temp_path()
            with open(path, "wb") as fp:
                fp.write(b"x")
            yield "many/" + name, path, 1, "FhH2rY7FKimEq6r9fDtRZQN4XCBy", "text/plain"

    emulator.store.put_files(bucket, items())
    cache = str(tmp_path / "etags.sqlite")
    first = client.sync(str(root), Remote(bucket, "many"), hash_cache=cache, transfers=32)
    assert first.ok and first.skipped == {"same": 3000}, (first.skipped, first.transferred_files)
    in_flight, peak = [0], [0]
    list_page = BucketManager.list_page

    def counted(self, *args, **kwargs):
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        try:
            return list_page(self, *args, **kwargs)
        finally:
            in_flight[0] -= 1

    monkeypatch.setattr(BucketManager, "list_page", counted)
    summary = client.sync(str(root), Remote(bucket, "many"), hash_cache=cache, transfers=32)
    assert summary.ok and summary.skipped == {"same": 3000} and summary.hashed_files == 0
    assert peak[0] > 1
