"""Trees between two bucket prefixes on fakes (no emulator): the plan decided by both listings'
etags, the batched server-side copies and their check, and the guards of the run."""

import pytest

from wcs.commons.errors import InvalidArgument, ServiceError
from wcs.commons.result import ObjectInfo, Result
from wcs.commons.util import urlsafe_base64_decode
from wcs.services.scheduler import Scheduler
from wcs.services.tree.copies import CopySpool, RemoteCopier
from wcs.services.tree.model import Remote, TreeOptions
from wcs.services.tree.plan import REMOTE, Action, Planner
from wcs.services.tree.remoterun import RemoteTreeRun, check_apart


def entry(rel, size=1, etag="Fa"):
    return rel, ObjectInfo(key="src/" + rel, size=size, hash=etag)


def test_the_plan_decides_by_the_listed_etags_without_compare():
    src = [entry("a"), entry("b", 2), entry("c", etag="Fnew"), entry("d", etag="")]
    dst = [entry("a"), entry("b", 3), entry("c", etag="Fold"), entry("d", etag=""), entry("e")]
    actions = list(Planner(REMOTE, src, dst, delete=True))
    assert [(a.op, a.rel, a.reason) for a in actions] == [
        ("skip", "a", "same"), ("transfer", "b", "size"), ("transfer", "c", "hash"),
        ("transfer", "d", "hash"),  # no etag on either side: not provably the same
        ("delete", "e", "extra")]
    assert actions[1].remote.size == 2 and actions[1].local is None  # the source's object
    assert actions[1].source_size(REMOTE) == 2


def test_a_plain_copy_says_which_transfers_replace():
    actions = list(Planner(REMOTE, [entry("a"), entry("b")], [entry("a")], sync=False))
    assert [(a.rel, a.reason) for a in actions] == [("a", "replace"), ("b", "copy")]


@pytest.mark.parametrize("a, b, apart", [("x", "y", True), ("x", "x2", True), ("x", "x/y", False),
                                         ("x/y", "x", False), ("", "x", False), ("x", "x/", False)])
def test_overlap(a, b, apart):
    if apart:
        check_apart(Remote("b", a), Remote("b", b))
        return
    with pytest.raises(InvalidArgument):
        check_apart(Remote("b", a), Remote("b", b))
    check_apart(Remote("b", a), Remote("other", b))  # another bucket never overlaps


class Store:
    """Two buckets of ``key -> etag``; ``copy``, ``delete``, ``stat`` and ``listing`` as the engine uses them."""

    def __init__(self, objects=None):
        self.objects = dict(objects or {})  # (bucket, key) -> etag
        self.copies = []
        self.listings = 0
        self.fail_listing = set()  # listing numbers that fail at once

    def listing(self, bucket, prefix="", recursive=True):
        self.listings += 1
        if self.listings in self.fail_listing:
            def broken():
                raise ServiceError("HTTP 500: listing failed", Result(500, {"message": "boom"}, {}))
                yield  # pragma: no cover
            return broken()
        found = sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))
        infos = [ObjectInfo(key=k, size=len(self.objects[bucket, k]), hash=self.objects[bucket, k]) for k in found]
        return (info for info in infos)  # a generator: it has close(), as a listing has

    def copy(self, sb, sk, db, dk):
        self.copies.append((sk, dk))
        self.objects[db, dk] = self.objects[sb, sk]
        return Result(200, {"code": 200}, {})

    def delete(self, bucket, key):
        self.objects.pop((bucket, key), None)
        return Result(200, {}, {})

    def stat(self, bucket, key):
        if (bucket, key) in self.objects:
            return Result(200, {"hash": self.objects[bucket, key]}, {})
        return Result(404, {"code": 404}, {})


class Jobs:
    """fmgr jobs on a Store: copy (``force`` honoured) and delete; ``refuse``: answers to submissions."""

    def __init__(self, store, refuse=(), corrupt=()):
        self.store = store
        self.refuse = list(refuse)
        self.corrupt = set(corrupt)  # keys whose copy item reports another hash
        self.submitted = []
        self.jobs = {}

    def submit(self, operation, fops, notifyurl=None, force=0, separate=0):
        self.submitted.append((operation, fops.count(";") + 1, force))
        if self.refuse:
            return self.refuse.pop(0)
        items = []
        for op in fops.split(";"):
            parts = op.split("/")
            if operation == "delete":
                bucket, key = (urlsafe_base64_decode(parts[i]).decode() for i in (1, 3))
                self.store.objects.pop((bucket, key), None)
                items.append({"cmd": op, "code": 3})
                continue
            sb, sk = urlsafe_base64_decode(parts[1]).decode().split(":", 1)
            db, dk = (urlsafe_base64_decode(parts[i]).decode() for i in (3, 5))
            if (db, dk) in self.store.objects and not force:
                items.append({"cmd": op, "code": 2, "error": "File Already Exist"})
                continue
            self.store.objects[db, dk] = self.store.objects[sb, sk]
            items.append({"cmd": op, "code": 3, "hash": "Fbad" if sk in self.corrupt else self.store.objects[sb, sk]})
        pid = "job%d" % len(self.jobs)
        self.jobs[pid] = items
        return Result(200, {"persistentId": pid}, {})

    def status(self, persistent_id):
        return Result(200, {"code": 3, "items": self.jobs[persistent_id]}, {})


def run(store, jobs, src="s", dst="d", **options):
    opts = TreeOptions(sync=options.pop("sync", True), **options)
    return RemoteTreeRun(Remote("b", src), Remote("b", dst), opts, objects=store, jobs=jobs, listing=store.listing,
                         scheduler=Scheduler(2)).run()


def test_large_batches_go_as_jobs_small_ones_as_copies():
    store = Store({("b", "s/%02d" % i): "F%d" % i for i in range(13)})
    jobs = Jobs(store)
    summary = run(store, jobs, copy_batch=5)
    assert summary.ok and summary.transferred_files == 13
    # 5 + 5 as jobs, the last 3 one /copy each
    assert [n for _, n, _ in jobs.submitted] == [5, 5] and len(store.copies) == 3
    assert all(force == 1 for _, _, force in jobs.submitted)


def test_a_job_item_with_another_hash_is_a_failure_and_blocks_the_deletes():
    store = Store({("b", "s/%d" % i): "F%d" % i for i in range(5)})
    store.objects["b", "d/extra"] = "Fx"
    jobs = Jobs(store, corrupt={"s/2"})
    summary = run(store, jobs, delete=True)
    assert summary.failed == 1 and summary.transferred_files == 4
    assert summary.delete_status.startswith("not done") and ("b", "d/extra") in store.objects


def test_no_clobber_uses_jobs_without_force_and_a_refused_job_is_a_failure():
    store = Store({("b", "s/a"): "Fa", ("b", "s/b"): "Fb"})
    jobs = Jobs(store, refuse=[Result(400, {"message": "bad"}, {})])
    summary = run(store, jobs, sync=False, skip_existing=True)
    assert summary.failed == 2 and store.copies == []  # never a /copy, which would replace
    assert jobs.submitted == [("copy", 2, 0)]


def test_a_copy_missing_afterwards_is_caught_by_the_check():
    store = Store({("b", "s/a"): "Fa", ("b", "s/b"): "Fb"})
    real_copy = store.copy

    def lossy(sb, sk, db, dk):
        result = real_copy(sb, sk, db, dk)
        if sk == "s/b":
            del store.objects[db, dk]  # answered 200, but not there
        return result

    store.copy = lossy
    summary = run(store, Jobs(store))
    assert summary.failed == 1 and summary.transferred_files == 1


def test_a_failed_check_moves_nothing():
    store = Store({("b", "s/a"): "Fa"})
    store.fail_listing = {3}  # the source, the destination, then the check of the copies
    summary = run(store, Jobs(store), sync=False, move=True)
    assert not summary.ok and ("b", "s/a") in store.objects and summary.sources_deleted == 0
    assert any("could not check the copies" in e for e in summary.errors)


def test_a_move_deletes_only_verified_sources():
    store = Store({("b", "s/a"): "Fa", ("b", "s/b"): "Fb", ("b", "s/c"): "Fc", ("b", "s/d"): "Fd"})
    jobs = Jobs(store, corrupt={"s/c"})
    summary = run(store, jobs, sync=False, move=True, copy_batch=4)
    assert summary.sources_deleted == 3 and ("b", "s/c") in store.objects and summary.failed == 1
    assert not any(k.startswith("s/") and k != "s/c" for _, k in store.objects)


def test_the_copy_spool_keeps_order_and_fields():
    spool = CopySpool()
    spool.add("a", "Fa", 1)
    spool.add("b", "Fb", 2, True)
    assert list(spool) == [("a", "Fa", 1, False), ("b", "Fb", 2, True)]
    spool.close()


def test_copier_refused_job_falls_back_to_copies_when_replacing():
    store = Store({("b", "s/%d" % i): "F" for i in range(4)})
    jobs = Jobs(store, refuse=[Result(503, {"message": "busy"}, {})] * 3)
    done = []
    copier = RemoteCopier(store, jobs, Remote("b", "s"), Remote("b", "d"), listing=store.listing, timeout=5,
                          replace=True, on_done=lambda action, error: done.append((action.rel, error)),
                          sleep=lambda s: None)
    actions = [Action("transfer", str(i), "missing", None, ObjectInfo("s/%d" % i, 1, "F")) for i in range(4)]
    assert copier.copy_batch(actions) == (4, 0)
    assert len(jobs.submitted) == 3 and len(store.copies) == 4  # three tries (transient), then /copy each
