"""The last step of ``sync --delete``: destination files the source lacks, deleted and then checked.

While the trees are merged, the paths to delete are written to a temporary file in key order
(:class:`DeleteSpool`: memory stays flat however many there are); the engine deletes them only
after every transfer succeeded and both listings ran to their end.

Remote objects are deleted in batches through the service's asynchronous batch means, fmgr
``delete`` jobs (``bucket/<b64>/key/<b64>`` ops joined by ``;``), each polled with ``fmgr/status``
until done and read item by item; a batch whose job cannot be submitted falls back to one
``delete`` per object. Then the prefix is listed again: an object still listed is a failure.
Local files are removed one by one and checked gone.
"""

import json
import logging
import os
import tempfile
import time
from concurrent.futures import Future
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from wcs.commons.http import Result, is_transient_failure
from wcs.commons.util import urlsafe_base64_encode
from wcs.services.bucket import BucketManager
from wcs.services.jobs import FmgrService, follow_job
from wcs.services.scheduler import TaskGroup
from wcs.services.tree.plan import DELETE, Action, remote_entries

log = logging.getLogger(__name__)

_ITEM_DONE = 3
_SUBMIT_ATTEMPTS = 3

Done = Callable[[Action, Optional[str]], None]


class DeleteSpool:
    """Paths to delete, in the order they were added, on disk until the run ends."""

    def __init__(self) -> None:
        self._fp: Optional[IO[str]] = None
        self.count = 0

    def add(self, rel: str) -> None:
        if self._fp is None:
            self._fp = tempfile.TemporaryFile("w+", encoding="utf-8", prefix="wcs-deletes-")
        self._fp.write(json.dumps(rel) + "\n")
        self.count += 1

    def __iter__(self) -> Iterator[str]:
        if self._fp is None:
            return
        self._fp.flush()
        self._fp.seek(0)
        for line in self._fp:
            yield json.loads(line)

    def batches(self, size: int) -> Iterator[List[str]]:
        batch: List[str] = []
        for rel in self:
            batch.append(rel)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def close(self) -> None:
        if self._fp is not None:
            self._fp.close()
            self._fp = None


def _failure_text(result: Result) -> str:
    return "HTTP %d: %s" % (result.code, result.message)


def _document(result: Result) -> Optional[Dict[str, Any]]:
    """The decoded JSON answer (``Result.data`` where results carry it, else ``body``), if it is an object."""
    data = getattr(result, "data", None)
    body = data if isinstance(data, dict) else result.body
    return body if isinstance(body, dict) else None


class RemoteDeleter:
    """Deletes ``prefix + rel`` objects of ``bucket`` (see the module docstring).

    Args:
        objects: single deletions (``delete``) and the listing that checks them (``iter_objects``).
        jobs: fmgr jobs (``submit("delete", ...)``, ``status``).
        on_done: told of each path, with the failure or None.
        sleep: injected for tests.
        clock: ``time.monotonic``, injected for tests (the job timeout).
    """

    def __init__(self, objects: BucketManager, jobs: FmgrService, bucket: str, prefix: str, *, batch: int,
                 timeout: float, on_done: Done, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.objects = objects
        self.jobs = jobs
        self.bucket = bucket
        self.prefix = prefix
        self.batch = batch
        self.timeout = timeout
        self.on_done = on_done
        self.sleep = sleep
        self.clock = clock
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
        ops = {self._op(rel): rel for rel in rels}
        result = self._submit(";".join(ops))
        answer = _document(result)
        if not result.ok or answer is None or not answer.get("persistentId"):
            log.info("fmgr delete job refused (%s): deleting %d objects one by one", result.code, len(rels))
            return self._delete_each(rels)
        status = self._wait(str(answer["persistentId"]))
        if status is None:
            late = "the delete job did not finish in %.0f s" % self.timeout
            return self._report((rel, late) for rel in rels)
        outcome: Dict[str, Optional[str]] = {}
        for item in status.get("items") or []:
            if isinstance(item, dict) and item.get("cmd") in ops:
                error = None if item.get("code") == _ITEM_DONE else str(item.get("error") or item.get("desc")
                                                                       or "failed")
                outcome[ops[item["cmd"]]] = error
        return self._report((rel, outcome.get(rel, "not in the delete job's answer")) for rel in rels)

    def _submit(self, fops: str) -> Result:
        attempt = 0
        while True:
            result = self.jobs.submit("delete", fops, notifyurl="", force=0, separate=0)
            attempt += 1
            # Deleting twice is harmless, so a job whose answer was lost can be submitted again.
            if result.ok or not is_transient_failure(result) or attempt >= _SUBMIT_ATTEMPTS:
                return result
            self.sleep(0.5 * attempt)

    def _wait(self, persistent_id: str) -> Optional[Dict[str, Any]]:
        """The finished job's status, or None when it did not finish in ``timeout`` seconds."""
        status = follow_job(self.jobs.status, persistent_id, timeout=self.timeout, sleep=self.sleep, clock=self.clock)
        return _document(status.result) if status.finished else None

    def _delete_each(self, rels: List[str]) -> Tuple[int, int]:
        def each() -> Iterator[Tuple[str, Optional[str]]]:
            for rel in rels:
                result = self.objects.delete(self.bucket, self.prefix + rel)
                yield rel, None if result.ok or result.code == 404 else _failure_text(result)

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
        still = 0
        listing = self.objects.iter_objects(self.bucket, prefix=self.prefix or None, limit=1000, typed=True)
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
