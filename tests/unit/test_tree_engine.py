"""The tree engine on fakes of the services it is given (no Client, no emulator): the delete phase's guards.

``TreeRun`` and ``RemoteDeleter`` receive their services as arguments; these fakes stand in for the
uploaders, the downloader, the listing and deletions, and the fmgr jobs, so each guard of the delete
phase is tested on its own: never after an error or a broken listing, an empty source refused,
``max_delete``, the fallback when a batch job is refused, the job timeout, the verification listing.
"""

import os

import pytest

from tests.helpers.files import etag_of as _etag
from tests.helpers.files import make_tree as _tree
from wcs.commons.errors import ServiceError
from wcs.commons.result import ObjectInfo, Result
from wcs.commons.settings import PolicyDefaults, TransferConfig
from wcs.commons.util import etag, urlsafe_base64_decode
from wcs.services.scheduler import Scheduler
from wcs.services.tree.deletes import DeleteSpool, RemoteDeleter
from wcs.services.tree.engine import TreeRun
from wcs.services.tree.model import Remote, TreeOptions
from wcs.services.tree.plan import UPLOAD


class FakeListing:
    """What ``iter_objects(..., typed=True)`` returns: typed items, ``close()``; may break after ``fail_after``."""

    def __init__(self, items, fail_after=None):
        self._items = iter(items)
        self._fail_after = fail_after
        self._count = 0
        self.closed = False

    def __iter__(self):
        return self

    def __next__(self):
        if self._fail_after is not None and self._count >= self._fail_after:
            raise ServiceError("HTTP 500: listing page failed", Result(500, {"message": "boom"}, {}))
        self._count += 1
        return next(self._items)

    def close(self):
        self.closed = True


class FakeObjects:
    """The bucket side: a dict of ``key -> bytes``; ``delete`` and ``iter_objects`` as the BucketManager has them."""

    def __init__(self, objects=None):
        self.objects = dict(objects or {})
        self.deleted = []
        self.listings = 0
        self.fail_listing_after = None  # the n-th listing breaks: {listing number: items before the failure}
        self.refuse_delete = set()

    def info(self, key):
        data = self.objects[key]
        return ObjectInfo(key=key, size=len(data), hash=_etag(data))

    def iter_objects(self, bucket, prefix=None, marker=None, limit=None, mode=None, typed=False):
        assert typed and limit == 1000
        self.listings += 1
        keys = sorted(k for k in self.objects if k.startswith(prefix or ""))
        fail = (self.fail_listing_after or {}).get(self.listings)
        return FakeListing([self.info(k) for k in keys], fail)

    def listing(self, bucket, prefix="", *, recursive=True):
        assert recursive
        return self.iter_objects(bucket, prefix=prefix or None, limit=1000, typed=True)

    def stat(self, bucket, key):
        if key in self.objects:
            return Result(200, {"fsize": len(self.objects[key])}, {})
        return Result(404, {"code": 404, "message": "file not found"}, {})

    def delete(self, bucket, key):
        if key in self.refuse_delete:
            return Result(403, {"code": 403, "message": "refused"}, {})
        self.deleted.append(key)
        if self.objects.pop(key, None) is None:
            return Result(404, {"code": 404, "message": "no such key"}, {})
        return Result(200, {}, {})


class FakeJobs:
    """fmgr jobs: ``submit("delete", fops, ...)`` runs the deletes on ``objects`` (or refuses); ``status``."""

    def __init__(self, objects, *, submit_answers=(), keep=(), running_forever=False):
        self.objects = objects
        self.submit_answers = list(submit_answers)  # answers before the job is accepted
        self.keep = set(keep)  # keys the job reports deleted but leaves in place
        self.running_forever = running_forever
        self.jobs = {}
        self.submitted = []

    def submit(self, operation, fops, notifyurl=None, force=0, separate=0):
        assert operation == "delete" and notifyurl == "" and not force and not separate
        self.submitted.append(fops)
        if self.submit_answers:
            return self.submit_answers.pop(0)
        items = []
        for op in fops.split(";"):
            key = urlsafe_base64_decode(op.split("/")[3]).decode()
            if key not in self.keep:
                self.objects.objects.pop(key, None)
            items.append({"cmd": op, "code": 3, "desc": "ok"})
        pid = "job-%d" % len(self.jobs)
        self.jobs[pid] = items
        return Result(200, {"persistentId": pid}, {})

    def status(self, persistent_id):
        if self.running_forever:
            return Result(200, {"code": 1, "items": []}, {})
        return Result(200, {"code": 2, "items": self.jobs[persistent_id]}, {})


class FakeUploads:
    """Form uploads into ``objects``; ``refuse``: keys answered 403."""

    policy = PolicyDefaults()

    def __init__(self, objects, refuse=()):
        self.objects = objects
        self.refuse = set(refuse)

    def upload_file(self, path, bucket, key, overwrite=None, progress=None, **kwargs):
        if key in self.refuse:
            return Result(403, {"code": 403, "message": "no"}, {})
        with open(path, "rb") as fp:
            data = fp.read()
        self.objects.objects[key] = data
        return Result(200, {"hash": _etag(data)}, {})


class Unused:
    """A service the run must not touch."""

    def __getattr__(self, name):
        raise AssertionError("unexpected use of %s" % name)


class FakeDownloads(Unused):
    def download_url(self, bucket, key):
        return "http://downloads.invalid/%s/%s" % (bucket, key)


class Recorder:
    def __init__(self):
        self.errors, self.done = [], []

    def on_error(self, where, message):
        self.errors.append((where, message))

    def on_done(self, action, error):
        self.done.append((action.rel, error))


def _sync_up(local, objects, jobs, uploads=None, workers=2, observer=None, **options):
    opts = TreeOptions(sync=True, delete=True, hash_cache=None, **options)
    run = TreeRun(UPLOAD, local, Remote("b", "p"), opts, uploads=uploads or FakeUploads(objects),
                  multipart=Unused(), downloads=FakeDownloads(), objects=objects, jobs=jobs,
                  scheduler=Scheduler(workers), transfer=TransferConfig(), observer=observer)
    return run.run()


def test_extra_objects_are_deleted_by_batch_jobs_and_checked_by_a_listing(tmp_path):
    local = _tree(tmp_path / "src", {"a": b"a", "b": b"bb"})
    objects = FakeObjects({"p/a": b"a", "p/x1": b"1", "p/x2": b"2", "p/x3": b"3", "other": b"o"})
    jobs = FakeJobs(objects)
    summary = _sync_up(local, objects, jobs, delete_batch=2)
    assert summary.ok and summary.delete_status == "done" and summary.deleted == 3
    assert summary.transferred_files == 1 and set(objects.objects) == {"p/a", "p/b", "other"}
    assert len(jobs.submitted) == 2 and objects.listings == 2  # the merge, then the check


def test_nothing_is_deleted_after_a_failed_file(tmp_path):
    local = _tree(tmp_path / "src", {"a": b"a", "bad": b"x"})
    objects = FakeObjects({"p/x1": b"1"})
    jobs = FakeJobs(objects)
    rec = Recorder()
    summary = _sync_up(local, objects, jobs, uploads=FakeUploads(objects, refuse={"p/bad"}), observer=rec)
    assert summary.failed == 1 and summary.deleted == 0 and summary.delete_status.startswith("not done")
    assert jobs.submitted == [] and "p/x1" in objects.objects
    assert rec.errors == [("bad", "upload failed: HTTP 403: no")]


def test_nothing_is_deleted_after_a_broken_listing(tmp_path):
    local = _tree(tmp_path / "src", {"a": b"a"})
    objects = FakeObjects({"p/a": b"a", "p/x1": b"1", "p/x2": b"2"})
    objects.fail_listing_after = {1: 1}  # the merge's listing breaks after its first item
    jobs = FakeJobs(objects)
    summary = _sync_up(local, objects, jobs)
    assert not summary.ok and any("listing failed" in e for e in summary.errors)
    assert summary.delete_status.startswith("not done") and jobs.submitted == []
    assert {"p/x1", "p/x2"} <= set(objects.objects)


def test_an_empty_source_is_refused(tmp_path):
    local = _tree(tmp_path / "src", {})
    os.makedirs(local, exist_ok=True)
    objects = FakeObjects({"p/x1": b"1", "p/x2": b"2"})
    jobs = FakeJobs(objects)
    summary = _sync_up(local, objects, jobs)
    assert summary.delete_status == "refused: the source has no files; nothing deleted"
    assert jobs.submitted == [] and len(objects.objects) == 2 and not summary.ok


def test_more_deletions_than_max_delete_deletes_nothing(tmp_path):
    local = _tree(tmp_path / "src", {"a": b"a"})
    objects = FakeObjects({"p/a": b"a", "p/x1": b"1", "p/x2": b"2", "p/x3": b"3"})
    jobs = FakeJobs(objects)
    summary = _sync_up(local, objects, jobs, max_delete=2)
    assert summary.delete_status.startswith("aborted: 3 deletions exceed the maximum of 2")
    assert jobs.submitted == [] and len(objects.objects) == 4
    assert _sync_up(local, objects, jobs, max_delete=3).deleted == 3


def test_a_dry_run_plans_the_deletions_and_deletes_nothing(tmp_path):
    local = _tree(tmp_path / "src", {"a": b"a"})
    objects = FakeObjects({"p/a": b"a", "p/x1": b"1"})
    jobs = FakeJobs(objects)
    summary = _sync_up(local, objects, jobs, dry_run=True)
    assert summary.planned_deletes == 1 and summary.delete_status.startswith("dry run")
    assert jobs.submitted == [] and "p/x1" in objects.objects


def _deleter(objects, jobs, done, **kwargs):
    sleeps = []
    deleter = RemoteDeleter(objects, jobs, "b", "p/", batch=kwargs.pop("batch", 2), timeout=kwargs.pop("timeout", 5),
                            on_done=lambda action, error: done.append((action.rel, error)), sleep=sleeps.append,
                            **kwargs)
    return deleter, sleeps


def _spool(*rels):
    spool = DeleteSpool()
    for rel in rels:
        spool.add(rel)
    return spool


@pytest.mark.parametrize("answers, sleeps", [
    ([Result(400, {"code": 400, "message": "bad fops"}, {})], []),  # refused: no second try
    ([Result(500, {"code": 500, "message": "busy"}, {})] * 3, [0.5, 1.0]),  # transient: three tries, then
])
def test_a_refused_batch_job_falls_back_to_one_delete_per_object(answers, sleeps):
    objects = FakeObjects({"p/x1": b"1", "p/x2": b"2"})
    jobs = FakeJobs(objects, submit_answers=list(answers))
    done = []
    deleter, slept = _deleter(objects, jobs, done)
    with Scheduler(0).group() as group:
        assert deleter.run(_spool("x1", "x2"), group, 1) == (2, 0)
    assert objects.deleted == ["p/x1", "p/x2"] and not objects.objects
    assert done == [("x1", None), ("x2", None)] and slept == sleeps and len(jobs.submitted) == len(answers)


def test_one_by_one_deletions_report_each_failure_and_count_a_missing_object_as_deleted():
    objects = FakeObjects({"p/x1": b"1", "p/x2": b"2"})
    objects.refuse_delete = {"p/x2"}
    jobs = FakeJobs(objects, submit_answers=[Result(400, {"message": "no"}, {})])
    done = []
    deleter, _ = _deleter(objects, jobs, done, batch=3)
    with Scheduler(0).group() as group:
        assert deleter.run(_spool("gone", "x1", "x2"), group, 1) == (2, 1)
    # x2's failure is told once: the check after the deletions does not count it again.
    assert done == [("gone", None), ("x1", None), ("x2", "HTTP 403: refused")]


def test_a_job_that_never_finishes_fails_its_paths_after_the_timeout():
    objects = FakeObjects({"p/x1": b"1"})
    jobs = FakeJobs(objects, running_forever=True, keep={"p/x1"})  # still there: one failure, not two
    now = [0.0]
    done = []

    def sleep(seconds):
        now[0] += seconds

    deleter = RemoteDeleter(objects, jobs, "b", "p/", batch=5, timeout=3, sleep=sleep, clock=lambda: now[0],
                            on_done=lambda action, error: done.append((action.rel, error)))
    with Scheduler(0).group() as group:
        assert deleter.run(_spool("x1"), group, 1) == (0, 1)
    assert done == [("x1", "the delete job did not finish in 3 s")] and 3 <= now[0] < 6


def test_an_object_still_listed_after_its_job_is_a_failure():
    objects = FakeObjects({"p/x1": b"1", "p/x2": b"2"})
    jobs = FakeJobs(objects, keep={"p/x2"})  # the job says it deleted x2, the listing still has it
    done = []
    deleter, _ = _deleter(objects, jobs, done)
    with Scheduler(2).group() as group:
        assert deleter.run(_spool("x1", "x2"), group, 2) == (1, 1)
    assert ("x2", "still listed after it was deleted") in done and objects.listings == 1


def test_a_failed_verification_listing_leaves_the_deletions_unverified(tmp_path):
    local = _tree(tmp_path / "src", {"a": b"a"})
    objects = FakeObjects({"p/a": b"a", "p/x1": b"1"})
    objects.fail_listing_after = {2: 0}  # the check after the deletions breaks at once
    jobs = FakeJobs(objects)
    summary = _sync_up(local, objects, jobs)
    assert summary.delete_status == "unverified: listing the destination again failed" and not summary.ok
    assert any("could not check the deletions" in e for e in summary.errors)


def test_the_engine_uses_the_pool_it_is_given(tmp_path):
    local = _tree(tmp_path / "src", {"f%02d" % i: b"%d" % i for i in range(12)})
    objects = FakeObjects()
    pool = Scheduler(3)
    opts = TreeOptions(sync=True, hash_cache=None, transfers=3)
    summary = TreeRun(UPLOAD, local, Remote("b", ""), opts, uploads=FakeUploads(objects), multipart=Unused(),
                      downloads=FakeDownloads(), objects=objects, jobs=Unused(), scheduler=pool,
                      transfer=TransferConfig()).run()
    assert summary.ok and summary.transferred_files == 12 and 1 <= len(pool._threads) <= 3
    assert objects.objects["f07"] == b"7" and etag(os.path.join(local, "f07")) == _etag(b"7")
