"""One tree transfer: plan, transfer on the pool it is given, delete last, summarise.

:class:`TreeRun` is an engine over the services it receives (as s3transfer's ``TransferManager``
gets its client, config and executor): the form and block uploaders, the downloader, the object
listing and deletion (:class:`~wcs.services.bucket.BucketManager`), the fmgr jobs, the
:class:`~wcs.services.scheduler.Scheduler` and the transfer settings; it never sees a ``Client``
(the facade builds them, :mod:`wcs.services.client_trees`). It merges the source and destination
streams (:mod:`.plan`) on ``options.transfers`` workers of that pool, each taking the next file
from the plan in turn (:meth:`TreeRun._transfer_all`); a file's own blocks or ranges are nested
tasks of the same pool, so N files of M blocks never take more than the pool's threads. What
happens to one file (compare, form or multipart upload, download) is :mod:`.mover`.

A failing file is reported (``on_error``, the summary's ``failed``) and the run goes on, unless
``fail_fast``; a failure a retry may fix (no answer, 5xx, a hash mismatch) is tried again
``file_retries`` times first. Deletions come last and only after a clean run (:mod:`.deletes`).
"""

import logging
import os
import threading
from dataclasses import replace
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, cast

from wcs.commons import staging
from wcs.commons.errors import LocalFileError, WcsError
from wcs.commons.settings import TransferConfig
from wcs.services.bucket import BucketManager
from wcs.services.download import Downloader
from wcs.services.events import Subscriber
from wcs.services.formupload import FormUploader
from wcs.services.jobs import FmgrService
from wcs.services.listing import ListFunction
from wcs.services.scheduler import Scheduler
from wcs.services.tree.census import Census
from wcs.services.tree.deletes import (
    UNVERIFIED,
    DeleteSpool,
    delete_local,
    delete_remote,
    deletions_refused,
    record_deletions,
)
from wcs.services.tree.hashcache import EtagCache, default_cache_path
from wcs.services.tree.localtree import check_local_dir
from wcs.services.tree.model import Hooks, Remote, TreeObserver, TreeOptions, TreeSummary
from wcs.services.tree.mover import FileMover, FileOutcome
from wcs.services.tree.moves import DownloadedSources
from wcs.services.tree.plan import (
    COMPARE,
    DELETE,
    DOWNLOAD,
    REFUSE,
    SKIP,
    TRANSFER,
    UPLOAD,
    Action,
    Compares,
    Planner,
    typed,
)
from wcs.services.tree.planning import local_tree, tree_planner
from wcs.services.uploads import BlockUploader

log = logging.getLogger(__name__)

def tree_transfer(transfer: TransferConfig, options: TreeOptions) -> TransferConfig:
    """The transfer settings of a run: its pool at least as wide as the files it sends at once."""
    return replace(transfer, concurrency=max(transfer.concurrency, options.transfers))


class TreeRun:
    """One run (use once): ``TreeRun(UPLOAD, local_dir, Remote(bucket, prefix), options, uploads=...,
    ...).run()``.

    Args:
        uploads: form uploads of small files. multipart: block uploads (resumable) of large ones.
        downloads: verified downloads (and the download URL of a key).
        objects: the listing of the remote side, and single deletions.
        jobs: fmgr delete jobs (``sync --delete``).
        scheduler: the pool the files (and their blocks or ranges) run on, at least
            ``options.transfers`` wide (see :func:`tree_transfer`).
        transfer: the transfer settings (the resume record folder).
    """

    def __init__(self, direction: str, local_dir: str, remote: Remote, options: TreeOptions, *,
                 uploads: FormUploader, multipart: BlockUploader, downloads: Downloader,
                 objects: BucketManager, jobs: FmgrService, scheduler: Scheduler, transfer: TransferConfig,
                 observer: Optional[TreeObserver] = None, subscribers: Iterable[Subscriber] = (),
                 listing: Optional[ListFunction] = None) -> None:
        self.uploads = uploads
        self.listing: ListFunction = listing if listing is not None else objects.listing
        self.multipart = multipart
        self.downloads = downloads
        self.objects = objects
        self.jobs = jobs
        self.scheduler = scheduler
        self.transfer = transfer
        self.direction = direction
        self.local_dir = os.fspath(local_dir)
        self.remote = remote
        self.prefix = remote.key_prefix
        self.options = options.check()
        self.observer = observer or TreeObserver()
        self.subscribers: Sequence[Subscriber] = list(subscribers)
        self.root = os.path.abspath(self.local_dir)
        local_name, remote_name = self.local_dir, str(remote)
        source, dest = (local_name, remote_name) if direction == UPLOAD else (remote_name, local_name)
        self.summary = TreeSummary(direction, source, dest, dry_run=self.options.dry_run)
        self._tell = Hooks(self.observer, log, "tree observer")
        self._stopped = False
        self._one_more: Callable[[], None] = lambda: None  # another worker for the run (_transfer_all)
        self.cache = EtagCache(None)
        # mv -r: objects downloaded are deleted at the end; files uploaded are removed as they go.
        moving = self.options.move and not self.options.dry_run
        self.downloaded = DownloadedSources() if moving and direction == DOWNLOAD else None
        if moving:
            self.summary.sources_deleted = 0

    # -- observer (one call at a time, from any thread: :class:`~.model.Hooks`) ---------------

    def _note(self, where: str, kind: str, message: str) -> None:
        self.summary.skip(kind)
        self._tell("on_note", where, message)

    def _walk_error(self, where: str, message: str) -> None:
        self._error(where, message)

    def _error(self, where: str, message: str) -> None:
        self.summary.errors.append("%s: %s" % (where, message))
        self._tell("on_error", where, message)

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> TreeSummary:
        """Carry out the run and return its summary (per-file failures are in it, not raised).

        Raises:
            LocalFileError: the local folder to upload is missing, or the one to download into is a file.
            ConfigError: no download domain for the bucket (downloads), no keys or hosts.
            InvalidArgument: bad options.
        """
        opts = self.options
        if self.direction == UPLOAD:
            self.root = check_local_dir(self.local_dir)
        else:
            self.downloads.download_url(self.remote.bucket, self.prefix + "x")  # ConfigError before any request
            if os.path.exists(self.root) and not os.path.isdir(self.root):
                raise LocalFileError("%s: not a directory" % self.local_dir)
            if not opts.dry_run:
                try:
                    os.makedirs(self.root, exist_ok=True)
                except OSError as exc:
                    raise LocalFileError("cannot create %s: %s" % (self.local_dir, exc.strerror or exc)) from None
        cache_path = opts.hash_cache if opts.hash_cache != "" else default_cache_path()
        self.cache = EtagCache(cache_path)
        census = self._census()
        listing = self.listing(self.remote.bucket, self.prefix)
        spool = DeleteSpool()
        try:
            planner = self._planner(listing)
            self._transfer_all(planner, spool)
            if opts.delete:
                self._delete_phase(planner, spool)
            if self.downloaded is not None:
                self._delete_downloaded(self.downloaded)
        finally:
            if self.downloaded is not None:
                self.downloaded.close()
            if census is not None:
                census.stop()
            close = getattr(listing, "close", None)
            if close is not None:
                close()  # stops the page prefetch when the merge ended early
            spool.close()
            self.cache.close()
            self.summary.hashed_bytes = self.cache.bytes_read
            self.summary.hashed_files = self.cache.files_hashed
        return self.summary.finish()

    def _census(self) -> Optional[Census]:
        """For an observer with ``on_total``: the source counted beside the run (:mod:`.census`), from
        ``total_after`` seconds into the run (when the observer first shows it; None: never)."""
        delay = getattr(self.observer, "total_after", 0.0)
        if self.options.dry_run or not callable(getattr(self.observer, "on_total", None)) or delay is None:
            return None
        return Census(self.direction, self.root,
                      lambda: self.listing(self.remote.bucket, self.prefix),
                      self.prefix, self.options.filters, self.options.follow_symlinks,
                      lambda files, size: self._tell("on_total", files, size), delay=delay)

    def _planner(self, listing: Any) -> Planner:
        self.tree = local_tree(self.direction, self.root, self.options, on_note=self._note, on_error=self._walk_error)
        return tree_planner(self.direction, self.root, self.tree, listing, self.prefix, self.options)

    def _transfer_all(self, planner: Planner, spool: DeleteSpool) -> None:
        """Run the plan on up to ``options.transfers`` workers that each take the next file from it.

        Each worker advances the plan itself, under one lock, until the plan yields a file that needs a
        transfer (or a hash), then moves that file outside the lock and comes back with its outcome;
        there is one worker more for each file handed out, up to ``transfers``.
        So a file costs one turn of the lock, not a task, a future and two thread wake-ups (the
        planning thread's and a worker's): with many small files those cost as much as a file's own
        request. Everything the plan decides inline (skips, deletions spooled, dry-run lines, the etag
        cache's answers) happens in key order, as before.
        """
        opts = self.options
        actions = self._file_actions(planner, spool)
        turn = threading.Lock()
        workers = 0
        with self.scheduler.group() as group:
            self.mover = FileMover(
                bucket=self.remote.bucket, prefix=self.prefix, root=self.root, uploads=self.uploads,
                multipart=self.multipart, downloads=self.downloads, record_folder=self.transfer.tmp_record_folder,
                cache=self.cache, subscribers=list(self.subscribers), multipart_threshold=opts.multipart_threshold,
                follow_symlinks=opts.follow_symlinks, cancel=group.cancel_event)

            def worker() -> None:
                outcome: Optional[FileOutcome] = None
                while True:
                    with turn:
                        if outcome is not None:
                            self._settle(outcome)
                        if self._stopped or group.cancel_event.is_set():
                            return
                        action = next(actions, None)
                    if action is None:
                        return
                    outcome = self._file_task(action)

            def one_more() -> None:
                # A worker more for each file handed out, up to ``transfers``: a plan that hands out
                # none (a no-op sync) keeps one, and the pool's other threads fetch its listing pages.
                nonlocal workers
                if workers < opts.transfers:
                    workers += 1
                    group.submit(worker)

            self._one_more = one_more
            one_more()
            for future in group.as_completed():
                exc = None if future.cancelled() else future.exception()
                if exc is not None:
                    raise exc  # only BaseExceptions get here (KeyboardInterrupt...): the files catch the rest
        if self.tree is not None and self.direction == DOWNLOAD and not opts.dry_run:
            # Staging folders of downloads killed in earlier runs: marked as this program's, and
            # nothing can resume them (those of ranged downloads are kept: they resume).
            for path in self.tree.abandoned:
                log.info("removing %s, left by an interrupted download", path)
                staging.remove(path)

    def _file_actions(self, planner: Planner, spool: DeleteSpool) -> Iterator[Action]:
        """The plan carried out in key order, yielding each file that needs a task (a transfer, or a
        compare the etag cache cannot decide); announced as it is handed out. A listing that fails
        ends it, as an error of the run."""
        opts = self.options
        try:
            for step in planner.steps():
                if type(step) is Compares:
                    yield from self._compare(step)  # decided from the etag cache, in turn
                else:
                    action = cast(Action, step)
                    if action.op == SKIP:
                        self.summary.skip(action.reason)
                        self._tell("on_action", action)
                    elif action.op == REFUSE:
                        self._tell("on_action", action)
                        self._failed(action, action.reason)
                    elif action.op == DELETE:
                        spool.add(action.rel)
                    elif action.op == TRANSFER and opts.dry_run:
                        self._tell("on_action", action)
                        self._planned(action)
                    else:
                        yield self._handed_out(action)
                if self._stopped:
                    return
        except WcsError as exc:  # a listing page failed, or a listing is out of order
            self._error(str(self.remote) if not isinstance(exc, LocalFileError) else self.local_dir,
                        "listing failed: %s" % exc)

    def _handed_out(self, action: Action) -> Action:
        self._one_more()
        if action.op == TRANSFER:
            self._tell("on_action", action)
        if self.downloaded is not None:
            self.downloaded.planned(action)  # in key order, as the plan goes
        return action

    def _compare(self, compares: Compares) -> Iterator[Action]:
        """Decide files of equal size by the etags the cache holds for them (one query for the batch):
        an unchanged file costs no task and no object; a changed one is yielded to be sent; one the
        cache does not know is yielded to be hashed in its task."""
        etags = self.cache.known([local for _, local, _ in compares])
        bulk = callable(getattr(self.observer, "on_unchanged", None)) \
            and not getattr(self.observer, "each_unchanged", False)
        each = not bulk or self.downloaded is not None  # an action for each unchanged file
        upload = self.direction == UPLOAD
        files = size = 0
        try:
            for (rel, local, remote), etag in zip(compares, etags):
                if self._stopped:
                    return
                if etag and etag == remote.hash:
                    files += 1
                    size += local.size if upload else remote.size
                    if each:
                        unchanged = Action(SKIP, rel, "same", local, typed(remote))
                        if self.downloaded is not None:
                            self.downloaded.planned(unchanged)
                        if not bulk:
                            self._tell("on_action", unchanged)
                elif etag is None:
                    yield self._handed_out(Action(COMPARE, rel, "compare", local, typed(remote)))
                elif self.options.dry_run:
                    changed = Action(TRANSFER, rel, "hash", local, typed(remote))
                    self._tell("on_action", changed)
                    self._planned(changed)
                else:
                    yield self._handed_out(Action(TRANSFER, rel, "hash", local, typed(remote)))
        finally:
            if files:
                self.summary.skipped["same"] = self.summary.skipped.get("same", 0) + files
                if bulk:
                    self._tell("on_unchanged", files, size)

    def _planned(self, action: Action) -> None:
        self.summary.planned_files += 1
        self.summary.planned_bytes += action.source_size(self.direction)

    def _failed(self, action: Action, error: str) -> None:
        self.summary.failed += 1
        self._tell("on_error", action.rel, error)
        if self.options.fail_fast and not self._stopped:
            self._stopped = True
            self.summary.errors.append("stopped after the first failure (fail fast)")

    def _settle(self, outcome: FileOutcome) -> None:
        """A file's task ended: count it and tell the observer (called under the workers' lock)."""
        action = outcome.action
        if outcome.error is not None:
            if self.downloaded is not None:
                self.downloaded.fail(action.rel)
            self._tell("on_done", action, outcome.error)
            self._failed(action, outcome.error)
        elif action.op == SKIP:
            self.summary.skip(action.reason)
        elif self.options.dry_run:
            self._planned(action)
        else:
            self.summary.transferred_files += 1
            self.summary.transferred_bytes += outcome.moved
            if self.options.move and self.direction == UPLOAD:
                self.summary.sources_deleted = (self.summary.sources_deleted or 0) + 1
            self._tell("on_done", action, None)

    # -- one file (a task on the scheduler) ---------------------------------------------------

    def _file_task(self, action: Action) -> FileOutcome:
        opts = self.options
        return self.mover.run(action, upload=self.direction == UPLOAD, dry_run=opts.dry_run, move=opts.move,
                              retries=opts.file_retries, on_compared=lambda done: self._tell("on_action", done))

    # -- deletions ----------------------------------------------------------------------------

    def _delete_downloaded(self, downloaded: DownloadedSources) -> None:
        """``mv -r`` down: delete the objects downloaded, when still unchanged (:mod:`.moves`)."""

        def done(action: Action, error: Optional[str]) -> None:
            if error is not None:
                self._tell("on_error", action.rel, "not deleted: " + error)

        try:
            deleted, failed = downloaded.delete(self.remote, objects=self.objects, jobs=self.jobs, listing=self.listing,
                                                scheduler=self.scheduler, options=self.options, on_done=done)
        except WcsError as exc:
            self._error(str(self.remote), "could not delete the objects moved: %s" % exc)
            return
        self.summary.sources_deleted = deleted
        self.summary.failed += failed

    def _delete_phase(self, planner: Planner, spool: DeleteSpool) -> None:
        summary = self.summary
        opts = self.options
        count = spool.count
        if deletions_refused(summary, self._error, stopped=self._stopped, listed=planner.done,
                             source_count=planner.source_count, count=count, max_delete=opts.max_delete):
            return
        if opts.dry_run:
            for rel in spool:
                self._tell("on_action", Action(DELETE, rel, "extra"))
            summary.planned_deletes = count
            summary.delete_status = "dry run: %d file(s) would be deleted" % count
            return
        failed = 0

        def done(action: Action, error: Optional[str]) -> None:
            self._tell("on_done", action, error)
            if error is not None:
                self._tell("on_error", action.rel, "delete failed: %s" % error)

        for rel in spool:
            self._tell("on_action", Action(DELETE, rel, "extra"))
        if self.direction == DOWNLOAD:
            deleted, failed = delete_local(self.root, spool, done)
        else:
            try:
                deleted, failed = delete_remote(spool, self.objects, self.jobs, self.remote.bucket, self.prefix,
                                                batch=opts.delete_batch, timeout=opts.job_timeout,
                                                listing=self.listing, scheduler=self.scheduler,
                                                parallel=opts.transfers, on_done=done)
            except WcsError as exc:
                self._error(summary.destination, "could not check the deletions: %s" % exc)
                summary.delete_status = UNVERIFIED
                return
        record_deletions(summary, deleted, failed)
