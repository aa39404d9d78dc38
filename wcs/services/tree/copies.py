"""Server-side copies of many objects, from one bucket prefix to another, checked afterwards.

No object data passes through the client: a batch of objects goes as one fmgr ``copy`` job
(``resource/<entry>/bucket/<b64>/key/<b64>`` ops joined by ``;``, :mod:`.jobbatch`), followed
until it ends; an item succeeded when the job says so and the hash it reports is the source's.
A batch of a few objects, or one whose job is refused, is copied with one ``/copy`` per object
instead (a job costs a submission and at least one status poll). ``replace`` False (no clobber)
always goes through jobs with ``force=0``, so the service itself refuses to replace an object
that appeared since the listing; ``/copy`` would replace it.

Every copy is then checked by listing the destination once more: each copied key must be there
with the source's etag (a source changed during the run shows as a difference). The copies to
check are spooled to a temporary file in key order (:class:`CopySpool`), so memory stays flat.
"""

import logging
import threading
import time
from typing import Callable, Iterable, Iterator, List, Optional, Set, Tuple

from wcs.commons.util import entry, urlsafe_base64_encode
from wcs.services.bucket import BucketManager
from wcs.services.jobs import FmgrService
from wcs.services.jsonspool import JsonSpool
from wcs.services.listing import ListFunction
from wcs.services.tree.jobbatch import JobBatches, failure_text
from wcs.services.tree.model import Remote
from wcs.services.tree.plan import TRANSFER, Action, remote_entries

log = logging.getLogger(__name__)

JOB_MIN = 4
"""Batches smaller than this go as single ``/copy`` requests (when replacing is allowed)."""

Done = Callable[[Action, Optional[str]], None]


class CopySpool(JsonSpool):
    """``(rel, etag, size, replaces)`` of the copies made, in key order, on disk until the run ends."""

    def __init__(self) -> None:
        super().__init__("wcs-copies-")

    def add(self, rel: str, etag: str, size: int, replaces: bool = False) -> None:
        self.put([rel, etag, size, replaces])

    def __iter__(self) -> Iterator[Tuple[str, str, int, bool]]:
        return ((rel, etag, size, replaces) for rel, etag, size, replaces in self.values())


class RemoteCopier:
    """Copies ``source.key_prefix + rel`` to ``destination.key_prefix + rel`` (see the module docstring).

    Args:
        objects: single copies (``copy``).
        jobs: fmgr jobs (``submit("copy", ...)``, ``status``).
        listing: the listing that checks the copies.
        replace: an existing destination object may be replaced.
        on_done: told of each copy, with the failure or None.
    """

    def __init__(self, objects: BucketManager, jobs: FmgrService, source: Remote, destination: Remote, *,
                 listing: ListFunction, timeout: float, replace: bool, on_done: Done,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.objects = objects
        self.source = source
        self.destination = destination
        self.listing = listing
        self.replace = replace
        self.on_done = on_done
        self.job_runner = JobBatches(jobs, "copy", timeout=timeout, force=replace, sleep=sleep, clock=clock)
        self._lock = threading.Lock()
        self._failed: Set[str] = set()  # only failures are kept in memory, never the copies made

    def _keys(self, rel: str) -> Tuple[str, str]:
        return self.source.key_prefix + rel, self.destination.key_prefix + rel

    def _op(self, rel: str) -> str:
        src_key, dst_key = self._keys(rel)
        return "resource/%s/bucket/%s/key/%s" % (entry(self.source.bucket, src_key),
                                                 urlsafe_base64_encode(self.destination.bucket),
                                                 urlsafe_base64_encode(dst_key))

    def copy_batch(self, actions: List[Action]) -> Tuple[int, int]:
        """Copy the objects of ``actions`` (a scheduler task); ``(copied, failed)``, each told to ``on_done``."""
        if self.replace and len(actions) < JOB_MIN:
            return self._copy_each(actions)
        ops = {self._op(action.rel): action for action in actions}
        outcome = self.job_runner.run(ops)
        if outcome.refused is not None:
            if not self.replace:
                # /copy replaces whatever is there: without it, a refused job means refused copies.
                return self._report((action, "the copy job was refused: " + outcome.refused) for action in actions)
            return self._copy_each(actions)
        results = []
        for op, action in ops.items():
            error = outcome.error_of(op)
            item = outcome.items.get(op) or {}
            expected = action.remote.hash if action.remote is not None else ""
            if error is None and expected and item.get("hash") and item["hash"] != expected:
                error = "the copy's hash %s is not the source's %s (changed during the copy?)" % (
                    item["hash"], expected)
            results.append((action, error))
        return self._report(results)

    def _copy_each(self, actions: List[Action]) -> Tuple[int, int]:
        def each() -> Iterator[Tuple[Action, Optional[str]]]:
            for action in actions:
                src_key, dst_key = self._keys(action.rel)
                result = self.objects.copy(self.source.bucket, src_key, self.destination.bucket, dst_key)
                yield action, None if result.ok else failure_text(result)

        return self._report(each())

    def _report(self, outcomes: Iterable[Tuple[Action, Optional[str]]]) -> Tuple[int, int]:
        ok = bad = 0
        for action, error in outcomes:
            self.on_done(action, error)
            if error is None:
                ok += 1
            else:
                bad += 1
                with self._lock:
                    self._failed.add(action.rel)
        return ok, bad

    def verify(self, spool: CopySpool, verified: Callable[[str, int, bool], None]) -> int:
        """List the destination again: each spooled copy reported done must be there with the source's
        etag; ``verified(rel, size, replaced)`` for each one that is. Returns how many are not (each told to
        ``on_done`` as a failure).

        Raises:
            ServiceError, NetworkError, ListingOrderError: the listing failed (the copies are unverified).
        """
        still = 0
        for rel, size, replaces, problem in check_listed(self.listing, self.destination, spool, self._failed):
            if problem is None:
                verified(rel, size, replaces)
                continue
            still += 1
            self.on_done(Action(TRANSFER, rel, "verify"), problem + " after the copy")
        return still


MISSING = "not found"
DIFFERS = "differs from the source (was either side changed meanwhile?)"


def check_listed(listing: ListFunction, place: Remote, spool: CopySpool, skip: Set[str]
                 ) -> Iterator[Tuple[str, int, bool, Optional[str]]]:
    """Merge the spool with a fresh listing of ``place``: ``(rel, size, replaces, problem)`` for each
    spooled path not in ``skip``, ``problem`` None when it is listed with the spooled etag, else
    :data:`MISSING` or :data:`DIFFERS`.

    Raises:
        ServiceError, NetworkError, ListingOrderError: the listing failed.
    """
    prefix = place.key_prefix
    found = listing(place.bucket, prefix)
    try:
        listed = remote_entries(found, prefix)
        current = next(listed, None)
        for rel, etag, size, replaces in spool:
            while current is not None and current[0] < rel:
                current = next(listed, None)
            if rel in skip:
                continue
            if current is None or current[0] != rel:
                yield rel, size, replaces, MISSING
            elif etag and current[1].hash != etag:
                yield rel, size, replaces, DIFFERS
            else:
                yield rel, size, replaces, None
    finally:
        found.close()
