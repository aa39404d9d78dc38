"""``Client``: every WCS call behind one object, with the official SDK's import path and method names.

A client is configured once: its :class:`~wcs.commons.http.HttpClient` (one keep-alive session,
timeout, TLS verification, retries, pool) is built from the :class:`~wcs.commons.config.Config` at
construction and never changed afterwards, so threads calling different methods of one client
share it without racing. Each call builds its services from frozen snapshots of the config
(:mod:`wcs.commons.settings`): changing ``cfg.overwrite`` or ``cfg.block_size`` affects the next
call, as in the official SDK. Parallel work of every call runs on one
:class:`~wcs.services.scheduler.Scheduler`, whose size (the global budget) is the ``concurrency``
of the first parallel transfer.

Only the official methods read per-call options from the config (``upload_id``, ``prefix``,
``marker``, ``limit``, ``mode``), as the official SDK does; the extras (``iter_objects``,
``list_objects``, ``download``...) take them as arguments only.
"""

import logging
import os
import threading
from typing import Any, BinaryIO, Dict, Iterable, Iterator, Optional, Union

from wcs.commons.auth import Auth
from wcs.commons.config import Config
from wcs.commons.errors import InvalidArgument
from wcs.commons.http import HttpClient, Result
from wcs.commons.result import ObjectInfo
from wcs.commons.settings import TransferConfig
from wcs.services.bucket import BucketManager
from wcs.services.client_downloads import DownloadMethods
from wcs.services.client_jobs import JobMethods
from wcs.services.client_trees import TreeMethods
from wcs.services.download import Downloader
from wcs.services.events import Progress, Subscriber
from wcs.services.listing import ObjectListing
from wcs.services.multipart import MultipartUploader, new_upload_id
from wcs.services.resume import check_upload_id
from wcs.services.scheduler import Scheduler
from wcs.services.upload import FormUploader, PathLike, open_for_upload

log = logging.getLogger(__name__)

MiB = 1024 * 1024
_SEQUENTIAL = Scheduler(0, name="wcs-sequential")


class Client(DownloadMethods, JobMethods, TreeMethods):
    """The WCS client (official ``wcs.services.client.Client``).

    Args:
        cfg: the settings (HTTP settings are read once, here; the rest at every call).
        http: an HTTP client to share (default: one built from ``cfg`` and closed by :meth:`close`).
        scheduler: a pool to share with other clients (default: one of this client's own).
    """

    def __init__(self, cfg: Config, http: Optional[HttpClient] = None, *,
                 scheduler: Optional[Scheduler] = None) -> None:
        self.cfg = cfg
        self._owns_http = http is None
        transfer = cfg.transfer
        self.http = http if http is not None else HttpClient(
            timeout=transfer.connection_timeout, verify=cfg.isverify, retries=transfer.connection_retries,
            pool_size=max(transfer.concurrency, 8))
        self._scheduler = scheduler
        self._scheduler_lock = threading.Lock()
        self._auth: Optional[Auth] = None

    def close(self) -> None:
        """Close the connections (only those of an HTTP client this object created)."""
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "Client(put_url=%r, mgr_url=%r)" % (self.cfg.put_url, self.cfg.mgr_url)

    # -- plumbing -------------------------------------------------------------------------

    @property
    def auth(self) -> Auth:
        """The signer: the one assigned to ``client.auth``, else one for the configured keys.

        Raises:
            ConfigError: no signer was assigned and ``access_key`` or ``secret_key`` is not set.
        """
        if self._auth is not None:
            return self._auth
        creds = self.cfg.credentials.require()
        return Auth(creds.access_key, creds.secret_key)

    @auth.setter
    def auth(self, value: Auth) -> None:
        self._auth = value

    def _signer(self) -> Optional[Auth]:
        """The signer if keys are known, else None (the service raises when a call needs one)."""
        if self._auth is not None or self.cfg.credentials.complete:
            return self.auth
        return None

    def scheduler_for(self, transfer: TransferConfig) -> Scheduler:
        """The pool a transfer with these settings runs on (``concurrency = 0``: the calling thread)."""
        if transfer.concurrency <= 0:
            return _SEQUENTIAL
        with self._scheduler_lock:
            if self._scheduler is None:
                self._scheduler = Scheduler(transfer.concurrency)
            return self._scheduler

    def bucket_manager(self) -> BucketManager:
        return BucketManager(self.http, self.auth, self.cfg.endpoints)

    def form_uploader(self, transfer: Optional[TransferConfig] = None) -> FormUploader:
        return FormUploader(self.http, self._signer(), self.cfg.endpoints, transfer or self.cfg.transfer,
                            self.cfg.policy)

    def multipart_uploader(self, transfer: Optional[TransferConfig] = None) -> MultipartUploader:
        transfer = transfer or self.cfg.transfer
        return MultipartUploader(self.http, self._signer(), self.cfg.endpoints, transfer, self.cfg.policy,
                                 self.scheduler_for(transfer))

    def downloader(self, transfer: Optional[TransferConfig] = None) -> Downloader:
        transfer = transfer or self.cfg.transfer
        return Downloader(self.http, self.cfg.endpoints, transfer, self.scheduler_for(transfer))

    @staticmethod
    def new_upload_id() -> str:
        """A fresh multipart upload id, to know it before :meth:`multipart_upload` starts."""
        return new_upload_id()

    @staticmethod
    def check_upload_id(upload_id: str) -> str:
        """``upload_id`` if it can name a resume record, else raise ``InvalidArgument``."""
        return check_upload_id(upload_id)

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

    def stream_upload(self, stream_url: Union[str, BinaryIO], bucket: str, key: str, *,
                      progress: Optional[Progress] = None, overwrite: Optional[int] = None,
                      mime_type: Optional[str] = None, deadline: Optional[int] = None) -> Result:
        """Upload what an http(s) URL serves (also accepts a local path or a binary file object).

        The source is spooled to a temporary file while it is read, then uploaded as a file, so
        memory stays flat and the upload can be retried. A source that cannot be fetched gives a
        Result with its status (or -1) and uploads nothing.
        """
        return self.form_uploader().upload_stream(stream_url, bucket, key, progress=progress, overwrite=overwrite,
                                                  mime_type=mime_type, deadline=deadline)

    def multipart_upload(self, path: PathLike, bucket: str, key: str, upload_id: Optional[str] = None, *,
                         progress: Optional[Progress] = None, subscribers: Iterable[Subscriber] = (),
                         overwrite: Optional[int] = None, mime_type: Optional[str] = None,
                         deadline: Optional[int] = None) -> Result:
        """Upload a file in blocks (``block_size``, ``bput_size``, ``concurrency`` from the config).

        ``upload_id`` (default ``cfg.upload_id``, as the official SDK): when a resume record exists
        for it the upload resumes, skipping the blocks already stored; otherwise a fresh upload
        starts under that id (a random one when none is given). The Result's ``upload_id`` is set
        either way; a failed upload keeps its record so the same call resumes it.

        Raises:
            LocalFileError, InvalidArgument, ResumeError, IntegrityError: see
            :meth:`wcs.services.multipart.MultipartUploader.upload`.
        """
        return self.multipart_uploader().upload(path, bucket, key, upload_id or self.cfg.upload_id or None,
                                                progress=progress, subscribers=subscribers,
                                                overwrite=overwrite, mime_type=mime_type, deadline=deadline)

    def smart_upload(self, path: PathLike, bucket: str, key: str, multi_size: int = 20, *,
                     progress: Optional[Progress] = None, upload_id: Optional[str] = None,
                     overwrite: Optional[int] = None, mime_type: Optional[str] = None,
                     deadline: Optional[int] = None) -> Result:
        """Multipart upload when the file is larger than ``multi_size`` MiB, else a form upload.

        Unlike the official SDK, a failure is returned as a Result rather than raised.
        """
        try:
            threshold = int(multi_size) * MiB
        except (TypeError, ValueError):
            raise InvalidArgument("invalid multi_size %r: a number of MiB" % (multi_size,)) from None
        with open_for_upload(path) as fp:
            size = os.fstat(fp.fileno()).st_size
        options: Dict[str, Any] = dict(progress=progress, overwrite=overwrite, mime_type=mime_type,
                                       deadline=deadline)
        if size > threshold:
            return self.multipart_upload(path, bucket, key, upload_id, **options)
        return self.simple_upload(path, bucket, key, **options)

    # -- resource management ------------------------------------------------------------

    def list_buckets(self) -> Result:
        """The account's buckets."""
        return self.bucket_manager().list_buckets()

    def _list_args(self, prefix: Optional[str], marker: Optional[str], limit: Optional[int],
                   mode: Optional[int]) -> Dict[str, Any]:
        # The official methods fall back on the config's listing options; the extras do not.
        cfg = self.cfg
        return dict(prefix=prefix or cfg.prefix or None, marker=marker or cfg.marker or None,
                    limit=cfg.limit if limit is None else limit, mode=cfg.mode if mode is None else mode)

    def bucket_list(self, bucket: str, prefix: Optional[str] = None, marker: Optional[str] = None,
                    limit: Optional[int] = None, mode: Optional[int] = None, starttime: Any = None,
                    endtime: Any = None) -> Result:
        """One page of objects (defaults for prefix, marker, limit and mode from the config).

        Raises:
            InvalidArgument: ``limit`` outside 1..1000 or ``mode`` not 0, 1 or 3.
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
        """Yield every object's item dict, page by page (one page in memory).

        Raises:
            InvalidArgument: bad ``limit`` or ``mode`` (when iteration starts).
            ServiceError, NetworkError: a page failed.
        """
        return self.bucket_manager().iter_objects(bucket, prefix=prefix or None, marker=marker or None,
                                                  limit=1000 if limit is None else limit, mode=mode,
                                                  starttime=starttime, endtime=endtime)

    def list_objects(self, bucket: str, prefix: Optional[str] = None, *, marker: Optional[str] = None,
                     limit: int = 1000, mode: Optional[int] = None) -> Iterator[ObjectInfo]:
        """Every object under ``prefix`` as a typed :class:`~wcs.commons.result.ObjectInfo` (streamed).

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
        return ObjectInfo.from_item(result.body if isinstance(result.body, dict) else {}, key=key)

    def bucket_stat(self, name: str, startdate: str, enddate: str, isListDetails: str = "false",
                    storageType: Optional[str] = None) -> Result:
        """Daily storage use of bucket(s) ``name`` (``b1|b2``) between two ``yyyy-mm-dd`` dates."""
        return self.bucket_manager().bucket_stat(name, startdate, enddate, isListDetails, storageType)

    def bucket_statistics(self, name: str, stype: str, startdate: str, enddate: str,
                          isListDetails: str = "false") -> Result:
        """Usage statistics of type ``stype`` (e.g. ``uploadRequest``)."""
        return self.bucket_manager().bucket_statistics(name, stype, startdate, enddate, isListDetails)

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
