"""One batch of objects through one fmgr job: submit it, follow it to its end, read its items.

Many objects are deleted or copied with the service's asynchronous batch means, fmgr jobs (protocol
reference 7.1-7.3): the ops of a batch joined by ``;`` in one ``/fmgr/<operation>`` request,
answered ``{"persistentId": ...}``; the job is then followed (:func:`~wcs.services.jobs.follow_job`:
doubling delays up to 2 s) until its code says it finished, and its items answer op by op. Shared by
the deletions of ``sync --delete`` and ``rm`` (:mod:`.deletes`) and the server-side copies of remote
trees (:mod:`.copies`).
"""

import logging
import time
from typing import Any, Callable, Dict, Mapping, Optional

from wcs.commons.http import Result, is_transient_failure
from wcs.services.jobs import FmgrService, follow_job

log = logging.getLogger(__name__)

ITEM_DONE = 3
SUBMIT_ATTEMPTS = 3


def document(result: Result) -> Optional[Dict[str, Any]]:
    """The decoded JSON answer (``Result.data`` where results carry it, else ``body``), if it is an object."""
    data = getattr(result, "data", None)
    body = data if isinstance(data, dict) else result.body
    return body if isinstance(body, dict) else None


def failure_text(result: Result) -> str:
    return "HTTP %d: %s" % (result.code, result.message)


def item_error(item: Mapping[str, Any]) -> Optional[str]:
    """None when a job item succeeded, else what it says went wrong."""
    if item.get("code") == ITEM_DONE:
        return None
    return str(item.get("error") or item.get("desc") or "failed")


class JobBatches:
    """Runs fmgr jobs of one operation (``delete``, ``copy``) and waits for them.

    Args:
        jobs: the fmgr service (``submit``, ``status``).
        timeout: seconds one job may take before it is given up (its objects reported as failed).
        sleep, clock: injected for tests.
    """

    def __init__(self, jobs: FmgrService, operation: str, *, timeout: float, force: bool = False,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.jobs = jobs
        self.operation = operation
        self.timeout = timeout
        self.force = force
        self.sleep = sleep
        self.clock = clock

    def run(self, ops: Mapping[str, Any]) -> "BatchOutcome":
        """Submit the ops (keys of ``ops``) as one job and wait for it.

        Returns:
            the outcome: ``refused`` (the job was not accepted: the caller falls back on single
            requests), ``late`` (not finished in time), else ``items``: op -> its status item.
        """
        result = self._submit(";".join(ops))
        answer = document(result)
        if not result.ok or answer is None or not answer.get("persistentId"):
            log.info("fmgr %s job refused (%s): %d objects one by one", self.operation, result.code, len(ops))
            return BatchOutcome(self.operation, refused=failure_text(result))
        status = self._wait(str(answer["persistentId"]))
        if status is None:
            return BatchOutcome(self.operation,
                                late="the %s job did not finish in %.0f s" % (self.operation, self.timeout))
        items: Dict[str, Dict[str, Any]] = {}
        for item in status.get("items") or []:
            if isinstance(item, dict) and item.get("cmd") in ops:
                items[str(item["cmd"])] = item
        return BatchOutcome(self.operation, items=items)

    def _submit(self, fops: str) -> Result:
        attempt = 0
        while True:
            result = self.jobs.submit(self.operation, fops, notifyurl="", force=1 if self.force else 0, separate=0)
            attempt += 1
            # Deleting or copying (with replacement) twice is harmless, so a job whose answer was
            # lost can be submitted again.
            if result.ok or not is_transient_failure(result) or attempt >= SUBMIT_ATTEMPTS:
                return result
            self.sleep(0.5 * attempt)

    def _wait(self, persistent_id: str) -> Optional[Dict[str, Any]]:
        """The finished job's status, or None when it did not finish in ``timeout`` seconds."""
        status = follow_job(self.jobs.status, persistent_id, timeout=self.timeout, sleep=self.sleep, clock=self.clock)
        return document(status.result) if status.finished else None


class BatchOutcome:
    """What became of one job: refused, late, or its items by op."""

    def __init__(self, operation: str, *, refused: Optional[str] = None, late: Optional[str] = None,
                 items: Optional[Dict[str, Dict[str, Any]]] = None) -> None:
        self.operation = operation
        self.refused = refused
        self.late = late
        self.items = items or {}

    def error_of(self, op: str) -> Optional[str]:
        """The failure of one op (None: done); only for a job that ran (not refused)."""
        if self.late is not None:
            return self.late
        item = self.items.get(op)
        if item is None:
            return "not in the %s job's answer" % self.operation
        return item_error(item)
