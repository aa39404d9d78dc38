"""Trees between two bucket prefixes against the emulator: ``Client.sync(Remote, Remote)``,
``copy_tree`` and ``move_tree`` (issue 22): decided by the listings' etags, copied by the service,
checked by a listing; the emulator's counters show that no object data passes through the client."""

import io

import pytest

from wcs.commons.errors import InvalidArgument
from wcs.commons.result import Result
from wcs.services.tree import FilterRules, Remote, TreeObserver

DATA_CATEGORIES = ("upload", "mkblk", "bput", "mkfile", "download")


class Recorder(TreeObserver):
    def __init__(self):
        self.actions, self.errors, self.done = [], [], []

    def on_action(self, action):
        self.actions.append((action.op, action.rel, action.reason))

    def on_error(self, where, message):
        self.errors.append((where, message))

    def on_done(self, action, error):
        self.done.append((action.op, action.rel, error))


def put(client, bucket, key, data):
    client.upload_fileobj(io.BytesIO(data), bucket, key, size=len(data), overwrite=1).raise_for_status()


def state(emulator, bucket, prefix=""):
    return {info.key[len(prefix):]: info.hash for info in emulator.store.keys_under(bucket, prefix)}


def no_object_data(emulator):
    counters, traffic = emulator.counters, emulator.traffic
    assert not any(counters.get(name) for name in DATA_CATEGORIES), counters
    assert not any(traffic.get(name) for name in DATA_CATEGORIES), traffic
    return counters["mgr"], traffic["mgr"]


@pytest.fixture
def other_bucket(emulator, bucket):
    name = bucket + "-2"
    emulator.create_bucket(name)
    return name


def test_sync_between_buckets_copies_only_what_differs_and_no_data_through_the_client(
        client, emulator, bucket, other_bucket):
    size = 64 * 1024
    for i in range(30):
        put(client, bucket, "src/f%02d" % i, bytes([i]) * size)
    first = client.sync(Remote(bucket, "src"), Remote(other_bucket, "dst"))
    assert first.ok and first.transferred_files == 30 and first.transferred_bytes == 30 * size
    assert first.direction == "remote" and first.replaced == 0
    assert state(emulator, other_bucket, "dst/") == state(emulator, bucket, "src/")

    # Three objects change (one only by content, same size), one is new, one goes away.
    put(client, bucket, "src/f00", b"\xff" * size)
    put(client, bucket, "src/f01", b"shorter")
    put(client, bucket, "src/new", b"n" * size)
    client.delete(bucket, "src/f29").raise_for_status()
    emulator.reset_counters()
    rec = Recorder()
    second = client.sync(Remote(bucket, "src"), Remote(other_bucket, "dst"), delete=True, observer=rec)
    assert second.ok and second.transferred_files == 3 and second.replaced == 2 and second.deleted == 1
    assert second.skipped == {"same": 27} and second.delete_status == "done"
    assert ("transfer", "f00", "hash") in rec.actions and ("transfer", "f01", "size") in rec.actions
    assert state(emulator, other_bucket, "dst/") == state(emulator, bucket, "src/")
    requests, traffic = no_object_data(emulator)
    # Two listings, the copies (three /copy), the check of the copies, a delete job and its status,
    # the check of the deletion: a handful of small management requests, listing lines mostly,
    # far fewer bytes than the objects copied.
    assert requests <= 12 and traffic["in"] + traffic["out"] < size / 2, (requests, traffic)

    emulator.reset_counters()
    third = client.sync(Remote(bucket, "src"), Remote(other_bucket, "dst"), delete=True)
    assert third.ok and third.transferred_files == 0 and third.skipped == {"same": 30}
    assert no_object_data(emulator)[0] == 2  # the two listings, nothing else


def test_many_copies_go_as_fmgr_jobs_and_are_checked(client, emulator, bucket, other_bucket):
    for i in range(25):
        put(client, bucket, "a/k%02d" % i, b"x%d" % i)
    emulator.reset_counters()
    rec = Recorder()
    summary = client.copy_tree(Remote(bucket, "a"), Remote(other_bucket, "b"), copy_batch=10, observer=rec)
    assert summary.ok and summary.transferred_files == 25 and summary.replaced == 0
    assert state(emulator, other_bucket, "b/") == state(emulator, bucket, "a/")
    assert sorted(rel for op, rel, error in rec.done if error is None) == ["k%02d" % i for i in range(25)]
    requests, _traffic = no_object_data(emulator)
    assert requests < 25  # three jobs and their status polls, the listings: not a request per object


def test_copy_tree_replaces_and_says_so_no_clobber_skips(client, emulator, bucket):
    put(client, bucket, "www/index.html", b"new index")
    put(client, bucket, "www/a.css", b"css")
    put(client, bucket, "www3/index.html", b"an old index page of 10 KiB" * 400)
    summary = client.copy_tree(Remote(bucket, "www/"), Remote(bucket, "www3/"))
    assert summary.ok and summary.transferred_files == 2 and summary.replaced == 1
    assert state(emulator, bucket, "www3/") == state(emulator, bucket, "www/")

    put(client, bucket, "www3/index.html", b"kept")
    put(client, bucket, "www/b.css", b"b")
    kept = client.copy_tree(Remote(bucket, "www"), Remote(bucket, "www3"), skip_existing=True)
    assert kept.ok and kept.transferred_files == 1 and kept.skipped == {"exists": 2} and kept.replaced == 0
    assert emulator.store.get(bucket, "www3/index.html").fsize == 4


def test_move_tree_deletes_each_source_after_its_verified_copy(client, emulator, bucket, other_bucket):
    for i in range(6):
        put(client, bucket, "m/%d.bin" % i, b"%d" % i * 100)
    before = state(emulator, bucket, "m/")
    summary = client.move_tree(Remote(bucket, "m"), Remote(other_bucket, "moved"), copy_batch=4)
    assert summary.ok and summary.transferred_files == 6 and summary.sources_deleted == 6
    assert state(emulator, other_bucket, "moved/") == before and state(emulator, bucket, "m/") == {}
    assert summary.to_json()["sources_deleted"] == 6


def test_a_failed_copy_keeps_its_source_and_blocks_the_deletes(client, emulator, bucket):
    put(client, bucket, "s/a", b"a")
    put(client, bucket, "s/b", b"b")
    put(client, bucket, "d/extra", b"e")
    real_copy = client.bucket_manager
    calls = []

    def manager():
        service = real_copy()
        real = service.copy

        def copy(src_bucket, src_key, dst_bucket, dst_key):
            calls.append(src_key)
            if src_key == "s/b":
                return Result(403, {"code": 403, "message": "refused"}, {"x-reqid": "r"})
            return real(src_bucket, src_key, dst_bucket, dst_key)

        service.copy = copy
        return service

    client.bucket_manager = manager
    rec = Recorder()
    summary = client.move_tree(Remote(bucket, "s"), Remote(bucket, "d"), observer=rec)
    assert calls == ["s/a", "s/b"] and summary.failed == 1 and summary.transferred_files == 1
    assert ("b", "HTTP 403: refused") in rec.errors and summary.sources_deleted == 1
    assert set(state(emulator, bucket, "s/")) == {"b"}  # its copy failed: the source stays

    failed_sync = client.sync(Remote(bucket, "s"), Remote(bucket, "d"), delete=True)
    assert not failed_sync.ok and failed_sync.delete_status.startswith("not done")
    assert emulator.store.get(bucket, "d/extra") is not None  # never deletes after errors


def test_filters_dry_run_and_max_delete(client, emulator, bucket, other_bucket):
    for key in ("p/keep.txt", "p/skip.tmp", "p/sub/x.txt"):
        put(client, bucket, key, b"data " + key.encode())
    put(client, other_bucket, "q/old.txt", b"old")
    put(client, other_bucket, "q/protected.tmp", b"tmp")
    rules = FilterRules.from_args([("-", "*.tmp")])
    emulator.reset_counters()
    rec = Recorder()
    plan = client.sync(Remote(bucket, "p"), Remote(other_bucket, "q"), delete=True, dry_run=True, filters=rules,
                       observer=rec)
    assert plan.ok and plan.planned_files == 2 and plan.planned_deletes == 1 and plan.skipped == {"excluded": 1}
    assert ("delete", "old.txt", "extra") in rec.actions
    assert no_object_data(emulator)[0] == 2
    assert set(state(emulator, other_bucket, "q/")) == {"old.txt", "protected.tmp"}
    capped = client.sync(Remote(bucket, "p"), Remote(other_bucket, "q"), delete=True, max_delete=0, filters=rules)
    assert not capped.ok and capped.delete_status.startswith("aborted: 1 deletions exceed the maximum of 0")
    done = client.sync(Remote(bucket, "p"), Remote(other_bucket, "q"), delete=True, filters=rules)
    assert done.ok and set(state(emulator, other_bucket, "q/")) == {"keep.txt", "sub/x.txt", "protected.tmp"}


def test_an_empty_source_is_refused_for_deletes(client, emulator, bucket, other_bucket):
    put(client, other_bucket, "q/x", b"x")
    summary = client.sync(Remote(bucket, "nothing-here"), Remote(other_bucket, "q"), delete=True)
    assert summary.delete_status.startswith("refused: the source has no files") and not summary.ok
    assert emulator.store.get(other_bucket, "q/x") is not None


@pytest.mark.parametrize("src, dst", [("a", "a"), ("a", "a/b"), ("a/b/", "a"), ("", "x")])
def test_overlapping_prefixes_are_refused(client, bucket, src, dst):
    with pytest.raises(InvalidArgument, match="overlap"):
        client.sync(Remote(bucket, src), Remote(bucket, dst))
