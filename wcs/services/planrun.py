"""Carrying out a plan (``apply``) or a batch file: each action only after its facts are checked again.

:class:`PlanRun` is an engine over the services it receives (the listing and single calls, the
uploaders, the downloader, the fmgr jobs, the pool, an opener of fsspec URLs); the facade builds
them (:mod:`wcs.services.client_migrate`). For each action of a plan (:mod:`wcs.services.plans`):

1. the facts the plan recorded are compared with the facts now (a ``stat`` of the object, an
   ``lstat`` of the file, the other store's ``info``): any difference - another size, hash, ETag or
   modification time, an object that appeared where the plan relied on its absence, one that is gone -
   and the action is **not** carried out: it is reported as ``changed``, never overwritten blindly;
2. the action is done: ``upload`` (form or resumable blocks, the tree's file mover), ``download``
   (verified, renamed into place), ``fetch`` (batched in fmgr jobs followed to their end,
   :mod:`wcs.services.migrate.fetches`; a URL the service cannot reach is copied through the
   client), ``copy``/``move`` (server-side between WCS objects, the copy's hash checked; a ``move``
   between a local file and WCS removes the source once the copy is checked), ``skip`` (counted);
3. deletions come last, and only when nothing failed before them (a plan that could not be carried
   out whole deletes nothing), each after its own check.

Failures are per action (the summary's ``failed``, the observer's ``failed``); the run goes on. This
module decides what runs when (``transfers`` actions at once, fetches in batches, deletions last) and
counts the outcomes; the checks and the actions themselves are :class:`~wcs.services.planactions.PlanActions`.
"""

import logging
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from wcs.commons.errors import Cancelled, WcsError
from wcs.commons.settings import TransferConfig
from wcs.services.bucket import BucketManager
from wcs.services.download import Downloader
from wcs.services.events import Subscriber
from wcs.services.formupload import FormUploader
from wcs.services.jobs import FmgrService
from wcs.services.jsonspool import JsonSpool
from wcs.services.migrate.fetches import Fetch, FetchJobs
from wcs.services.migrate.journal import Journal
from wcs.services.planactions import Opener, PlanActions
from wcs.services.planmodel import PlanSummary, RunSettings
from wcs.services.plans import differences
from wcs.services.scheduler import Scheduler
from wcs.services.uploads import BlockUploader

log = logging.getLogger(__name__)

DONE, CHANGED, FAILED, SKIPPED = "done", "changed", "failed", "skipped"


class PlanRun:
    """Carries out actions (see the module docstring); use once.

    Args:
        opener: opens another store's URL (fsspec), for ``fetch`` and uploads from it.
        observer: ``on_result(action, outcome, message)`` for each action: ``done``, ``skipped``,
            ``changed`` (its facts changed since the plan; nothing done) or ``failed``.
    """

    def __init__(self, *, objects: BucketManager, uploads: FormUploader, multipart: BlockUploader,
                 downloads: Downloader, jobs: FmgrService, scheduler: Scheduler, transfer: TransferConfig,
                 opener: Opener, settings: Optional[RunSettings] = None, observer: Any = None,
                 subscribers: Iterable[Subscriber] = (), source: str = "") -> None:
        self.jobs = jobs
        self.scheduler = scheduler
        self.settings = settings or RunSettings()
        self.observer = observer
        self.actions = PlanActions(objects=objects, uploads=uploads, multipart=multipart, downloads=downloads,
                                   transfer=transfer, opener=opener, settings=self.settings,
                                   subscribers=list(subscribers))
        self.summary = PlanSummary(source)
        self._lock = threading.Lock()
        self._journal = Journal(None, "plan")

    # -- outcomes ----------------------------------------------------------------------------------

    def _report(self, action: Dict[str, Any], outcome: str, message: Optional[str] = None, moved: int = 0) -> None:
        with self._lock:
            summary = self.summary
            if outcome == DONE:
                summary.done[action["op"]] = summary.done.get(action["op"], 0) + 1
                summary.bytes += moved
            elif outcome == SKIPPED:
                summary.skipped[action["reason"]] = summary.skipped.get(action["reason"], 0) + 1
            elif outcome == CHANGED:
                summary.changed += 1
            else:
                summary.failed += 1
            call = getattr(self.observer, "on_result", None)
            if call is not None:
                try:
                    call(action, outcome, message)
                except Exception:  # an observer's bug must not fail the run
                    log.exception("plan observer failed")

    # -- the run -----------------------------------------------------------------------------------

    def run(self, actions: Iterable[Dict[str, Any]]) -> PlanSummary:
        """Carry out ``actions`` (plan action dicts, in order; deletions last)."""
        deletions = JsonSpool("wcs-plan-")  # deferred until the transfers are done
        pending: List[Dict[str, Any]] = []
        try:
            with self.scheduler.group() as group:
                self.actions.cancel = group.cancel_event
                in_flight: List[Future] = []

                def submit(fn: Callable[..., None], *args: Any) -> None:
                    while len(in_flight) >= self.settings.transfers:
                        finished = next(group.as_completed())
                        in_flight.remove(finished)
                        self._collect(finished)
                    in_flight.append(group.submit(fn, *args))

                try:
                    for action in actions:
                        self.summary.actions += 1
                        op = action["op"]
                        if op == "skip":
                            self._report(action, SKIPPED)
                        elif op == "delete":
                            deletions.put(action)
                        elif op == "fetch":
                            pending.append(action)
                            if len(pending) >= self.settings.batch:
                                submit(self._fetch_batch, pending)
                                pending = []
                        else:
                            submit(self._one, action)
                except WcsError as exc:  # a plan line that cannot be read: nothing is deleted after this
                    self.summary.errors.append(str(exc))
                if pending:
                    submit(self._fetch_batch, pending)
                for finished in group.as_completed():
                    self._collect(finished)
            self._deletions(deletions)
        finally:
            deletions.close()
            self._journal.close()
        self.summary.elapsed = time.monotonic() - self.summary.started
        return self.summary

    def _collect(self, future: Future) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None and not isinstance(exc, Exception):
            raise exc
        if exc is not None:
            log.error("plan task failed", exc_info=exc)
            self.summary.errors.append("unexpected %s: %s" % (type(exc).__name__, exc))

    # -- one action (a task) --------------------------------------------------------------------------

    def _one(self, action: Dict[str, Any]) -> None:
        try:
            change = self.actions.check(action)
            if change is not None:
                self._report(action, CHANGED, change)
                return
            moved = self.actions.carry_out(action)
        except Cancelled:
            self._report(action, FAILED, "cancelled")
        except (WcsError, OSError) as exc:
            self._report(action, FAILED, str(exc) or type(exc).__name__)
        else:
            self._report(action, DONE, None, moved)

    # -- fetches ------------------------------------------------------------------------------------

    def _fetch_batch(self, batch: List[Dict[str, Any]]) -> None:
        ready: List[Tuple[Dict[str, Any], Fetch]] = []
        for action in batch:
            src, dst = action["src"] or {}, action["dst"] or {}
            try:
                now, fs, path = self.actions.url_now(src)
                change = differences(src, now) or differences(dst, self.actions.now(dst))
                if change is not None:
                    self._report(action, CHANGED, change)
                    continue
                if now.get("exists") is False:
                    raise WcsError("%s is gone" % src["url"])
                url = self.actions.signed(fs, path, src["url"])
                if url is None:
                    self._report(action, DONE, None, self.actions.stream(src, dst))
                    continue
                ready.append((action, Fetch(action["rel"], (int(now.get("size") or 0), now.get("etag"), None),
                                            dst["key"], url, src.get("md5") or now.get("md5"))))
            except (WcsError, OSError) as exc:
                self._report(action, FAILED, str(exc) or type(exc).__name__)
        by_bucket: Dict[str, List[Tuple[Dict[str, Any], Fetch]]] = {}
        for action, fetch in ready:
            by_bucket.setdefault(action["dst"]["bucket"], []).append((action, fetch))
        for bucket, items in by_bucket.items():
            fetches = FetchJobs(self.jobs, bucket, self._journal, timeout=self.settings.job_timeout)
            for (action, _fetch), outcome in zip(items, fetches.run([f for _a, f in items])):
                if outcome.error is None:
                    self._report(action, DONE)
                else:
                    self._report(action, FAILED, outcome.error)

    # -- deletions ----------------------------------------------------------------------------------

    def _deletions(self, spool: JsonSpool) -> None:
        summary = self.summary
        if not spool.count:
            return
        if summary.failed or summary.errors:
            summary.delete_status = "not done: %d failure(s) before; nothing deleted" % (
                summary.failed + len(summary.errors))
            return
        with self.scheduler.group() as group:
            for action in spool.values():
                group.submit(self._delete, action)
            for finished in group.as_completed():
                self._collect(finished)
        deleted = summary.done.get("delete", 0)
        summary.delete_status = "done" if deleted == spool.count else "%d of %d done" % (deleted, spool.count)

    def _delete(self, action: Dict[str, Any]) -> None:
        try:
            change = self.actions.check(action)
            if change is not None:
                self._report(action, CHANGED, change)
                return
            self.actions.delete(action.get("dst") or {})
        except (WcsError, OSError) as exc:
            self._report(action, FAILED, str(exc) or type(exc).__name__)
        else:
            self._report(action, DONE)
