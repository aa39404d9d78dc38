"""One tree run between two bucket prefixes: ``sync``, ``cp -r`` and ``mv -r`` from ``wcs://`` to ``wcs://``.

:class:`RemoteTreeRun` merges the two listings (:mod:`.plan`, direction :data:`~.plan.REMOTE`):
both carry every object's size and etag, so what differs is known without reading any object, and
unchanged objects cost nothing but their listing lines. What must be copied goes to the service in
batches (:class:`~.copies.RemoteCopier`: fmgr copy jobs, or ``/copy``), so no object data passes
through the client either; every copy is then checked by listing the destination again.

The rules of local syncs hold: ``delete`` removes what the source lacks only after a run without
any error whose listings both ran to their end, an empty source is refused, ``max_delete`` caps it
(:func:`~.deletes.deletions_refused`); a dry run lists and decides, nothing else. A move
(``options.move``) deletes a source object only once its copy has been verified, through the
same batched and verified deletions (:class:`~.deletes.RemoteDeleter`). The two prefixes may not
overlap: a copy into its own source would list its own copies.
"""

import logging
from concurrent.futures import Future
from typing import List, Optional, Tuple

from wcs.commons.errors import InvalidArgument, WcsError
from wcs.services.bucket import BucketManager
from wcs.services.jobs import FmgrService
from wcs.services.listing import ListFunction
from wcs.services.scheduler import Scheduler
from wcs.services.tree.copies import CopySpool, RemoteCopier
from wcs.services.tree.deletes import (
    UNVERIFIED,
    DeleteSpool,
    delete_remote,
    deletions_refused,
    record_deletions,
)
from wcs.services.tree.model import Hooks, Remote, TreeObserver, TreeOptions, TreeSummary
from wcs.services.tree.plan import DELETE, REMOTE, SKIP, TRANSFER, Action, Planner, remote_entries

log = logging.getLogger(__name__)

_REPLACING = ("size", "hash", "replace")  # reasons of a copy onto an object the destination has


def check_apart(source: Remote, destination: Remote) -> None:
    """Raise ``InvalidArgument`` when the two places overlap (one prefix holds the other, same bucket)."""
    if source.bucket != destination.bucket:
        return
    a, b = source.key_prefix, destination.key_prefix
    if a.startswith(b) or b.startswith(a):
        raise InvalidArgument("%s and %s overlap: copy to a prefix outside the source (and not above it)"
                              % (source, destination))


class RemoteTreeRun:
    """One run (use once): ``RemoteTreeRun(Remote(b1, p1), Remote(b2, p2), options, objects=...,
    jobs=..., listing=..., scheduler=...).run()``.

    Args:
        objects: single copies and deletions, ``stat``.
        jobs: fmgr copy and delete jobs.
        listing: the listing of both sides (the facade's).
        scheduler: the pool the batches run on, ``options.transfers`` at once.
    """

    def __init__(self, source: Remote, destination: Remote, options: TreeOptions, *, objects: BucketManager,
                 jobs: FmgrService, listing: ListFunction, scheduler: Scheduler,
                 observer: Optional[TreeObserver] = None) -> None:
        check_apart(source, destination)
        self.source = source
        self.destination = destination
        self.options = options.check()
        self.objects = objects
        self.jobs = jobs
        self.listing = listing
        self.scheduler = scheduler
        self.observer = observer or TreeObserver()
        self.summary = TreeSummary(REMOTE, str(source), str(destination), dry_run=self.options.dry_run)
        if not self.options.dry_run:
            self.summary.replaced = 0
            if self.options.move:
                self.summary.sources_deleted = 0
        self._tell = Hooks(self.observer, log, "tree observer")
        self._stopped = False

    # -- observer ----------------------------------------------------------------------------

    def _error(self, where: str, message: str) -> None:
        self.summary.errors.append("%s: %s" % (where, message))
        self._tell("on_error", where, message)

    def _done(self, action: Action, error: Optional[str]) -> None:
        self._tell("on_done", action, error)
        if error is not None:
            self._tell("on_error", action.rel, ("delete failed: " if action.op == DELETE else "") + error)

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> TreeSummary:
        """Carry out the run and return its summary (per-object failures are in it, not raised)."""
        opts = self.options
        src_listing = self.listing(self.source.bucket, self.source.key_prefix)
        dst_listing = self.listing(self.destination.bucket, self.destination.key_prefix)
        copier = RemoteCopier(self.objects, self.jobs, self.source, self.destination, listing=self.listing,
                              timeout=opts.job_timeout, replace=not opts.skip_existing, on_done=self._done)
        deletions, copies = DeleteSpool(), CopySpool()
        try:
            planner = Planner(REMOTE, remote_entries(src_listing, self.source.key_prefix),
                              remote_entries(dst_listing, self.destination.key_prefix), sync=opts.sync,
                              skip_existing=opts.skip_existing, size_only=opts.size_only, delete=opts.delete,
                              filters=opts.filters)
            self._copy_all(planner, copier, copies, deletions)
        finally:
            src_listing.close()
            dst_listing.close()
        try:
            moves = self._verify(copier, copies)
            if opts.delete:
                self._delete_phase(planner, deletions)
            if moves is not None:
                self._move_phase(moves)
                moves.close()
        finally:
            deletions.close()
            copies.close()
        return self.summary.finish()

    def _copy_all(self, planner: Planner, copier: RemoteCopier, copies: CopySpool, deletions: DeleteSpool) -> None:
        opts = self.options
        summary = self.summary
        batch: List[Action] = []
        in_flight: List[Future] = []

        def collect(future: Future) -> None:
            if future.cancelled():
                return
            ok, bad = future.result()
            summary.failed += bad
            if bad and opts.fail_fast and not self._stopped:
                self._stopped = True
                summary.errors.append("stopped after the first failure (fail fast)")

        def flush() -> None:
            while len(in_flight) >= opts.transfers:
                finished = next(group.as_completed())
                in_flight.remove(finished)
                collect(finished)
            if not self._stopped:
                for action in batch:  # in key order: the batches are made in the plan's order
                    info = action.remote
                    copies.add(action.rel, info.hash if info is not None else "", action.source_size(REMOTE),
                               action.reason in _REPLACING)
                in_flight.append(group.submit(copier.copy_batch, list(batch)))
            batch.clear()

        with self.scheduler.group() as group:
            try:
                for action in planner:
                    if action.op == SKIP:
                        summary.skip(action.reason)
                        self._tell("on_action", action)
                    elif action.op == DELETE:
                        deletions.add(action.rel)
                    elif action.op == TRANSFER:
                        self._tell("on_action", action)
                        size = action.source_size(REMOTE)
                        if opts.dry_run:
                            summary.planned_files += 1
                            summary.planned_bytes += size
                            continue
                        batch.append(action)
                        if len(batch) >= opts.copy_batch:
                            flush()
                    if self._stopped:
                        break
            except WcsError as exc:  # a listing page failed, or a listing is out of order
                self._error("%s -> %s" % (self.source, self.destination), "listing failed: %s" % exc)
            if batch and not self._stopped:
                flush()
            for finished in group.as_completed():
                collect(finished)

    def _verify(self, copier: RemoteCopier, copies: CopySpool) -> Optional[DeleteSpool]:
        """Check the copies by a listing; when moving, the spool of the verified ones (None when
        not moving, or when the check failed: then nothing is moved)."""
        summary = self.summary
        moves = DeleteSpool() if self.options.move and not self.options.dry_run else None
        if not copies.count:  # nothing copied (a dry run copies nothing)
            return moves
        moving = moves

        def verified(rel: str, size: int, replaced: bool) -> None:
            summary.transferred_files += 1
            summary.transferred_bytes += size
            if replaced:
                summary.replaced = (summary.replaced or 0) + 1
            if moving is not None:
                moving.add(rel)

        try:
            summary.failed += copier.verify(copies, verified)
        except WcsError as exc:
            self._error(str(self.destination), "could not check the copies: %s" % exc)
            if moves is not None:
                moves.close()
            return None
        return moves

    def _delete_phase(self, planner: Planner, spool: DeleteSpool) -> None:
        summary = self.summary
        opts = self.options
        if deletions_refused(summary, self._error, stopped=self._stopped, listed=planner.done,
                             source_count=planner.source_count, count=spool.count, max_delete=opts.max_delete):
            return
        for rel in spool:
            self._tell("on_action", Action(DELETE, rel, "extra"))
        if opts.dry_run:
            summary.planned_deletes = spool.count
            summary.delete_status = "dry run: %d file(s) would be deleted" % spool.count
            return
        deleted, failed = self._delete(self.destination, spool, "the destination")
        if deleted is None:
            summary.delete_status = UNVERIFIED
            return
        record_deletions(summary, deleted, failed)

    def _move_phase(self, moves: DeleteSpool) -> None:
        deleted, failed = self._delete(self.source, moves, "the source")
        self.summary.sources_deleted = deleted or 0
        self.summary.failed += failed

    def _delete(self, place: Remote, spool: DeleteSpool, name: str) -> Tuple[Optional[int], int]:
        """Delete the spooled paths under ``place``, batched and verified: ``(deleted, failed)``, deleted
        None when the check failed."""
        if not spool.count:
            return 0, 0
        opts = self.options
        try:
            return delete_remote(spool, self.objects, self.jobs, place.bucket, place.key_prefix,
                                 batch=opts.delete_batch, timeout=opts.job_timeout, listing=self.listing,
                                 scheduler=self.scheduler, parallel=opts.transfers, on_done=self._done)
        except WcsError as exc:
            self._error(str(place), "could not check the deletions in %s: %s" % (name, exc))
            return None, 0
