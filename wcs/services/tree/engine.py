"""One tree transfer: plan, transfer on the client's scheduler, delete last, summarise.

:class:`TreeRun` merges the source and destination streams (:mod:`.plan`) and hands each file to
a task on the client's one :class:`~wcs.services.scheduler.Scheduler`, at most
``options.transfers`` at once; a file's own blocks or ranges are nested tasks of the same pool, so
N files of M blocks never take more than the pool's threads. Small files go up in one form
upload over the shared keep-alive connections, files of at least ``multipart_threshold`` in
blocks under an upload id derived from the file (:mod:`.records`): a re-run after a crash resumes
them. Downloads are verified and renamed into place by the Downloader (large ones as resumable
ranges); keys are mapped to paths by :mod:`.safepath`.

A failing file is reported (``on_error``, the summary's ``failed``) and the run goes on, unless
``fail_fast``; a failure a retry may fix (no answer, 5xx, a hash mismatch) is tried again
``file_retries`` times first. Deletions come last and only after a clean run (:mod:`.deletes`).
"""

import logging
import os
import threading
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple, Optional, Sequence

from wcs.commons.errors import Cancelled, IntegrityError, LocalFileError, ResumeError, WcsError
from wcs.commons.http import Result, is_transient_failure
from wcs.services.download import header_etag
from wcs.services.events import Notifier, Subscriber, TransferInfo
from wcs.services.resume import RecordStore
from wcs.services.scheduler import TaskGroup
from wcs.services.tree import safepath
from wcs.services.tree.deletes import DeleteSpool, RemoteDeleter, delete_local
from wcs.services.tree.hashcache import EtagCache, default_cache_path
from wcs.services.tree.localtree import LocalFile, LocalTree, check_local_dir
from wcs.services.tree.model import Remote, TreeObserver, TreeOptions, TreeSummary
from wcs.services.tree.plan import (
    COMPARE,
    DELETE,
    DOWNLOAD,
    REFUSE,
    SKIP,
    TRANSFER,
    UPLOAD,
    Action,
    Planner,
    local_entries,
    remote_entries,
)
from wcs.services.tree.records import derived_upload_id, discard_stale_records

if TYPE_CHECKING:  # pragma: no cover
    from wcs.services.client import Client

log = logging.getLogger(__name__)


class _FileFailed(WcsError):
    """A file's transfer failed; ``transient``: trying again may help."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class Outcome(NamedTuple):
    action: Action
    error: Optional[str] = None
    moved: int = 0


def answered_hash(result: Result) -> Optional[str]:
    """The etag an upload's answer carries, if it looks like one (``Result.data`` first, else ``body``)."""
    data = getattr(result, "data", None)
    body = data if isinstance(data, dict) else result.body
    value = body.get("hash") if isinstance(body, dict) else None
    return header_etag(value) if isinstance(value, str) else None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (WcsError, OSError)) else "unexpected %s: %s" % (type(exc).__name__, text)


class TreeRun:
    """One run (use once): ``TreeRun(client, UPLOAD, local_dir, Remote(bucket, prefix), options).run()``."""

    def __init__(self, client: "Client", direction: str, local_dir: str, remote: Remote, options: TreeOptions,
                 observer: Optional[TreeObserver] = None, subscribers: Iterable[Subscriber] = ()) -> None:
        self.client = client
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
        self._lock = threading.Lock()
        self._stopped = False
        self._cancel = threading.Event()
        transfer = client.cfg.transfer
        # The pool must be at least as wide as the files wanted at once (it is the client's, shared).
        self.transfer = replace(transfer, concurrency=max(transfer.concurrency, self.options.transfers))
        self.cache = EtagCache(None)

    # -- observer (one call at a time, from any thread) --------------------------------------

    def _tell(self, method: str, *args: Any) -> None:
        call = getattr(self.observer, method, None)
        if call is None:  # a duck-typed observer may implement only some methods
            return
        with self._lock:
            try:
                call(*args)
            except Exception:  # an observer's bug must not turn into a failed transfer
                log.exception("tree observer %s failed", method)

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
            self.client.download_url(self.remote.bucket, self.prefix + "x")  # ConfigError before any request
            if os.path.exists(self.root) and not os.path.isdir(self.root):
                raise LocalFileError("%s: not a directory" % self.local_dir)
            if not opts.dry_run:
                try:
                    os.makedirs(self.root, exist_ok=True)
                except OSError as exc:
                    raise LocalFileError("cannot create %s: %s" % (self.local_dir, exc.strerror or exc)) from None
        cache_path = opts.hash_cache if opts.hash_cache != "" else default_cache_path()
        self.cache = EtagCache(cache_path)
        listing = self.client.list_objects(self.remote.bucket, self.prefix or None)
        spool = DeleteSpool()
        try:
            planner = self._planner(listing)
            self._transfer_all(planner, spool)
            if opts.delete:
                self._delete_phase(planner, spool)
        finally:
            close = getattr(listing, "close", None)
            if close is not None:
                close()  # stops the page prefetch when the merge ended early
            spool.close()
            self.cache.close()
            self.summary.hashed_bytes = self.cache.bytes_read
            self.summary.hashed_files = self.cache.files_hashed
        return self.summary.finish()

    def _planner(self, listing: Any) -> Planner:
        opts = self.options
        need_destination = opts.sync or opts.skip_existing or opts.delete
        self.tree: Optional[LocalTree] = None
        # A dry run does not create the folder to download into: a missing one is an empty one.
        if self.direction == UPLOAD or (need_destination and os.path.isdir(self.root)):
            self.tree = LocalTree(self.root, follow_symlinks=opts.follow_symlinks, on_note=self._note,
                                  on_error=self._walk_error)
        remote = remote_entries(listing, self.prefix)
        if self.direction == UPLOAD:
            assert self.tree is not None
            source: Iterable[Any] = local_entries(self.tree)
            destination: Optional[Iterable[Any]] = remote if need_destination else None
        else:
            source = remote
            destination = local_entries(self.tree) if self.tree is not None else None
            if destination is None and need_destination:
                destination = iter(())
        return Planner(self.direction, source, destination, sync=opts.sync, skip_existing=opts.skip_existing,
                       size_only=opts.size_only, delete=opts.delete, filters=opts.filters)

    def _transfer_all(self, planner: Planner, spool: DeleteSpool) -> None:
        opts = self.options
        scheduler = self.client.scheduler_for(self.transfer)
        self.uploads = self.client.form_uploader(self.transfer)
        self.multipart = self.client.multipart_uploader(self.transfer)
        self.downloads = self.client.downloader(self.transfer)
        in_flight = 0
        with scheduler.group() as group:
            self._cancel = group.cancel_event
            try:
                for action in planner:
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
                        while in_flight >= opts.transfers:
                            self._collect(next(group.as_completed()))
                            in_flight -= 1
                        if self._stopped:
                            break
                        if action.op == TRANSFER:
                            self._tell("on_action", action)
                        group.submit(self._file_task, action)
                        in_flight += 1
                    if self._stopped:
                        break
            except WcsError as exc:  # a listing page failed, or a listing is out of order
                self._error(str(self.remote) if not isinstance(exc, LocalFileError) else self.local_dir,
                            "listing failed: %s" % exc)
            for future in group.as_completed():
                self._collect(future)
        if self.tree is not None and not self.tree.complete:
            log.info("the local folder was not read completely")

    def _planned(self, action: Action) -> None:
        self.summary.planned_files += 1
        self.summary.planned_bytes += action.source_size(self.direction)

    def _failed(self, action: Action, error: str) -> None:
        self.summary.failed += 1
        self._tell("on_error", action.rel, error)
        if self.options.fail_fast and not self._stopped:
            self._stopped = True
            self.summary.errors.append("stopped after the first failure (fail fast)")

    def _collect(self, future: Future) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            raise exc  # only BaseExceptions get here (KeyboardInterrupt...): the tasks catch the rest
        outcome: Outcome = future.result()
        action = outcome.action
        if outcome.error is not None:
            self._tell("on_done", action, outcome.error)
            self._failed(action, outcome.error)
        elif action.op == SKIP:
            self.summary.skip(action.reason)
        elif self.options.dry_run:
            self._planned(action)
        else:
            self.summary.transferred_files += 1
            self.summary.transferred_bytes += outcome.moved
            self._tell("on_done", action, None)

    # -- one file (a task on the scheduler) ---------------------------------------------------

    def _file_task(self, action: Action) -> Outcome:
        try:
            if action.op == COMPARE:
                action = self._compare(action)
                self._tell("on_action", action)
                if action.op == SKIP:
                    return Outcome(action)
            if self.options.dry_run:
                return Outcome(action)
            attempt = 0
            while True:
                try:
                    moved = self._upload(action) if self.direction == UPLOAD else self._download(action)
                    return Outcome(action, None, moved)
                except (_FileFailed, IntegrityError) as exc:
                    retry = isinstance(exc, IntegrityError) or exc.transient
                    if not retry or attempt >= self.options.file_retries or self._cancel.is_set():
                        raise
                    attempt += 1
                    log.info("%s: %s; trying again (%d/%d)", action.rel, exc, attempt, self.options.file_retries)
        except Cancelled:
            return Outcome(action, "cancelled")
        except Exception as exc:  # every failure is this file's, reported; the run goes on
            if not isinstance(exc, (WcsError, OSError)):
                log.exception("%s: unexpected failure", action.rel)
            return Outcome(action, _describe(exc))

    def _compare(self, action: Action) -> Action:
        assert action.local is not None and action.remote is not None
        local = self.cache.etag(action.local, self._cancel)
        if action.remote.hash and local == action.remote.hash:
            return replace(action, op=SKIP, reason="same")
        return replace(action, op=TRANSFER, reason="hash")

    def _upload(self, action: Action) -> int:
        assert action.local is not None
        path = action.local.path
        key = self.prefix + action.rel
        try:
            f = LocalFile.from_stat(action.rel, path, os.stat(path))
        except OSError as exc:
            raise LocalFileError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
        if f.size >= self.options.multipart_threshold:
            result = self._multipart(f, key)
        else:
            notifier = Notifier.of(TransferInfo.new("upload", self.remote.bucket, key, path, f.size), None,
                                   self.subscribers)
            notifier.queued()
            try:
                result = self.uploads.upload_file(path, self.remote.bucket, key, overwrite=1,
                                                  progress=notifier.progress if notifier else None)
            except BaseException as exc:
                notifier.done(exc)
                raise
            notifier.done(None if result.ok else _FileFailed("HTTP %d" % result.code))
        if not result.ok:
            raise _FileFailed("upload failed: HTTP %d: %s" % (result.code, result.message),
                              is_transient_failure(result))
        etag = answered_hash(result)
        try:
            after = LocalFile.from_stat(action.rel, path, os.stat(path))
        except OSError:
            after = None
        if etag and after is not None and after.identity == f.identity:
            self.cache.put(f, etag)  # the service confirmed the hash of exactly these bytes
        return f.size

    def _multipart(self, f: LocalFile, key: str) -> Result:
        bucket = self.remote.bucket
        upload_id = derived_upload_id(bucket, key, f)
        folder = self.transfer.tmp_record_folder
        discard_stale_records(folder, upload_id)
        options: Any = dict(subscribers=self.subscribers, overwrite=1)
        try:
            result = self.multipart.upload(f.path, bucket, key, upload_id, **options)
        except ResumeError as exc:
            log.info("%s: %s; starting the upload afresh", f.path, exc)
            RecordStore(folder, upload_id).remove()
            result = self.multipart.upload(f.path, bucket, key, upload_id, **options)
        if result.code == 701:  # the service forgot the recorded blocks; the record is gone: once more
            result = self.multipart.upload(f.path, bucket, key, upload_id, **options)
        return result

    def _download(self, action: Action) -> int:
        info = action.remote
        assert info is not None
        target = safepath.local_path(self.root, action.rel)
        safepath.prepare_parent(self.root, target)
        safepath.check_target(self.root, target, follow_symlinks=self.options.follow_symlinks)
        key = self.prefix + action.rel
        url = self.downloads.download_url(self.remote.bucket, key)
        result = self.downloads.fetch(url, target, size=info.size, expected_hash=info.hash or None,
                                      subscribers=self.subscribers, bucket=self.remote.bucket, key=key)
        if not result.ok:
            raise _FileFailed("download failed: HTTP %d: %s" % (result.code, result.message),
                              is_transient_failure(result))
        if info.hash:
            try:
                self.cache.put(LocalFile.from_stat(action.rel, target, os.stat(target)), info.hash)
            except OSError:
                pass
        return info.size

    # -- deletions ----------------------------------------------------------------------------

    def _delete_phase(self, planner: Planner, spool: DeleteSpool) -> None:
        summary = self.summary
        opts = self.options
        count = spool.count
        if self._stopped or summary.failed or summary.errors or not planner.done:
            problems = summary.failed + len(summary.errors)
            summary.delete_status = "not done: %d error(s) in the run; nothing deleted" % max(problems, 1)
            return
        if count and planner.source_count == 0:
            summary.delete_status = "refused: the source has no files; nothing deleted"
            self._error(summary.source, "refusing to delete %d file(s): the source has no files" % count)
            return
        if opts.max_delete is not None and count > opts.max_delete:
            summary.delete_status = "aborted: %d deletions exceed the maximum of %d; nothing deleted" % (
                count, opts.max_delete)
            self._error(summary.destination, "%d files to delete, more than the maximum of %d; nothing deleted"
                        % (count, opts.max_delete))
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

        if self.direction == DOWNLOAD:
            for rel in spool:
                self._tell("on_action", Action(DELETE, rel, "extra"))
            deleted, failed = delete_local(self.root, spool, done)
        else:
            for rel in spool:
                self._tell("on_action", Action(DELETE, rel, "extra"))
            scheduler = self.client.scheduler_for(self.transfer)
            deleter = RemoteDeleter(self.client, self.remote.bucket, self.prefix, batch=opts.delete_batch,
                                    timeout=opts.job_timeout, on_done=done)
            group: TaskGroup
            try:
                with scheduler.group() as group:
                    deleted, failed = deleter.run(spool, group, opts.transfers)
            except WcsError as exc:
                self._error(summary.destination, "could not check the deletions: %s" % exc)
                summary.delete_status = "unverified: listing the destination again failed"
                return
        summary.deleted = deleted
        summary.failed += failed
        summary.delete_status = "done" if not failed else "done with %d failure(s)" % failed
