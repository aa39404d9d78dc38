"""``Client``: every WCS call behind one object, with the official SDK's import path and method names.

A client is configured once: its :class:`~wcs.commons.http.HttpClient` (one keep-alive session,
timeout, TLS verification, retries, pool) is built from the :class:`~wcs.commons.config.Config` at
construction and never changed afterwards, so threads calling different methods of one client
share it without racing. Each call builds its services from frozen snapshots of the config
(:mod:`wcs.commons.settings`): changing ``cfg.overwrite`` or ``cfg.block_size`` affects the next
call, as in the official SDK. Parallel work of every call runs on the client's one
:class:`~wcs.services.scheduler.Scheduler`, sized when the client is built (``concurrency``, or
``workers`` when more are wanted from the start) and grown, never shrunk, when a call asks for
more (a larger ``concurrency`` set later, a tree's ``transfers``); a call with ``concurrency = 0``
runs its tasks in the calling thread.

Only the official methods read per-call options from the config (``upload_id``, ``prefix``,
``marker``, ``limit``, ``mode``), as the official SDK does; the extras (``iter_objects``,
``list_objects``, ``download``...) take them as arguments only.
"""

import logging
import os
from typing import Any, BinaryIO, Dict, Iterable, Iterator, List, Optional, Union

from wcs.commons.config import Config
from wcs.commons.errors import InvalidArgument, WcsSeriveError
from wcs.commons.http import Result
from wcs.commons.result import ObjectInfo
from wcs.services.blockplan import new_upload_id
from wcs.services.client_downloads import DownloadMethods
from wcs.services.client_jobs import JobMethods
from wcs.services.client_objects import ObjectMethods
from wcs.services.client_trees import TreeMethods
from wcs.services.client_vendor import VendorMethods
from wcs.services.events import Progress, Subscriber
from wcs.services.formupload import PathLike, open_for_upload
from wcs.services.listing import ObjectListing
from wcs.services.resume import RecordStore, RecordSummary, ResumeRecord, check_upload_id, list_records, remove_record
from wcs.services.uploads import sends_blocks

log = logging.getLogger(__name__)

MiB = 1024 * 1024


class Client(DownloadMethods, JobMethods, TreeMethods, ObjectMethods, VendorMethods):
    """The WCS client (official ``wcs.services.client.Client``).

    Args:
        cfg: the settings (HTTP settings are read once, here; the rest at every call).
        http: an HTTP client to share (default: one built from ``cfg`` and closed by :meth:`close`).
        scheduler: a pool to share with other clients (default: one of this client's own).
        workers: the threads this client's pool may use from the start when that is more than
            ``cfg.concurrency`` (e.g. the files a tree command sends at once); its connection pool is
            sized for them too.
    """

    def __enter__(self) -> "Client":
        return self

    @staticmethod
    def new_upload_id() -> str:
        """A fresh multipart upload id, to know it before :meth:`multipart_upload` starts."""
        return new_upload_id()

    @staticmethod
    def check_upload_id(upload_id: str) -> str:
        """``upload_id`` if it can name a resume record, else raise ``InvalidArgument``."""
        return check_upload_id(upload_id)

    def resume_record(self, upload_id: str) -> Optional[ResumeRecord]:
        """The resume record of ``upload_id`` in ``tmp_record_folder``, or None when there is none.

        Raises:
            InvalidArgument: ``upload_id`` cannot name a record.
            ResumeError: the record exists but cannot be read or is not valid.
        """
        return RecordStore(self.cfg.transfer.tmp_record_folder, upload_id).load()

    def list_resume_records(self) -> List[RecordSummary]:
        """The resume records in ``tmp_record_folder`` (failed or abandoned uploads), oldest first.

        Raises:
            ResumeError: the folder exists but cannot be read.
        """
        return list_records(self.cfg.transfer.tmp_record_folder)

    def remove_resume_record(self, upload_id: str) -> bool:
        """Delete the resume record of ``upload_id``; False when there is none (the upload cannot resume after)."""
        return remove_record(self.cfg.transfer.tmp_record_folder, upload_id)

    # -- uploads --------------------------------------------------------------------------

    def simple_upload(self, path: PathLike, bucket: str, key: str, *, progress: Optional[Progress] = None,
                      overwrite: Optional[int] = None, mime_type: Optional[str] = None,
                      deadline: Optional[int] = None) -> Result:
        """Upload a file in one form request (streamed from disk).

        Args:
            progress: ``callable(bytes_delta)``.
            overwrite: 1 to replace an existing key (default ``cfg.overwrite``).
            mime_type: content type to store.
            deadline: retention of the object in days (``cfg.deadline`` is the token lifetime).

        Raises:
            LocalFileError: ``path`` is missing or unreadable.
            IntegrityError: the service's hash differs from the bytes sent.
        """
        return self.form_uploader().upload_file(path, bucket, key, progress=progress, overwrite=overwrite,
                                                mime_type=mime_type, deadline=deadline)

    def stream_upload(self, stream: Union[str, BinaryIO], bucket: str, key: str, *,
                      progress: Optional[Progress] = None, overwrite: Optional[int] = None,
                      mime_type: Optional[str] = None, deadline: Optional[int] = None) -> Result:
        """Upload what an http(s) URL serves (also accepts a local path or a binary file object).

        The source is spooled to a temporary file while it is read, then uploaded as a file, so
        memory stays flat and the upload can be retried. A source that cannot be fetched gives a
        Result with its status (or -1) and uploads nothing.
        """
        return self.form_uploader().upload_stream(stream, bucket, key, progress=progress, overwrite=overwrite,
                                                  mime_type=mime_type, deadline=deadline)

    def multipart_upload(self, path: PathLike, bucket: str, key: str, tmp_upload_id: Optional[str] = None, *,
                         upload_id: Optional[str] = None, progress: Optional[Progress] = None,
                         subscribers: Iterable[Subscriber] = (), overwrite: Optional[int] = None,
                         mime_type: Optional[str] = None, deadline: Optional[int] = None) -> Result:
        """Upload a file in blocks (``block_size``, ``bput_size``, ``concurrency`` from the config).

        ``tmp_upload_id`` (the official name; ``upload_id=`` is the same; default ``cfg.upload_id``,
        as the official SDK): when a resume record exists for it the upload resumes, skipping the
        blocks already stored; otherwise a fresh upload starts under that id (a random one when none
        is given). The Result's ``upload_id`` is set either way; a failed upload keeps its record so
        the same call resumes it.

        Raises:
            LocalFileError, InvalidArgument, ResumeError, IntegrityError: see
            :meth:`wcs.services.uploads.BlockUploader.upload`.
        """
        if tmp_upload_id and upload_id and tmp_upload_id != upload_id:
            raise InvalidArgument("tmp_upload_id %r and upload_id %r differ: give one" % (tmp_upload_id, upload_id))
        upload_id = tmp_upload_id or upload_id or self.cfg.upload_id or None
        return self.block_uploader().upload(path, bucket, key, upload_id, progress=progress,
                                                subscribers=subscribers, overwrite=overwrite,
                                                mime_type=mime_type, deadline=deadline)

    def upload_fileobj(self, fileobj: BinaryIO, bucket: str, key: str, size: Optional[int] = None, *,
                       progress: Optional[Progress] = None, subscribers: Iterable[Subscriber] = (),
                       overwrite: Optional[int] = None, mime_type: Optional[str] = None,
                       deadline: Optional[int] = None) -> Result:
        """Upload a binary file object (not in the official SDK).

        ``size`` None (a pipe, stdin, a socket): read to its end and sent in blocks as they fill,
        memory bounded by about ``(concurrency + 1) * block_size``, the etag checked; one form upload
        when it ends within the first block. Not resumable: a failure means sending it again.
        ``size`` given: ``fileobj`` must be seekable; its first ``size`` bytes go as one form upload.

        Raises:
            InvalidArgument: ``size`` given for a stream that cannot seek.
            LocalFileError: the stream cannot be read. IntegrityError: see :meth:`simple_upload`.
        """
        options: Dict[str, Any] = dict(progress=progress, overwrite=overwrite, mime_type=mime_type,
                                       deadline=deadline)
        if size is None:
            return self.block_uploader().upload_stream(fileobj, bucket, key, subscribers=subscribers, **options)
        if not getattr(fileobj, "seekable", lambda: False)():
            raise InvalidArgument("upload_fileobj with a size needs a seekable file; pass size=None to stream it")
        return self.form_uploader().upload_fileobj(fileobj, int(size), bucket, key, **options)

    def smart_upload(self, path: PathLike, bucket: str, key: str, multi_size: int = 20, *,
                     progress: Optional[Progress] = None, upload_id: Optional[str] = None,
                     overwrite: Optional[int] = None, mime_type: Optional[str] = None,
                     deadline: Optional[int] = None) -> Result:
        """Multipart upload when the file is larger than ``multi_size`` MiB, else a form upload.

        Returns the successful Result; as in the official SDK, a failure raises.

        Raises:
            WcsSeriveError: the upload failed (``.result`` is the failing answer; after a multipart
                upload its ``upload_id`` resumes it).
            LocalFileError, InvalidArgument: as :meth:`simple_upload` and :meth:`multipart_upload`.
        """
        try:
            threshold = int(multi_size) * MiB + 1  # blocks when larger than multi_size MiB, as the official SDK
        except (TypeError, ValueError):
            raise InvalidArgument("invalid multi_size %r: a number of MiB" % (multi_size,)) from None
        with open_for_upload(path) as fp:
            size = os.fstat(fp.fileno()).st_size
        options: Dict[str, Any] = dict(progress=progress, overwrite=overwrite, mime_type=mime_type,
                                       deadline=deadline)
        if sends_blocks(size, threshold):
            result = self.multipart_upload(path, bucket, key, upload_id=upload_id, **options)
            what = "multipart upload"
        else:
            result = self.simple_upload(path, bucket, key, **options)
            what = "upload"
        # The official bounds: a 303 (returnUrl) is a success.
        if not 200 <= result.code < 400:
            raise WcsSeriveError("%s of %s:%s failed: HTTP %d: %s (reqid %s)"
                                 % (what, bucket, key, result.code, result.message, result.reqid), result) \
                from result.error
        return result

    # -- resource management ------------------------------------------------------------

    def list_buckets(self) -> Result:
        """The account's buckets."""
        return self.bucket_manager().list_buckets()

    def _list_args(self, prefix: Optional[str], marker: Optional[str], limit: Any, mode: Any) -> Dict[str, Any]:
        """The listing options as the official methods send them (the extras validate theirs instead).

        As in the official SDK: an empty ``prefix``/``marker`` or a ``limit`` of 0 or None falls back
        on the config's; a ``mode`` other than 0 or 1 (3 = flat, 2, anything) is not sent, and
        neither is a config value that is not a number.
        """
        cfg = self.cfg
        limit = limit or _config_number(cfg, "limit") or None
        if mode is None:
            mode = _config_number(cfg, "mode")
        try:
            sent_mode = int(mode) if mode is not None and not isinstance(mode, bool) else None
        except (TypeError, ValueError):
            sent_mode = None
        return dict(prefix=prefix or cfg.prefix or None, marker=marker or cfg.marker or None, limit=limit,
                    mode=sent_mode if sent_mode in (0, 1) else None)

    def bucket_list(self, bucket: str, prefix: Optional[str] = None, marker: Optional[str] = None,
                    limit: Optional[int] = None, mode: Optional[int] = None, starttime: Any = None,
                    endtime: Any = None) -> Result:
        """One page of objects (defaults for prefix, marker, limit and mode from the config).

        ``limit`` 0 or None takes the config's; a ``mode`` other than 0 or 1 lists flat (the official
        SDK's handling of both).

        Raises:
            InvalidArgument: ``limit`` outside 0..1000 (a ValueError, as in the official SDK).
        """
        return self.bucket_manager().list_page(bucket, starttime=starttime, endtime=endtime,
                                               **self._list_args(prefix, marker, limit, mode))

    def bucket_listAll(self, bucket: str, prefix: Optional[str] = None, marker: Optional[str] = None,
                       limit: Optional[int] = None, mode: Optional[int] = None, starttime: Any = None,
                       endtime: Any = None) -> Result:
        """Every page, merged: ``body["items"]`` (and ``commonPrefixes``) of the whole listing.

        A failing page is returned as is. For large buckets prefer :meth:`iter_objects`.
        """
        return self.bucket_manager().list_all(bucket, starttime=starttime, endtime=endtime,
                                              **self._list_args(prefix, marker, limit, mode))

    def iter_objects(self, bucket: str, prefix: Optional[str] = None, mode: Optional[int] = None,
                     starttime: Any = None, endtime: Any = None, limit: Optional[int] = None, *,
                     marker: Optional[str] = None) -> ObjectListing:
        """Yield every object's item dict in key order, fetched while consumed (a flat listing: key ranges
        in parallel on the client's pool; a bounded number of pages in memory).

        Raises:
            InvalidArgument: bad ``limit`` or ``mode``.
            ServiceError, NetworkError: a page failed.
        """
        return self.bucket_manager().iter_objects(bucket, prefix=prefix or None, marker=marker or None,
                                                  limit=1000 if limit is None else limit, mode=mode,
                                                  starttime=starttime, endtime=endtime)

    def list_objects(self, bucket: str, prefix: Optional[str] = None, *, marker: Optional[str] = None,
                     limit: int = 1000, mode: Optional[int] = None) -> Iterator[ObjectInfo]:
        """Every object under ``prefix`` as a typed :class:`~wcs.commons.result.ObjectInfo`, in key order,
        streamed (see :meth:`iter_objects`).

        Raises:
            ServiceError, NetworkError: a page failed (when that page is reached).
        """
        return self.bucket_manager().iter_objects(bucket, prefix=prefix or None, marker=marker or None,
                                                  limit=limit, mode=mode, typed=True)

    def stat_object(self, bucket: str, key: str) -> ObjectInfo:
        """The typed metadata of one object.

        Raises:
            ServiceError: the service refused (``.code`` 404 when there is no such object).
            NetworkError: no answer.
        """
        result = self.stat(bucket, key).raise_for_status()
        return ObjectInfo.from_item(result.data if isinstance(result.data, dict) else {}, key=key,
                                    headers=result.headers)

    def bucket_stat(self, name: str, startdate: str, enddate: str, isListDetails: str = "false",
                    storageType: Optional[str] = None) -> Result:
        """Daily storage use of bucket(s) ``name`` (``b1|b2``) between two ``yyyy-mm-dd`` dates."""
        return self.bucket_manager().bucket_stat(name, startdate, enddate, isListDetails, storageType)

    def bucket_statistics(self, name: str, stype: str, startdate: str, enddate: str,
                          isListDetails: str = "false") -> Result:
        """Usage statistics of type ``stype`` (e.g. ``uploadRequest``)."""
        return self.bucket_manager().bucket_statistics(name, stype, startdate, enddate, isListDetails)

    def image_detect(self, image: str, dtype: str, bucket: str) -> Result:
        """Content moderation of the image at URL ``image`` (``dtype`` e.g. ``porn``), billed to ``bucket``."""
        return self.bucket_manager().image_detect(image, dtype, bucket)

    def stat(self, bucket: str, key: str) -> Result:
        """Object metadata (``fsize``, ``hash``, ``mimeType``, ``putTime``...)."""
        return self.bucket_manager().stat(bucket, key)

    def delete(self, bucket: str, key: str) -> Result:
        """Delete an object."""
        return self.bucket_manager().delete(bucket, key)

    def move(self, srcbucket: str, srckey: str, dstbucket: str, dstkey: str = "") -> Result:
        """Move an object; ``dstkey`` defaults to ``srckey``."""
        return self.bucket_manager().move(srcbucket, srckey, dstbucket, dstkey or srckey)

    def copy(self, srcbucket: str, srckey: str, dstbucket: str, dstkey: str = "") -> Result:
        """Copy an object; ``dstkey`` defaults to ``srckey``."""
        return self.bucket_manager().copy(srcbucket, srckey, dstbucket, dstkey or srckey)

    def setdeadline(self, bucket: str, key: str, deadline: Union[int, str], *,
                    relevance: Optional[int] = None) -> Result:
        """Keep the object ``deadline`` days (``0``: delete soon, ``-1``: keep forever)."""
        return self.bucket_manager().setdeadline(bucket, key, deadline, relevance)


def _config_number(cfg: Config, key: str) -> Optional[int]:
    """``cfg.<key>``; for a value the file gave malformed, its number if it has one, else None (the
    official SDK's fallback: it sends what ``int()`` accepts and drops the rest)."""
    if cfg.problem(key) is None:
        return getattr(cfg, key)
    try:
        return int(str(cfg.raw(key)).strip())
    except (TypeError, ValueError):
        return None
