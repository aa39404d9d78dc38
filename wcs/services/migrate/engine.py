"""One migration: follow what an earlier run left in flight, plan, fetch or copy, delete last, summarise.

:class:`MigrationRun` is an engine over the services it receives (the object listing and single
calls, the fmgr jobs, the block uploader, the pool), like the tree engine
(:mod:`wcs.services.tree.engine`); the facade builds them (:mod:`wcs.services.client_migrate`).

1. **In flight.** The jobs the journal names as submitted by an earlier run (killed, or gone before
   they ended) are followed to their end and their items checked, as if this run had sent them.
2. **Plan.** The source listing and the WCS listing, both in key order, are merged by the tree
   planner (:class:`~wcs.services.tree.plan.Planner`: ``missing``, ``size``, ``excluded``, ``extra``);
   objects of equal size are then decided by the journal: the same source version (size, ETag,
   time) stored under a hash the WCS object still has is ``same``; otherwise ``changed`` (the source
   changed), ``replaced`` (the WCS object changed) or ``unverified`` (no record: a source MD5 and a
   WCS hash cannot be compared, so it is copied; ``size_only`` skips it instead).
3. **Copy.** An object the service can reach by URL (:meth:`Source.url_for
   <wcs.services.migrate.source.Source.url_for>`) is fetched server-side, in batches
   (:mod:`.fetches`); any other is read from the source and uploaded through the client's block
   pipeline (no byte of a fetched object crosses this machine; streamed ones do): :mod:`.copies`. Failures are
   retried ``file_retries`` times, then reported per object.
4. **Delete** (``delete``): WCS objects the source lacks, by the tree's delete phase
   (:class:`~wcs.services.tree.deletes.RemoteDeleter`) and its rules: only after a run without any
   error and a complete listing of both sides, never when the source is empty, never more than
   ``max_delete``. Their journal rows go with them.

With ``plan``, steps 2 and 4 decide and write each action to a plan file (:mod:`wcs.services.plans`)
and nothing is changed; ``dry_run`` reports the same decisions without a file.

The observer is a :class:`~wcs.services.tree.model.TreeObserver` (the source object is an action's
``local`` side), which may also define ``on_way(action, way)``, told before ``on_action`` of a copy
whether it goes ``"fetch"`` (server-side) or ``"stream"`` (through the client), and
``on_fetched(action, size)``, told when the service stored a fetched object (no transfer subscriber
sees those bytes).
"""

import logging
import threading
from concurrent.futures import Future
from dataclasses import replace
from typing import Any, Dict, Iterable, List, Optional, Tuple

from wcs.commons.errors import WcsError
from wcs.commons.result import ObjectInfo
from wcs.services.bucket import BucketManager
from wcs.services.events import Subscriber
from wcs.services.jobs import FmgrService
from wcs.services.listing import ListFunction
from wcs.services.migrate.copies import FETCH, STREAM, Copier, source_object
from wcs.services.migrate.fetches import Fetch, FetchJobs, Outcome
from wcs.services.migrate.journal import DONE, Journal
from wcs.services.migrate.model import MigrateOptions, MigrationSummary
from wcs.services.migrate.source import Source
from wcs.services.plans import PlanWriter, wcs_facts
from wcs.services.scheduler import Scheduler, TaskGroup
from wcs.services.tree.deletes import (
    UNVERIFIED,
    DeleteSpool,
    delete_remote,
    deletions_refused,
    record_deletions,
)
from wcs.services.tree.model import Hooks, Remote, TreeObserver
from wcs.services.tree.plan import COMPARE, DELETE, SKIP, TRANSFER, UPLOAD, Action, Planner, remote_entries
from wcs.services.uploads import BlockUploader

log = logging.getLogger(__name__)

def decide(action: Action, journal: Journal, size_only: bool) -> Action:
    """An action of the tree planner, with objects of equal size decided by the journal (step 2)."""
    obj, info = source_object(action), action.remote
    if action.op != COMPARE or obj is None or info is None:
        return action
    entry = journal.get(action.rel)
    if entry is not None and entry.state == DONE:
        if entry.version != obj.version:
            return replace(action, op=TRANSFER, reason="changed")
        if entry.hash and entry.hash == info.hash:
            return replace(action, op=SKIP, reason="same")
        return replace(action, op=TRANSFER, reason="replaced")
    if size_only:
        return replace(action, op=SKIP, reason="same-size")
    return replace(action, op=TRANSFER, reason="unverified" if entry is None else "unconfirmed")


class MigrationRun:
    """One run (use once). See the module docstring.

    Args:
        source: the store to copy from. remote: the bucket and prefix to copy to.
        objects: ``stat`` and single deletions. jobs: fmgr fetch and delete jobs.
        listing: the WCS listing (the facade's; default ``objects.listing``).
        uploads: the block uploader of client-side copies. scheduler: the pool the copies and the
            jobs being followed run on.
        journal: the migration's journal (the caller closes it).
        sleep, clock: injected into the job followers (tests).
    """

    def __init__(self, source: Source, remote: Remote, options: MigrateOptions, *, objects: BucketManager,
                 jobs: FmgrService, uploads: BlockUploader, scheduler: Scheduler, journal: Journal,
                 observer: Optional[TreeObserver] = None, subscribers: Iterable[Subscriber] = (),
                 listing: Optional[ListFunction] = None, **timing: Any) -> None:
        self.source = source
        self.remote = remote
        self.bucket = remote.bucket
        self.prefix = remote.key_prefix
        self.options = options.check()
        self.objects = objects
        self.listing: ListFunction = listing if listing is not None else objects.listing
        self.jobs = jobs
        self.scheduler = scheduler
        self.journal = journal
        self.observer = observer or TreeObserver()
        self.fetches = FetchJobs(jobs, self.bucket, journal, timeout=options.job_timeout, **timing)
        self.copier = Copier(source, self.fetches, uploads, journal, bucket=self.bucket, prefix=self.prefix,
                             expiry=self.options.expiry, subscribers=list(subscribers))
        """Copies each object, fetched or streamed (:mod:`.copies`)."""
        self.summary = MigrationSummary("migrate", str(source), str(remote), dry_run=options.changes_nothing,
                                        journal=journal.path, plan=options.plan)
        self._tell = Hooks(self.observer, log, "migration observer")
        self._stopped = False
        self._plan: Optional[PlanWriter] = None
        self._pending: List[Tuple[Action, int]] = []  # fetches waiting for a batch: (action, attempt)
        self._in_flight: Dict[Future, str] = {}
        self._cancel = threading.Event()

    # -- observer ----------------------------------------------------------------------------

    def _error(self, where: str, message: str) -> None:
        self.summary.errors.append("%s: %s" % (where, message))
        self._tell("on_error", where, message)

    def _failed(self, action: Action, error: str) -> None:
        self.summary.failed += 1
        self._tell("on_done", action, error)
        self._tell("on_error", action.rel, error)
        if self.options.fail_fast and not self._stopped:
            self._stopped = True
            self.summary.errors.append("stopped after the first failure (fail fast)")

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> MigrationSummary:
        """Carry out the run; per-object failures are in the summary, not raised.

        Raises:
            LocalFileError: the plan file cannot be written.
        """
        opts = self.options
        if not opts.changes_nothing:
            self._follow_earlier_jobs()
        listing = self.listing(self.bucket, self.prefix)
        spool = DeleteSpool()
        try:
            planner = Planner(UPLOAD, ((obj.rel, obj) for obj in self.source),
                              remote_entries(listing, self.prefix), sync=True, size_only=False,
                              delete=opts.delete, filters=opts.filters)
            if opts.plan:
                with PlanWriter(opts.plan, command="sync", source=str(self.source), destination=str(self.remote),
                                options=self._plan_options()) as self._plan:
                    self._copy_all(planner, spool)
                    if opts.delete:
                        self._delete_phase(planner, spool)
                    self._plan.delete_status = self.summary.delete_status
            else:
                self._copy_all(planner, spool)
                if opts.delete:
                    self._delete_phase(planner, spool)
        finally:
            close = getattr(listing, "close", None)
            if close is not None:
                close()
            spool.close()
        self.summary.jobs = self.fetches.submitted
        self.summary.finish()
        return self.summary

    def _plan_options(self) -> Dict[str, Any]:
        opts = self.options
        return {"delete": opts.delete, "max_delete": opts.max_delete, "server_side": opts.server_side,
                "md5": opts.md5, "size_only": opts.size_only, "files_from": opts.files_from,
                "filters": opts.filters.describe() if opts.filters else None}

    def _follow_earlier_jobs(self) -> None:
        for job, entries in self.journal.in_flight().items():
            batch = [Fetch(e.rel, e.version, e.key or self.prefix + e.rel) for e in entries]
            if not job:
                continue
            log.info("following fetch job %s of an earlier run (%d object(s))", job, len(batch))
            outcomes = self.fetches.follow(job, batch)
            self.summary.followed += 1
            # What the job stored is now in the journal, and the plan skips it as "same"; a failed item
            # is planned again like any object not yet copied; a job still running stops --delete.
            for outcome in outcomes:
                if outcome.unfinished:
                    self._error(outcome.fetch.rel, outcome.error or "still running")

    def _copy_all(self, planner: Planner, spool: DeleteSpool) -> None:
        with self.scheduler.group() as group:
            self._cancel = group.cancel_event
            try:
                for action in planner:
                    self._take(decide(action, self.journal, self.options.size_only), spool, group)
                    if self._stopped:
                        break
            except WcsError as exc:  # a listing failed, or is out of order: nothing is deleted after this
                self._error(str(self.source), "listing failed: %s" % exc)
            while (self._pending and not self._stopped) or self._in_flight:
                if self._pending and not self._stopped:
                    self._submit_fetches(group, flush=True)
                if self._in_flight:
                    self._collect(next(group.as_completed()), group)
                if self._stopped:
                    self._pending = []

    def _take(self, action: Action, spool: DeleteSpool, group: TaskGroup) -> None:
        plan = self._plan
        if action.op == SKIP:
            self.summary.skip(action.reason)
            self._tell("on_action", action)
            if plan is not None:
                plan.add("skip", action.rel, action.reason, self._src_facts(action), self._dst_facts(action))
            return
        if action.op == DELETE:
            spool.add(action.rel)  # planned in the delete phase, which may refuse them all
            return
        obj = source_object(action)
        way = self.copier.way(obj)
        self._tell("on_way", action, way)  # how it will be copied: "fetch" (server-side) or "stream"
        self._tell("on_action", action)
        if self.options.changes_nothing:
            self.summary.planned_files += 1
            self.summary.planned_bytes += obj.size
            if plan is not None:
                plan.add(FETCH if way == FETCH else "upload", action.rel, action.reason, self._src_facts(action),
                         self._dst_facts(action), moves=0 if way == FETCH else obj.size)
            return
        if way == FETCH:
            self._pending.append((action, 0))
            self._submit_fetches(group, flush=False)
        else:
            self._wait_below(STREAM, self.options.transfers, group)
            self._in_flight[group.submit(self.copier.stream, action, 0)] = STREAM

    # -- facts for the plan ----------------------------------------------------------------------

    def _src_facts(self, action: Action) -> Optional[Dict[str, Any]]:
        return self.source.facts(source_object(action)) if action.local is not None else None

    def _dst_facts(self, action: Action) -> Dict[str, Any]:
        return wcs_facts(self.bucket, self.prefix + action.rel, action.remote)

    # -- fetches and streams ---------------------------------------------------------------------

    def _wait_below(self, kind: str, limit: int, group: TaskGroup) -> None:
        while sum(1 for k in self._in_flight.values() if k == kind) >= limit:
            self._collect(next(group.as_completed()), group)

    def _submit_fetches(self, group: TaskGroup, flush: bool) -> None:
        while self._pending and (flush or len(self._pending) >= self.options.batch) and not self._stopped:
            self._wait_below(FETCH, self.options.jobs, group)
            batch, self._pending = self._pending[:self.options.batch], self._pending[self.options.batch:]
            self._in_flight[group.submit(self.copier.fetch, batch)] = FETCH

    def _collect(self, future: Future, group: TaskGroup) -> None:
        kind = self._in_flight.pop(future)
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            if not isinstance(exc, Exception):
                raise exc  # KeyboardInterrupt and the like end the run
            log.error("%s task failed", kind, exc_info=exc)
            self._error(str(self.remote), "unexpected %s: %s" % (type(exc).__name__, exc))
            return
        results = future.result()
        for action, attempt, outcome in (results if kind == FETCH else [results]):
            self._settle(action, attempt, outcome, kind, group)

    def _settle(self, action: Action, attempt: int, outcome: Outcome, kind: str, group: TaskGroup) -> None:
        size = outcome.fetch.size
        if outcome.error is None:
            summary = self.summary
            summary.transferred_files += 1
            summary.transferred_bytes += size
            if kind == FETCH:
                summary.fetched_files += 1
                summary.fetched_bytes += size
                self._tell("on_fetched", action, size)  # no subscriber saw these bytes: the service moved them
            else:
                summary.streamed_files += 1
                summary.streamed_bytes += size
            self._tell("on_done", action, None)
            return
        if outcome.retry and attempt < self.options.file_retries and not self._stopped and not self._cancel.is_set():
            log.info("%s: %s; trying again (%d/%d)", action.rel, outcome.error, attempt + 1, self.options.file_retries)
            if kind == FETCH:
                self._pending.append((action, attempt + 1))
            else:
                self._in_flight[group.submit(self.copier.stream, action, attempt + 1)] = STREAM
            return
        self._failed(action, outcome.error)

    # -- deletions ---------------------------------------------------------------------------

    def _delete_phase(self, planner: Planner, spool: DeleteSpool) -> None:
        """The rules of every sync (:func:`~wcs.services.tree.deletes.deletions_refused`), with the journal."""
        summary, opts = self.summary, self.options
        count = spool.count
        if deletions_refused(summary, self._error, stopped=self._stopped, listed=planner.done,
                             source_count=planner.source_count, count=count, max_delete=opts.max_delete):
            return
        if opts.changes_nothing:
            for rel in spool:
                action = Action(DELETE, rel, "extra")
                self._tell("on_action", action)
                if self._plan is not None:
                    self._plan.add("delete", rel, "extra", None, self._current(rel))
            summary.planned_deletes = count
            summary.delete_status = "dry run: %d object(s) would be deleted" % count
            return
        forgotten: List[str] = []
        lock = threading.Lock()

        def done(action: Action, error: Optional[str]) -> None:  # called by the deletion tasks
            self._tell("on_done", action, error)
            if error is not None:
                self._tell("on_error", action.rel, "delete failed: %s" % error)
                return
            with lock:
                forgotten.append(action.rel)
                batch = list(forgotten) if len(forgotten) >= 500 else []
                if batch:
                    del forgotten[:]
            if batch:
                self.journal.forget(batch)

        for rel in spool:
            self._tell("on_action", Action(DELETE, rel, "extra"))
        try:
            deleted, failed = delete_remote(spool, self.objects, self.jobs, self.bucket, self.prefix,
                                            batch=opts.delete_batch, timeout=opts.job_timeout, listing=self.listing,
                                            scheduler=self.scheduler, parallel=opts.jobs, on_done=done)
        except WcsError as exc:
            self._error(summary.destination, "could not check the deletions: %s" % exc)
            summary.delete_status = UNVERIFIED
            return
        finally:
            self.journal.forget(forgotten)
        record_deletions(summary, deleted, failed)

    def _current(self, rel: str) -> Dict[str, Any]:
        """The WCS object's facts for a planned deletion (asked again: the spool keeps only paths)."""
        key = self.prefix + rel
        result = self.objects.stat(self.bucket, key)
        info = ObjectInfo.from_item(result.data, key) if result.ok and isinstance(result.data, dict) else None
        return wcs_facts(self.bucket, key, info)
