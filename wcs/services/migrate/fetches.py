"""Server-side copies: batches of ``fetch`` ops in fmgr jobs, followed to their end and checked item by item.

One batch is one ``/fmgr/fetch`` job (protocol reference 7.1/7.2): ``fetchURL/<b64 url>/bucket/<b64>/
key/<b64>[/md5/<hex>]`` ops joined by ``;``, sent with ``force=1`` (a sync replaces what it copies,
and a batch sent again after a crash must not fail on its own first copies). The job's id goes
into the journal at once (:mod:`.journal`), then ``/fmgr/status`` is polled with a growing delay
until the job is finished (top-level code not 0, 1 or 4). Each item is then checked in the job's
order: succeeded (code 3), the size the source listed, a hash recorded; a source MD5, where known,
was checked by the service itself (the op's ``md5``). The outcome of each object goes into the
journal (``done`` with the key and hash, or ``failed`` with the reason) and back to the caller,
which retries what failed with a new URL.

A job still running after ``timeout`` seconds is left to the service: its objects stay
``submitted`` in the journal and the next run follows it instead of fetching them again.
"""

import logging
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from wcs.commons.http import Result, is_transient_failure
from wcs.commons.util import urlsafe_base64_encode
from wcs.services.jobs import FmgrService, follow_job
from wcs.services.migrate.journal import Journal, Version

log = logging.getLogger(__name__)

ITEM_DONE = 3
_SUBMIT_ATTEMPTS = 3


class Fetch(NamedTuple):
    """One object to fetch: its path below the roots, source version and size, destination key, URL, MD5."""

    rel: str
    version: Version
    key: str
    url: str = ""
    md5: Optional[str] = None

    @property
    def size(self) -> int:
        return self.version[0]


class Outcome(NamedTuple):
    """What became of one :class:`Fetch`: the hash stored, or the error (``retry``: a new attempt may help)."""

    fetch: Fetch
    hash: Optional[str] = None
    error: Optional[str] = None
    retry: bool = True
    unfinished: bool = False  # the job was still running: the object stays submitted in the journal


def _document(result: Result) -> Optional[Dict[str, Any]]:
    data = getattr(result, "data", None)
    body = data if isinstance(data, dict) else result.body
    return body if isinstance(body, dict) else None


class FetchJobs:
    """Submits and follows fetch jobs into ``bucket`` (see the module docstring).

    Args:
        jobs: the fmgr service (submit, status).
        journal: where each submission and outcome is recorded.
        timeout: seconds to follow one job before leaving it to a later run.
        sleep, clock: injected for tests.
    """

    def __init__(self, jobs: FmgrService, bucket: str, journal: Journal, *, timeout: float,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.jobs = jobs
        self.bucket = bucket
        self.journal = journal
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.submitted = 0  # jobs accepted by the service

    def op(self, fetch: Fetch) -> str:
        op = "fetchURL/%s/bucket/%s/key/%s" % (urlsafe_base64_encode(fetch.url), urlsafe_base64_encode(self.bucket),
                                              urlsafe_base64_encode(fetch.key))
        return op + "/md5/" + fetch.md5 if fetch.md5 else op

    def run(self, batch: List[Fetch]) -> List[Outcome]:
        """Fetch ``batch`` in one job and follow it; one outcome per fetch, in order."""
        result = self._submit(";".join(self.op(f) for f in batch))
        answer = _document(result)
        if not result.ok or answer is None or not answer.get("persistentId"):
            error = "the fetch job was refused: HTTP %d: %s" % (result.code, result.message)
            return [Outcome(f, error=error, retry=is_transient_failure(result)) for f in batch]
        job = str(answer["persistentId"])
        self.submitted += 1
        self.journal.submitted(job, [(f.rel, f.version, f.key) for f in batch])
        log.info("fetch job %s: %d object(s)", job, len(batch))
        return self.follow(job, batch)

    def _submit(self, fops: str) -> Result:
        attempt = 0
        while True:
            result = self.jobs.submit("fetch", fops, notifyurl="", force=1, separate=0)
            attempt += 1
            # A job whose answer was lost may exist: sending it again fetches the same objects twice at
            # worst (force=1 replaces them with the same content), nothing is lost.
            if result.ok or not is_transient_failure(result) or attempt >= _SUBMIT_ATTEMPTS:
                return result
            self.sleep(0.5 * attempt)

    def follow(self, job: str, batch: List[Fetch]) -> List[Outcome]:
        """Wait for ``job`` (whose ops are ``batch``, in order) to finish; check and record each item."""
        status = self._wait(job)
        if status is None:
            late = "fetch job %s still running after %.0f s; a later run follows it" % (job, self.timeout)
            return [Outcome(f, error=late, retry=False, unfinished=True) for f in batch]
        if status.get("missing"):
            error = "fetch job %s is unknown to the service: %s" % (job, status["missing"])
            outcomes = [Outcome(f, error=error) for f in batch]
        else:
            items = status.get("items") or []
            outcomes = [self._check(f, items[i] if i < len(items) else None) for i, f in enumerate(batch)]
        # A job still running leaves its rows "submitted", with its id: the next run follows it.
        self.journal.settle([(o.fetch.rel, o.fetch.version, o.fetch.key, o.hash) for o in outcomes
                             if o.error is None and o.hash],
                            [(o.fetch.rel, o.fetch.version, o.error or "failed") for o in outcomes
                             if (o.error is not None or not o.hash) and not o.unfinished])
        return outcomes

    def _check(self, fetch: Fetch, item: Any) -> Outcome:
        if not isinstance(item, dict):
            return Outcome(fetch, error="not in the fetch job's answer")
        if item.get("code") != ITEM_DONE:
            return Outcome(fetch, error="fetch failed: %s" % (item.get("error") or item.get("desc") or "no reason"))
        if item.get("key") not in (None, "", fetch.key):
            return Outcome(fetch, error="fetched as %r, not %r" % (item.get("key"), fetch.key), retry=False)
        try:
            size = int(item["fsize"])
        except (KeyError, TypeError, ValueError):
            size = -1
        if size != fetch.size:
            # The object changed at the source since it was listed, or the fetch was cut: fetch it again.
            return Outcome(fetch, error="fetched %d bytes where the source listed %d" % (size, fetch.size))
        if not item.get("hash"):
            return Outcome(fetch, error="the service reported no hash for the fetched object")
        return Outcome(fetch, hash=str(item["hash"]))

    def _wait(self, job: str) -> Optional[Dict[str, Any]]:
        """The finished job's status (``{"missing": reason}`` for an id the service does not know), or None
        after ``timeout`` seconds."""
        status = follow_job(self.jobs.status, job, timeout=self.timeout, sleep=self.sleep, clock=self.clock)
        if status.finished:
            return _document(status.result)
        result = status.result
        if status.code is None and result.code in (400, 404):
            return {"missing": "HTTP %d: %s" % (result.code, result.message)}
        return None
