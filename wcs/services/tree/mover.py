"""One file of a tree run: compare it, upload it or download it (called in a scheduler task).

Small files go up in one form upload; files of at least ``multipart_threshold`` bytes in blocks,
under the upload id derived from the file (:mod:`.records`), so that the same run after a crash
resumes them; a record the file no longer matches is dropped and the upload starts afresh.
Downloads land at the checked path below the root (:mod:`.safepath`) through the Downloader
(verified, renamed into place; large ones as resumable ranges). What a transfer proves about a
file's etag is put into the cache: the next comparison of that file reads nothing.
"""

import logging
import os
import threading
from dataclasses import replace
from typing import Any, Callable, List, NamedTuple, Optional

from wcs.commons.errors import Cancelled, IntegrityError, LocalFileError, ResumeError, WcsError
from wcs.commons.http import Result, is_transient_failure
from wcs.services.download import Downloader, header_etag
from wcs.services.events import Notifier, Subscriber, TransferInfo
from wcs.services.formupload import FormUploader
from wcs.services.resume import RecordStore
from wcs.services.tree import safepath
from wcs.services.tree.hashcache import EtagCache
from wcs.services.tree.localtree import LocalFile
from wcs.services.tree.plan import COMPARE, SKIP, TRANSFER, Action
from wcs.services.tree.records import derived_upload_id, discard_stale_records
from wcs.services.uploads import BlockUploader, sends_blocks

log = logging.getLogger(__name__)


class FileFailed(WcsError):
    """A file's transfer failed; ``transient``: trying again may help."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class FileOutcome(NamedTuple):
    """How the task of one file ended: its (final) action, the failure or None, the bytes moved."""

    action: Action
    error: Optional[str] = None
    moved: int = 0


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (WcsError, OSError)) else "unexpected %s: %s" % (type(exc).__name__, text)


class FileMover:
    """Moves single files of one run between ``root`` and ``bucket``/``prefix``."""

    def __init__(self, *, bucket: str, prefix: str, root: str, uploads: FormUploader, multipart: BlockUploader,
                 downloads: Downloader, record_folder: str, cache: EtagCache, subscribers: List[Subscriber],
                 multipart_threshold: int, follow_symlinks: bool, cancel: threading.Event) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.root = root
        self.uploads = uploads
        self.multipart = multipart
        self.downloads = downloads
        self.record_folder = record_folder
        self.cache = cache
        self.subscribers = subscribers
        self.multipart_threshold = multipart_threshold
        self.follow_symlinks = follow_symlinks
        self.cancel = cancel

    def run(self, action: Action, *, upload: bool, dry_run: bool, move: bool, retries: int,
            on_compared: Callable[[Action], None]) -> FileOutcome:
        """The whole task of one file: compare it (a ``COMPARE``: ``on_compared`` hears the decision),
        then upload or download it, trying again ``retries`` times after a failure a retry may fix (no
        answer, 5xx, a hash mismatch). Never raises but a ``BaseException``: a failure is the outcome's."""
        try:
            if action.op == COMPARE:
                action = self.compare(action)
                on_compared(action)
                if action.op == SKIP:
                    return FileOutcome(action)
            if dry_run:
                return FileOutcome(action)
            attempt = 0
            while True:
                try:
                    moved = self.upload(action, remove_source=move) if upload else self.download(action)
                    return FileOutcome(action, None, moved)
                except (FileFailed, IntegrityError) as exc:
                    retry = isinstance(exc, IntegrityError) or exc.transient
                    if not retry or attempt >= retries or self.cancel.is_set():
                        raise
                    attempt += 1
                    log.info("%s: %s; trying again (%d/%d)", action.rel, exc, attempt, retries)
        except Cancelled:
            return FileOutcome(action, "cancelled")
        except Exception as exc:  # every failure is this file's, reported; the run goes on
            if not isinstance(exc, (WcsError, OSError)):
                log.exception("%s: unexpected failure", action.rel)
            return FileOutcome(action, _describe(exc))

    def compare(self, action: Action) -> Action:
        """``action`` decided by etag: skipped as ``same`` or transferred for ``hash``."""
        assert action.local is not None and action.remote is not None
        local = self.cache.etag(action.local, self.cancel)
        if action.remote.hash and local == action.remote.hash:
            return replace(action, op=SKIP, reason="same")
        return replace(action, op=TRANSFER, reason="hash")

    def upload(self, action: Action, remove_source: bool = False) -> int:
        """Upload the file; its size. ``remove_source`` (``mv -r``): then remove the file, once the
        service's etag is proven to be that of the bytes sent and the file is unchanged since.

        Raises:
            FileFailed, LocalFileError, IntegrityError: the file is not stored (or, moving, not removed).
        """
        assert action.local is not None
        # The file as the walk saw it: if it changed since, the stat after the upload differs and
        # nothing is cached or removed (a stat here would cost every file a system call more).
        f = action.local
        path = f.path
        key = self.prefix + action.rel
        started = self.cache.clock()  # the upload reads the file from now on
        if sends_blocks(f.size, self.multipart_threshold):
            result = self._multipart(f, key)
        else:
            notifier = Notifier.of(TransferInfo.new("upload", self.bucket, key, path, f.size), None, self.subscribers)
            with notifier.running():
                result = notifier.settle(self.uploads.upload_file(path, self.bucket, key, overwrite=1,
                                                                  progress=notifier.progress if notifier else None))
        if not result.ok:
            raise FileFailed("upload failed: HTTP %d: %s" % (result.code, result.message),
                             is_transient_failure(result))
        # With returnBody or a callback the answer is not the service's own: its "hash" proves nothing.
        etag = header_etag(result.answered_hash) if self.uploads.policy.answer_is_plain else None
        try:
            after: Optional[LocalFile] = LocalFile.from_stat(action.rel, path, os.stat(path))
        except OSError:
            after = None
        unchanged = after is not None and after.identity == f.identity
        if etag and unchanged:
            self.cache.put(f, etag, started)  # the service confirmed the hash of exactly these bytes
        if remove_source:
            if not etag:
                raise FileFailed("uploaded, but the answer proves no etag (returnBody or callback): the file is kept")
            if not unchanged:
                raise FileFailed("changed while it was uploaded: the file is kept")
            try:
                os.remove(path)
            except OSError as exc:
                raise LocalFileError("uploaded, but cannot remove %s: %s" % (path, exc.strerror or exc)) from None
        return f.size

    def _multipart(self, f: LocalFile, key: str) -> Result:
        upload_id = derived_upload_id(self.bucket, key, f)
        discard_stale_records(self.record_folder, upload_id)
        options: Any = dict(subscribers=self.subscribers, overwrite=1)
        try:
            result = self.multipart.upload(f.path, self.bucket, key, upload_id, **options)
        except ResumeError as exc:
            log.info("%s: %s; starting the upload afresh", f.path, exc)
            RecordStore(self.record_folder, upload_id).remove()
            result = self.multipart.upload(f.path, self.bucket, key, upload_id, **options)
        if result.code == 701:  # the service forgot the recorded blocks; the record is gone: once more
            result = self.multipart.upload(f.path, self.bucket, key, upload_id, **options)
        return result

    def download(self, action: Action) -> int:
        """Download the object below the root; its size.

        Raises:
            UnsafeKey: the key cannot be written below the root.
            FileFailed, LocalFileError, IntegrityError: nothing was written under the file's name.
        """
        info = action.remote
        assert info is not None
        target = safepath.local_path(self.root, action.rel)
        safepath.prepare_parent(self.root, target)
        safepath.check_target(self.root, target, follow_symlinks=self.follow_symlinks)
        key = self.prefix + action.rel
        url = self.downloads.download_url(self.bucket, key)
        result = self.downloads.fetch(url, target, size=info.size, expected_hash=info.hash or None,
                                      subscribers=self.subscribers, bucket=self.bucket, key=key)
        if not result.ok:
            raise FileFailed("download failed: HTTP %d: %s" % (result.code, result.message),
                             is_transient_failure(result))
        if info.hash:
            try:
                self.cache.put(LocalFile.from_stat(action.rel, target, os.stat(target)), info.hash)
            except OSError:
                pass
        return info.size
