"""``cp`` and ``mv`` of one object or file, in every direction, with the one overwrite rule.

The rule (``wcscmd cp``, ``mv``, ``sync``, ``-r``; as aws and rclone): an existing destination is
replaced, and the :class:`Placement` says ``replaced``; with ``no_clobber`` an existing destination
is left alone and the placement is ``skipped``. (The official ``put`` and ``multiput`` keep the
official ``overwrite`` setting instead.)

* bucket to bucket (:func:`copy_remote`): ``/copy`` or ``/move`` on the service, no data through
  the client; the destination is then ``stat``-ed and must carry the source's etag;
* file to bucket (:func:`upload_local`): one form upload, or blocks from ``multipart_threshold``
  on (resumable, as ``multiput``), verified by the etag of the bytes sent; with no clobber the
  upload itself also asks the service not to replace (``overwrite=0``), so an object that appeared
  after the check is not replaced either. A move removes the file only once its etag is proven
  stored and the file was not changed while it was sent;
* bucket to file (:func:`download_remote`): the verified download; a move deletes the object only
  when it still is the version downloaded.

A service answer that is not a success comes back in ``result`` (``ok`` False), as the official
commands report it; a copy that does not verify raises ``IntegrityError``.
"""

import os
import stat as stat_module
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

from wcs.commons.errors import IntegrityError, InvalidArgument, LocalFileError, ObjectChanged
from wcs.commons.http import Result
from wcs.commons.result import ObjectInfo
from wcs.commons.util import etag
from wcs.services.bucket import BucketManager
from wcs.services.download import Downloader
from wcs.services.events import Notifier, Progress, Subscriber, TransferInfo
from wcs.services.formupload import FormUploader
from wcs.services.storageclass import mark_not_restored
from wcs.services.uploads import BlockUploader, sends_blocks

COPIED, MOVED, UPLOADED, DOWNLOADED, SKIPPED, FAILED = "copied", "moved", "uploaded", "downloaded", "skipped", "failed"


@dataclass(frozen=True)
class Placement:
    """What ``cp`` or ``mv`` of one object or file did.

    Attributes:
        action: ``copied``, ``moved``, ``uploaded``, ``downloaded``, ``skipped`` (no clobber: the
            destination exists) or ``failed`` (``result`` is the service's refusal).
        replaced: an existing destination was replaced.
        size, hash: the object's (0 and "" when unknown).
        source_removed: the source file or object was removed (a move).
        result: the service's answer to the step that placed it (the failing one for ``failed``).
    """

    source: str
    destination: str
    action: str
    replaced: bool = False
    size: int = 0
    hash: str = ""
    source_removed: bool = False
    result: Optional[Result] = None

    @property
    def ok(self) -> bool:
        return self.action != FAILED


def show(bucket: str, key: str) -> str:
    return "wcs://%s/%s" % (bucket, key)


def _stat(objects: BucketManager, bucket: str, key: str) -> Tuple[Optional[ObjectInfo], Result]:
    """The object's info (None when there is none: 404), and the answer; other failures come back as is."""
    result = objects.stat(bucket, key)
    if result.ok:
        return ObjectInfo.from_item(result.data if isinstance(result.data, dict) else {}, key=key), result
    return None, result


def copy_remote(objects: BucketManager, src: Tuple[str, str], dst: Tuple[str, str], *, move: bool = False,
                no_clobber: bool = False) -> Placement:
    """Copy (``move``: move) one object on the service, then check the destination's etag.

    Raises:
        InvalidArgument: the source and the destination are one object.
        IntegrityError: the destination does not hold the source's content afterwards.
    """
    source, destination = show(*src), show(*dst)
    info, answer = _stat(objects, *src)
    if info is None:
        return Placement(source, destination, FAILED, result=answer)
    if tuple(src) == tuple(dst):
        raise InvalidArgument("%s: the source and the destination are the same object" % source)
    existing, answer = _stat(objects, *dst)
    if existing is None and answer.code != 404:
        return Placement(source, destination, FAILED, result=answer)
    if existing is not None and no_clobber:
        return Placement(source, destination, SKIPPED, size=existing.size, hash=existing.hash, result=answer)
    call = objects.move if move else objects.copy
    result = call(src[0], src[1], dst[0], dst[1])
    if not result.ok:
        return Placement(source, destination, FAILED, result=result)
    after, answer = _stat(objects, *dst)
    if after is None or (info.hash and after.hash != info.hash):
        raise IntegrityError("%s of %s to %s: the destination %s" % (
            "move" if move else "copy", source, destination,
            "is missing afterwards" if after is None else "has etag %s, the source had %s" % (after.hash, info.hash)))
    return Placement(source, destination, MOVED if move else COPIED, replaced=existing is not None, size=info.size,
                     hash=info.hash, source_removed=move, result=result)


def _regular_file(path: str) -> os.stat_result:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise LocalFileError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    if not stat_module.S_ISREG(st.st_mode):
        raise LocalFileError("%s: not a regular file" % path)
    return st


def _identity(st: os.stat_result) -> Tuple[int, int, int, int, int]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def upload_local(uploads: FormUploader, multipart: BlockUploader, objects: BucketManager, path: str, bucket: str,
                 key: str, *, move: bool = False, no_clobber: bool = False, multipart_threshold: int,
                 mime_type: Optional[str] = None, progress: Optional[Progress] = None,
                 subscribers: Iterable[Subscriber] = ()) -> Placement:
    """Upload the file at ``path`` to ``bucket``/``key`` (``move``: then remove the file).

    Raises:
        LocalFileError: ``path`` is not a readable regular file, or (a move) it changed while it
            was sent, or cannot be removed.
        IntegrityError: the service's etag differs from the bytes sent.
    """
    source, destination = path, show(bucket, key)
    before = _regular_file(path)
    existing, answer = _stat(objects, bucket, key)
    if existing is None and answer.code != 404:
        return Placement(source, destination, FAILED, result=answer)
    if existing is not None and no_clobber:
        return Placement(source, destination, SKIPPED, size=existing.size, hash=existing.hash, result=answer)
    overwrite = 0 if no_clobber else 1
    if sends_blocks(before.st_size, multipart_threshold):
        result = multipart.upload(path, bucket, key, None, progress=progress, subscribers=subscribers,
                                  overwrite=overwrite, mime_type=mime_type)
    else:
        notifier = Notifier.of(TransferInfo.new("upload", bucket, key, path, before.st_size), progress, subscribers)
        with notifier.running():
            result = notifier.settle(uploads.upload_file(path, bucket, key, overwrite=overwrite, mime_type=mime_type,
                                                         progress=notifier.progress if notifier else None))
    if not result.ok:
        return Placement(source, destination, FAILED, result=result)
    # The uploaders compare the service's etag with that of the bytes they sent; with returnBody or a
    # callback the answer is not the service's own, so the object is asked.
    stored = result.answered_hash if uploads.policy.answer_is_plain else None
    removed = False
    if move:
        if stored is None:
            after_upload, answer = _stat(objects, bucket, key)
            local = etag(path)
            if after_upload is None or after_upload.hash != local:
                raise IntegrityError("upload of %s to %s: the object's etag is not the file's; the file is kept"
                                     % (path, destination))
            stored = local
        if _identity(_regular_file(path)) != _identity(before):
            raise LocalFileError("%s changed while it was uploaded; it is kept (the object holds what was sent)"
                                 % path)
        try:
            os.remove(path)
        except OSError as exc:
            raise LocalFileError("uploaded %s, but cannot remove it: %s" % (path, exc.strerror or exc)) from None
        removed = True
    return Placement(source, destination, MOVED if move else UPLOADED, replaced=existing is not None,
                     size=before.st_size, hash=stored or "", source_removed=removed, result=result)


def download_remote(downloads: Downloader, objects: BucketManager, bucket: str, key: str, path: str, *,
                    move: bool = False, no_clobber: bool = False, progress: Optional[Progress] = None,
                    subscribers: Iterable[Subscriber] = ()) -> Placement:
    """Download ``bucket``/``key`` to ``path``, verified (``move``: then delete the object).

    Raises:
        ConfigError: no download domain for ``bucket``.
        LocalFileError, IntegrityError: as :meth:`~wcs.services.download.Downloader.fetch`.
        ObjectChanged: (a move) the object was replaced meanwhile: it is not deleted.
    """
    source, destination = show(bucket, key), path
    url = downloads.download_url(bucket, key)  # ConfigError before any request
    info, answer = _stat(objects, bucket, key)
    if info is None:
        return Placement(source, destination, FAILED, result=answer)
    exists = os.path.lexists(path)
    if exists and no_clobber:
        return Placement(source, destination, SKIPPED, result=answer)
    result = downloads.fetch(url, path, size=info.size, expected_hash=info.hash or None, progress=progress,
                             subscribers=subscribers, bucket=bucket, key=key)
    result = mark_not_restored(result, "%s:%s" % (bucket, key), info)  # an Archive object not restored
    if not result.ok:
        return Placement(source, destination, FAILED, result=result)
    removed = False
    if move:
        now, answer = _stat(objects, bucket, key)
        if now is None or now.hash != info.hash:
            raise ObjectChanged("%s was replaced while it was downloaded: the object is kept (the file holds "
                                "the version downloaded)" % source)
        deleted = objects.delete(bucket, key)
        if not deleted.ok:
            return Placement(source, destination, FAILED, replaced=exists, size=info.size, hash=info.hash,
                             result=deleted)
        removed = True
    return Placement(source, destination, MOVED if move else DOWNLOADED, replaced=exists, size=info.size,
                     hash=info.hash, source_removed=removed, result=result)
