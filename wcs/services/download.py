"""Verified download: stream a GET into a temporary file beside the target, then rename it in place.

The body comes through :meth:`~wcs.commons.http.HttpClient.get_body`, which continues a body cut
off in the middle with a ``Range`` request (the object unchanged, by ``If-Range``). The bytes are
hashed (WCS etag) while they are written. The download is accepted only when that etag equals the
expected one (given by the caller) and the ``ETag`` response header when it looks like a WCS etag;
then the temporary file is renamed onto the target. The temporary file lives in a private staging
folder beside the target (:mod:`wcs.commons.staging`, shared by this downloader's downloads into
the same folder while they run): created exclusively, never through a symlink, under a short name
whatever the target's length. On any failure it is removed, so nothing partial is ever left under
the target name. A response that
is not complete (cut inside its headers, shorter than announced) is never accepted, and an empty body
that nothing vouches for (no expected hash, no ``ETag``) never replaces a file that has content.

A symlink target is written through (the link stays); a FIFO or device target is streamed into,
and a path naming a descriptor (``/dev/stdout``, ``/dev/fd/N``) is written through that descriptor
(:func:`wcs.commons.fsutil.descriptor_of`).
The file gets the permissions ``open(path, "wb")`` would give it: a new file ``0o666`` less the
umask, an existing target keeps its permission bits; an existing file that this user may not write
(by its permission bits, root included) or that belongs to another user is refused, not replaced.
"""

import contextlib
import logging
import os
import re
from typing import BinaryIO, Iterable, Optional, Tuple

from wcs.commons import fsutil
from wcs.commons.errors import IntegrityError, LocalFileError
from wcs.commons.http import HttpClient, Result
from wcs.commons.settings import Endpoints, TransferConfig
from wcs.commons.staging import StagingPool
from wcs.services.base import Service
from wcs.services.events import Notifier, Progress, Subscriber, TransferInfo
from wcs.services.ranged import RangedDownloader
from wcs.services.scheduler import Scheduler
from wcs.services.sinks import HashingSink

log = logging.getLogger(__name__)

# 0x16/0x96 prefix + SHA-1, URL-safe Base64: 28 characters starting with F or l.
_WCS_ETAG_RE = re.compile(r"^[Fl][A-Za-z0-9_-]{27}$")


def _check_replaceable(target: str, path: str) -> None:
    why = fsutil.replace_refusal(target)
    if why:
        raise LocalFileError("cannot write %s: %s" % (path, why))


def _has_content(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


def header_etag(value: Optional[str]) -> Optional[str]:
    """The WCS etag in an ``ETag`` header value (quotes and a weak ``W/`` prefix removed), else None."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return value if _WCS_ETAG_RE.match(value) else None


def verify(url: str, local: str, expected_hash: Optional[str], etag_header: Optional[str]) -> None:
    """Raise ``IntegrityError`` unless the etag of the bytes received matches every hash known for them."""
    for source, wanted in (("expected hash", expected_hash), ("ETag header", etag_header)):
        if wanted and wanted != local:
            raise IntegrityError("download of %s: received bytes hash to %s, %s is %s" % (url, local, source, wanted))


class Downloader(Service):
    """Downloads a URL to a file, verified by hash."""

    def __init__(self, http: HttpClient, endpoints: Endpoints, transfer: TransferConfig,
                 scheduler: Optional[Scheduler] = None) -> None:
        super().__init__(http, None, endpoints)
        self.transfer = transfer
        self.scheduler = scheduler
        self.staging = StagingPool()

    def download_url(self, bucket: str, key: str) -> str:
        """The URL of ``bucket``/``key`` on the bucket's download domain (``download_url`` / ``download_domains``).

        Raises:
            ConfigError: no download domain is configured for the bucket.
        """
        return self.endpoints.object_url(bucket, key)

    def fetch(self, url: str, path: str, *, size: Optional[int] = None, expected_hash: Optional[str] = None,
              progress: Optional[Progress] = None, subscribers: Iterable[Subscriber] = (),
              bucket: str = "", key: str = "") -> Result:
        """Download ``url`` into ``path``: as parallel, resumable ranges when the object is large
        (``download_threshold``), its hash is known (given, or a WCS ``ETag``) and ``path`` is a
        regular file; else in one streamed GET (:meth:`download`).
        """
        target = fsutil.resolve_target(os.fspath(path))
        _check_replaceable(target, path)
        etag_header = None
        if size is None and self.scheduler is not None and not fsutil.is_special(target):
            head = self.http.request("HEAD", url, headers=self.transfer.traffic_headers())
            length = head.headers.get("Content-Length", "") if head.ok else ""
            if length.isdigit() and "bytes" in head.headers.get("Accept-Ranges", ""):
                size = int(length)
                etag_header = header_etag(head.headers.get("ETag"))
                expected_hash = expected_hash or etag_header
        parallel = (self.scheduler is not None and size is not None and expected_hash
                    and size >= self.transfer.download_threshold and not fsutil.is_special(target)
                    and not os.path.isdir(target))
        if not parallel:
            return self.download(url, path, progress=progress, subscribers=subscribers, expected_hash=expected_hash,
                                 size=size, bucket=bucket, key=key)
        assert self.scheduler is not None and size is not None and expected_hash
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            raise LocalFileError("cannot download to %s: no such directory" % path)
        notifier = Notifier.of(TransferInfo.new("download", bucket, key or url, target, size), progress, subscribers)
        notifier.queued()
        try:
            result = RangedDownloader(self.http, self.transfer, self.scheduler).download(
                url, target, size, expected_hash, notifier, etag_header)
        except BaseException as exc:
            notifier.done(exc)
            raise
        notifier.done(None)
        return result

    def download_fileobj(self, url: str, fileobj: BinaryIO, *, expected_hash: Optional[str] = None,
                         progress: Optional[Progress] = None, subscribers: Iterable[Subscriber] = ()) -> Result:
        """Stream ``url`` into a writable binary stream (a pipe, stdout) in order, in bounded memory.

        The bytes are hashed on the way and checked at the end against ``expected_hash`` and a WCS
        ``ETag``; as they are already written by then, a mismatch raises ``IntegrityError`` for the
        caller to report (a pipe cannot be taken back).
        """
        notifier = Notifier.of(TransferInfo.new("download", "", url, None, None), progress, subscribers)
        sink = HashingSink(lambda _, data: fileobj.write(data), "the output", notifier)
        notifier.queued()
        try:
            result = self.http.get_body(url, sink, headers=self.transfer.traffic_headers(),
                                        retries=self.transfer.connection_retries)
            if result.ok:
                local = sink.hasher.etag()
                verify(url, local, expected_hash, header_etag(result.headers.get("ETag")))
                result = Result(result.code, {"hash": local, "fsize": sink.count}, result.headers)
        except BaseException as exc:
            notifier.done(exc)
            raise
        notifier.done(None)
        return result

    def download(self, url: str, path: str, *, progress: Optional[Progress] = None,
                 subscribers: Iterable[Subscriber] = (), expected_hash: Optional[str] = None,
                 size: Optional[int] = None, bucket: str = "", key: str = "") -> Result:
        """GET ``url`` into ``path``.

        Returns:
            On success, ``Result(status, {"hash", "fsize", "path"}, headers)``; when the service
            answers an error status, that status with its decoded body (nothing written); -1 when
            no complete body came after every retry.

        Raises:
            LocalFileError: the target directory is missing or not writable.
            IntegrityError: the bytes received do not hash to ``expected_hash`` or to the ``ETag``.
        """
        target = fsutil.resolve_target(os.fspath(path))
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            raise LocalFileError("cannot download to %s: no such directory" % path)
        if os.path.isdir(target):
            raise LocalFileError("cannot download to %s: it is a directory" % path)
        _check_replaceable(target, path)
        notifier = Notifier.of(TransferInfo.new("download", bucket, key or url, target, size), progress, subscribers)
        special = fsutil.is_special(target)
        with contextlib.ExitStack() as stack:
            tmp: Optional[str] = None
            try:
                if special:
                    fd = fsutil.open_special(target)
                else:
                    fd, tmp = stack.enter_context(self.staging.folder(directory)).new_temporary_file()
                    stack.callback(fsutil.discard, tmp)  # gone once renamed onto the target
            except OSError as exc:
                raise LocalFileError("cannot write %s: %s" % (path, exc.strerror or exc)) from None
            result, local, count = self._receive(url, path, target, fd, tmp, notifier, expected_hash)
            if not result.ok:
                return result
        log.debug("downloaded %s -> %s (%d bytes, %s)", url, target, count, local)
        return Result(result.code, {"hash": local, "fsize": count, "path": target}, result.headers)

    def _receive(self, url: str, path: str, target: str, fd: int, tmp: Optional[str], notifier: Notifier,
                 expected_hash: Optional[str]) -> Tuple[Result, str, int]:
        """Stream the body into ``fd`` (the temporary file ``tmp``, or a special target when None),
        verify it and rename ``tmp`` onto ``target``: ``(result, etag, bytes)``; the failing
        Result (nothing written under ``target``) when the service answered an error."""
        notifier.queued()
        sink: Optional[HashingSink] = None
        try:
            with os.fdopen(fd, "wb") as out:
                sink = HashingSink(lambda _, data: out.write(data), path, notifier)

                def restart() -> None:
                    if tmp is None:
                        raise LocalFileError("cannot restart a download into %s (not a regular file)" % path)
                    assert sink is not None
                    sink.restart()
                    out.seek(0)
                    out.truncate()

                result = self.http.get_body(url, sink, headers=self.transfer.traffic_headers(), restart=restart,
                                            retries=self.transfer.connection_retries)
                if not result.ok:
                    sink.take_back()
                    notifier.done(None)
                    return result, "", 0
                local = sink.hasher.etag()
                etag_header = header_etag(result.headers.get("ETag"))
                verify(url, local, expected_hash, etag_header)
                if tmp is not None and not sink.count and not (expected_hash or etag_header) \
                        and _has_content(target):
                    # Nothing vouches for an empty answer (a proxy or a cut response looks the same):
                    # it must not wipe out a file.
                    raise IntegrityError("download of %s: an empty body without an ETag would replace %s"
                                         % (url, path))
                if tmp is not None:
                    try:
                        fsutil.commit_temp(tmp, target, fileobj=out)
                    except OSError as exc:
                        raise LocalFileError("cannot write %s: %s" % (path, exc.strerror or exc)) from exc
        except BaseException as exc:
            if sink is not None:
                sink.take_back()
            notifier.done(exc)
            raise
        notifier.done(None)
        return result, local, sink.count
