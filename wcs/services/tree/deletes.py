"""The last step of ``sync --delete``: destination files the source lacks, deleted and then checked.

While the trees are merged, the paths to delete are written to a temporary file in key order
(:class:`DeleteSpool`: memory stays flat however many there are); the engine deletes them only
after every transfer succeeded and both listings ran to their end.

Remote objects are deleted in batches through the service's asynchronous batch means, fmgr
``delete`` jobs (``bucket/<b64>/key/<b64>`` ops joined by ``;``, :mod:`.jobbatch`), each polled
with ``fmgr/status`` until done and read item by item; a batch whose job cannot be submitted falls
back to one ``delete`` per object. Then the prefix is listed again (or, for a few keys named one by
one, each is ``stat``-ed): an object still there is a failure. Local files are removed one by one
and checked gone. ``wcscmd rm`` deletes through the same :class:`RemoteDeleter`.
"""

import logging
import os
import time
from concurrent.futures import Future
from typing import Callable, Iterable, Iterator, List, NamedTuple, Optional, Set, Tuple

from wcs.commons.util import urlsafe_base64_encode
from wcs.services.bucket import BucketManager
from wcs.services.jobs import FmgrService
from wcs.services.jsonspool import JsonSpool
from wcs.services.listing import ListFunction
from wcs.services.scheduler import Scheduler, TaskGroup
from wcs.services.tree.jobbatch import JobBatches, failure_text
from wcs.services.tree.model import TreeSummary
from wcs.services.tree.plan import DELETE, Action, remote_entries

log = logging.getLogger(__name__)

Done = Callable[[Action, Optional[str]], None]


class DeleteSpool(JsonSpool):
    """Paths to delete, in the order they were added, on disk until the run ends."""

    def __init__(self) -> None:
        super().__init__("wcs-deletes-")

    def add(self, rel: str) -> None:
        self.put(rel)

    def __iter__(self) -> Iterator[str]:
        return self.values()

    def batches(self, size: int) -> Iterator[List[str]]:
        batch: List[str] = []
        for rel in self:
            batch.append(rel)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch


class RemoteDeleter:
    """Deletes ``prefix + rel`` objects of ``bucket`` (see the module docstring).

    Args:
        objects: single deletions (``delete``) and ``stat``.
        jobs: fmgr jobs (``submit("delete", ...)``, ``status``).
        on_done: told of each path, with the failure or None.
        listing: the listing that checks the deletions (default ``objects.listing``).
        verify_by: ``"listing"`` (list the prefix again, once) or ``"stat"`` (one ``stat`` per path:
            for a few keys named one by one, where the prefix may hold a whole bucket).
        job_min: a batch of fewer paths is deleted one ``delete`` at a time (a job costs a
            submission and at least one status poll).
        sleep: injected for tests.
        clock: ``time.monotonic``, injected for tests (the job timeout).
    """

    def __init__(self, objects: BucketManager, jobs: FmgrService, bucket: str, prefix: str, *, batch: int,
                 timeout: float, on_done: Done, listing: Optional[ListFunction] = None, verify_by: str = "listing",
                 job_min: int = 1, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.objects = objects
        self.bucket = bucket
        self.prefix = prefix
        self.batch = batch
        self.on_done = on_done
        self.listing: ListFunction = listing if listing is not None else objects.listing
        self.verify_by = verify_by
        self.job_min = job_min
        self.job_runner = JobBatches(jobs, "delete", timeout=timeout, sleep=sleep, clock=clock)
        # Paths whose deletion already failed: the check does not count them a second time. Only
        # failures are kept in memory, never the paths deleted.
        self._failed: Set[str] = set()

    def run(self, spool: DeleteSpool, group: TaskGroup, parallel: int) -> Tuple[int, int]:
        """Delete every spooled path, ``parallel`` batches at once on ``group``; then verify.

        Returns:
            ``(deleted, failed)``.
        """
        deleted = failed = 0
        in_flight: List[Future] = []

        def collect(future: Future) -> None:
            nonlocal deleted, failed
            if future.cancelled():
                return
            ok, bad = future.result()
            deleted += ok
            failed += bad

        for rels in spool.batches(self.batch):
            while len(in_flight) >= parallel:
                finished = next(group.as_completed())
                in_flight.remove(finished)
                collect(finished)
            in_flight.append(group.submit(self._delete_batch, rels))
        for finished in group.as_completed():
            collect(finished)
        still = self._verify(spool)
        return deleted - still, failed + still

    def _op(self, rel: str) -> str:
        return "bucket/%s/key/%s" % (urlsafe_base64_encode(self.bucket), urlsafe_base64_encode(self.prefix + rel))

    def _delete_batch(self, rels: List[str]) -> Tuple[int, int]:
        if len(rels) < self.job_min:
            return self._delete_each(rels)
        ops = {self._op(rel): rel for rel in rels}
        outcome = self.job_runner.run(ops)
        if outcome.refused is not None:
            return self._delete_each(rels)
        return self._report((rel, outcome.error_of(op)) for op, rel in ops.items())

    def _delete_each(self, rels: List[str]) -> Tuple[int, int]:
        def each() -> Iterator[Tuple[str, Optional[str]]]:
            for rel in rels:
                result = self.objects.delete(self.bucket, self.prefix + rel)
                yield rel, None if result.ok or result.code == 404 else failure_text(result)

        return self._report(each())

    def _report(self, outcomes: Iterable[Tuple[str, Optional[str]]]) -> Tuple[int, int]:
        """Tell each ``(path, error or None)`` to ``on_done``; ``(deleted, failed)``."""
        ok = bad = 0
        for rel, error in outcomes:
            self.on_done(Action(DELETE, rel, "extra"), error)
            if error is None:
                ok += 1
            else:
                bad += 1
                self._failed.add(rel)
        return ok, bad

    def _verify(self, spool: DeleteSpool) -> int:
        """How many paths reported deleted the prefix still lists (each reported as a failure).

        Raises:
            ServiceError, NetworkError: the listing failed (the deletions are then unverified).
        """
        if self.verify_by == "stat":
            return self._verify_by_stat(spool)
        still = 0
        listing = self.listing(self.bucket, self.prefix)
        try:
            listed = remote_entries(listing, self.prefix)
            current = next(listed, None)
            for rel in spool:
                while current is not None and current[0] < rel:
                    current = next(listed, None)
                if current is not None and current[0] == rel and rel not in self._failed:
                    still += 1
                    self.on_done(Action(DELETE, rel, "extra"), "still listed after it was deleted")
        finally:
            listing.close()
        return still

    def _verify_by_stat(self, spool: DeleteSpool) -> int:
        still = 0
        for rel in spool:
            if rel in self._failed:
                continue
            result = self.objects.stat(self.bucket, self.prefix + rel)
            if result.code == 404:
                continue
            result.raise_for_status()  # no answer: the deletions are unverified
            still += 1
            self.on_done(Action(DELETE, rel, "extra"), "still there after it was deleted")
        return still


class Refusal(NamedTuple):
    """Why the deletions of a run do not take place: the summary's ``delete`` status, and the error
    to report (``where``, ``message``) when it is one."""

    status: str
    where: Optional[str] = None
    message: Optional[str] = None


def deletion_refusal(*, clean: bool, problems: int, source_count: int, count: int, max_delete: Optional[int],
                     source: str, destination: str) -> Optional[Refusal]:
    """The rules every sync applies before deleting what the source lacks; None: go ahead.

    Args:
        clean: no file failed, nothing went wrong, the run was not stopped and both listings ran to
            their end. problems: how many things went wrong (for the message).
        source_count: the source's files taking part; count: the deletions planned.
    """
    if not clean:
        return Refusal("not done: %d error(s) in the run; nothing deleted" % max(problems, 1))
    if count and source_count == 0:
        return Refusal("refused: the source has no files; nothing deleted", source,
                       "refusing to delete %d file(s): the source has no files" % count)
    if max_delete is not None and count > max_delete:
        return Refusal("aborted: %d deletions exceed the maximum of %d; nothing deleted" % (count, max_delete),
                       destination, "%d files to delete, more than the maximum of %d; nothing deleted"
                       % (count, max_delete))
    return None


def deletions_refused(summary: TreeSummary, error: Callable[[str, str], None], *, stopped: bool, listed: bool,
                      source_count: int, count: int, max_delete: Optional[int]) -> bool:
    """Whether the rules refuse the ``count`` deletions of a run (:func:`deletion_refusal`), judged by its
    ``summary``; when they do, its ``delete_status`` says why and ``error(where, message)`` reports it
    (when it is an error).

    Args:
        stopped: the run was stopped (fail fast). listed: both listings ran to their end.
        source_count: the source's files taking part.
    """
    refusal = deletion_refusal(
        clean=not (stopped or summary.failed or summary.errors or not listed),
        problems=summary.failed + len(summary.errors), source_count=source_count, count=count,
        max_delete=max_delete, source=summary.source, destination=summary.destination)
    if refusal is None:
        return False
    summary.delete_status = refusal.status
    if refusal.where is not None and refusal.message is not None:
        error(refusal.where, refusal.message)
    return True


UNVERIFIED = "unverified: listing the destination again failed"


def delete_remote(spool: DeleteSpool, objects: BucketManager, jobs: FmgrService, bucket: str, prefix: str, *,
                  batch: int, timeout: float, listing: ListFunction, scheduler: Scheduler, parallel: int,
                  on_done: Done) -> Tuple[int, int]:
    """Delete ``prefix + rel`` for each spooled path on the pool, batched and checked by a listing
    (:class:`RemoteDeleter`): ``(deleted, failed)``.

    Raises:
        WcsError: the check could not be made (the listing failed).
    """
    deleter = RemoteDeleter(objects, jobs, bucket, prefix, batch=batch, timeout=timeout, on_done=on_done,
                            listing=listing)
    with scheduler.group() as group:
        return deleter.run(spool, group, parallel)


def record_deletions(summary: TreeSummary, deleted: int, failed: int) -> None:
    """What the delete phase of a run did, into its ``summary``."""
    summary.deleted = deleted
    summary.failed += failed
    summary.delete_status = "done" if not failed else "done with %d failure(s)" % failed


def delete_local(root: str, spool: DeleteSpool, on_done: Done) -> Tuple[int, int]:
    """Remove ``root/rel`` for each spooled path (never through a symlink out of ``root``); check each is gone.

    Returns:
        ``(deleted, failed)``.
    """
    root_real = os.path.realpath(root)
    deleted = failed = 0
    for rel in spool:
        path = os.path.join(root, *rel.split("/"))
        action = Action(DELETE, rel, "extra")
        error: Optional[str] = None
        real = os.path.realpath(path)
        if os.path.commonpath([root_real, real]) != root_real:
            error = "lies outside the local folder (through a symlink); not deleted"
        else:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                error = "cannot delete: %s" % (exc.strerror or exc)
            if error is None and os.path.lexists(path):
                error = "still there after it was deleted"
        on_done(action, error)
        if error is None:
            deleted += 1
        else:
            failed += 1
    return deleted, failed
