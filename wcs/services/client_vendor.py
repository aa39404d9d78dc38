"""The :class:`~wcs.services.client.Client` methods of what the vendor's other SDKs (Go, Java, PHP, C#) or
its REST reference offer and the official Python SDK does not: append upload, mirror prefetch, media
information, storage classes and Archive restore (one object or a whole prefix; in the reference, in
none of the four SDKs), bulk retention, ZIP and m3u8 jobs, following a job.

One of the facade's method groups (see :mod:`wcs.services.client_base`). The work is done by engine
services: :mod:`~wcs.services.append`, :mod:`~wcs.services.mirror`, :mod:`~wcs.services.media`,
:mod:`~wcs.services.storageclass`, :mod:`~wcs.services.bulk`, :mod:`~wcs.services.fmgrops` and
:func:`~wcs.services.jobs.follow_job`. Job options left out of a call come from the config
(``notifyurl``, ``separate``, ``force``), as for the official job methods.
"""

import io
import os
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterable, Optional, Union

from wcs.commons.answers import JobStatus
from wcs.commons.config import JOB_KEYS, POLICY_KEYS
from wcs.commons.errors import InvalidArgument
from wcs.commons.http import Result
from wcs.commons.result import ObjectInfo
from wcs.commons.util import EtagHasher
from wcs.services.client_base import ClientBase
from wcs.services.events import Progress
from wcs.services.jobs import follow_job

if TYPE_CHECKING:  # pragma: no cover - each engine service is imported by the first call that needs it
    from wcs.services.append import Appender
    from wcs.services.bulk import BulkSummary, Done
    from wcs.services.storageclass import StorageClassService

Data = Union[bytes, bytearray, memoryview, BinaryIO]


class VendorMethods(ClientBase):
    """Append, prefetch, media information, storage classes, bulk fmgr jobs of a Client."""

    # -- append upload ---------------------------------------------------------------------------

    def append(self, bucket: str, key: str, data_or_fileobj: Data, position: Optional[int] = None, *,
               mime_type: Optional[str] = None, deadline: Optional[int] = None,
               progress: Optional[Progress] = None, piece_size: Optional[int] = None) -> Result:
        """Append bytes to the appendable object ``bucket:key`` (created by an append at position 0).

        ``data_or_fileobj``: bytes, a seekable binary file (from its current position to its end) or a
        stream (read to its end, ``piece_size`` bytes at a time: 4 MiB by default, one piece in
        memory). One append carries at most 2 GiB (``piece_size`` for files and bytes too); a longer
        source goes as several appends, one after the other. ``position`` is where the bytes go, the
        object's length; None asks ``stat`` (0 when there is no object).

        An answer lost on the way is settled by looking at the object (see :mod:`wcs.services.append`).

        Returns:
            the last append's Result: ``.next_position`` is the object's new length, ``.data["hash"]``
            its etag. A 409 refuses a position that is not the object's length (``.next_position``
            then tells it) or an object that is not appendable (a normal upload made it). When there
            was no ``position`` and ``stat`` failed, that failure.

        Raises:
            InvalidArgument: ``data_or_fileobj`` is text or a path, or a bad ``position`` / ``piece_size``.
            LocalFileError: the file cannot be read. IntegrityError: the answer's length or hash does
                not match the bytes sent.
        """
        if isinstance(data_or_fileobj, (str, os.PathLike)):
            raise InvalidArgument("append takes bytes or a binary file object (open(path, 'rb')), not %r"
                                  % (data_or_fileobj,))
        if isinstance(data_or_fileobj, (bytes, bytearray, memoryview)):
            data_or_fileobj = io.BytesIO(bytes(data_or_fileobj))
        if not hasattr(data_or_fileobj, "read"):
            raise InvalidArgument("append takes bytes or a binary file object, not %s" % type(data_or_fileobj).__name__)
        from wcs.services.append import MAX_PIECE, STREAM_PIECE

        appender = self.appender(bucket, key, position, mime_type=mime_type, deadline=deadline)
        if isinstance(appender, Result):
            return appender
        fp = data_or_fileobj
        if getattr(fp, "seekable", lambda: False)():
            start = fp.tell()
            size = fp.seek(0, io.SEEK_END) - start
            fp.seek(start)
            return appender.append_file(fp, size, MAX_PIECE if piece_size is None else piece_size, progress)
        return appender.append_stream(fp, STREAM_PIECE if piece_size is None else piece_size, progress)

    def appender(self, bucket: str, key: str, position: Optional[int] = None, *, mime_type: Optional[str] = None,
                 deadline: Optional[int] = None) -> Union["Appender", Result]:
        """An :class:`~wcs.services.append.Appender` of ``bucket:key`` at ``position`` (None: the object's
        length, by ``stat``), for appends piece by piece; or the failed ``stat``'s Result."""
        from wcs.services.append import Appender

        self.cfg.require(*POLICY_KEYS, "traffic_limit")
        objects = self.bucket_manager()
        if position is None:
            stat = objects.stat(bucket, key)
            if stat.code == 404:
                position = 0
            elif not stat.ok:
                return stat
            else:
                position = ObjectInfo.from_item(stat.data if isinstance(stat.data, dict) else {}, key=key).size
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise InvalidArgument("invalid append position %r: the object's length, 0 or more" % (position,))
        known = EtagHasher() if position == 0 else None
        return Appender(self.http, self.auth, self.cfg.endpoints, self.cfg.transfer, self.cfg.policy, objects,
                        bucket, key, position, known, mime_type=mime_type, deadline=deadline)

    # -- mirror prefetch -------------------------------------------------------------------------

    def prefetch(self, bucket: str, keys: Iterable[str]) -> Result:
        """Have the service fetch ``keys`` from the bucket's mirror origin, replacing them (one request).

        The answer lists each key with the origin's status: ``PrefetchItem.list_from(result.data)``
        (:mod:`wcs.commons.answers`); a 200 says the request was taken, not that every key came.
        404 ``Bucket Not Binding Mirror``: the bucket has no origin.

        Raises:
            InvalidArgument: no key, or an empty one.
        """
        from wcs.services.mirror import MirrorService

        return MirrorService(self.http, self.auth, self.cfg.endpoints).prefetch(bucket, keys)

    # -- media information ----------------------------------------------------------------------

    def _media(self, bucket: str, key: str, op: str) -> Result:
        from wcs.services.media import MediaService

        return MediaService(self.http, None, self.cfg.endpoints).info(bucket, key, op)

    def avinfo(self, bucket: str, key: str) -> Result:
        """Audio/video metadata (``?op=avinfo`` on the download domain): streams and format, as JSON.

        Raises:
            ConfigError: no download domain for ``bucket`` (``download_url``).
        """
        return self._media(bucket, key, "avinfo")

    def avinfo2(self, bucket: str, key: str) -> Result:
        """The short audio/video metadata (``?op=avinfo2``)."""
        return self._media(bucket, key, "avinfo2")

    def image_info(self, bucket: str, key: str) -> Result:
        """Image format, width, height and colour model (``?op=imageInfo``)."""
        return self._media(bucket, key, "imageInfo")

    def exif(self, bucket: str, key: str) -> Result:
        """The EXIF tags of an image (``?op=exif``)."""
        return self._media(bucket, key, "exif")

    # The names the vendor's other SDKs use (PHP avInfo/avInfo2, Go and C# ImageInfo).
    avInfo = avinfo
    avInfo2 = avinfo2
    imageInfo = image_info

    # -- storage classes and Archive restore ----------------------------------------------------

    def _classes(self) -> "StorageClassService":
        from wcs.services.storageclass import StorageClassService

        return StorageClassService(self.http, self.auth, self.cfg.endpoints)

    def convert_type(self, bucket: str, key: str, cls: str) -> Result:
        """Move an object to the storage class ``cls``: ``Standard``, ``IA`` (``InfrequentAccess``) or ``Archive``.

        403 ``Invalid Object State``: it already is of that class, or it is Archive and not restored;
        403 ``File Not Found``: no such object (as the service writes it).

        Raises:
            InvalidArgument: an unknown class.
        """
        return self._classes().convert_type(bucket, key, cls)

    def restore(self, bucket: str, key: str, days: int) -> Result:
        """Restore an Archive object: readable for ``days`` days once the restore is done (``stat`` shows
        ``restoreState``); asked again while restored, the days count from now.

        401 ``Invalid Object State``: a Standard object; 403 ``Unsupported Operation``: not Archive;
        409 ``Restore Is InProgress``; 404 ``File Not Found``.

        Raises:
            InvalidArgument: ``days`` is not a whole number >= 1.
        """
        return self._classes().restore(bucket, key, days)

    def _each_object(self, bucket: str, prefix: str, decide: Callable[[ObjectInfo], Optional[str]],
                     call: Callable[[str], Result], on_done: Optional["Done"]) -> "BulkSummary":
        from wcs.services.bulk import for_each_object

        transfer = self.cfg.transfer
        listing = self.bucket_manager().iter_objects(bucket, prefix=prefix or None, limit=1000, typed=True)
        try:
            with self.scheduler_for(transfer).group() as group:
                return for_each_object(bucket, prefix, listing, decide, call, group, max(transfer.concurrency, 1),
                                       on_done)
        finally:
            listing.close()

    def restore_prefix(self, bucket: str, prefix: str, days: int, *, on_done: Optional["Done"] = None) -> "BulkSummary":
        """:meth:`restore` every Archive object whose key starts with ``prefix`` (``concurrency`` at once).

        Objects of another class are skipped (``"not Archive"``), and so are those being restored
        (``"restoring"``); ``on_done(info, error or None, result or None)`` hears of each object called.

        Raises:
            InvalidArgument: bad ``days``. ServiceError, NetworkError: the listing failed.
        """
        from wcs.services.storageclass import restore_days

        count = restore_days(days)
        service = self._classes()

        def decide(info: ObjectInfo) -> Optional[str]:
            if info.storage_class is not None and not info.archived:
                return "not Archive"
            return "restoring" if (info.restore_state or "").lower() == "restoring" else None

        return self._each_object(bucket, prefix, decide, lambda key: service.restore(bucket, key, count), on_done)

    def convert_type_prefix(self, bucket: str, prefix: str, cls: str, *,
                            on_done: Optional["Done"] = None) -> "BulkSummary":
        """:meth:`convert_type` every object whose key starts with ``prefix``; those already of class
        ``cls`` are skipped (``"already <cls>"``).

        Raises:
            InvalidArgument: an unknown class. ServiceError, NetworkError: the listing failed.
        """
        from wcs.services.storageclass import same_class, wire_class

        wire = wire_class(cls)
        service = self._classes()

        def decide(info: ObjectInfo) -> Optional[str]:
            return "already " + wire if same_class(info.storage_class, wire) else None

        return self._each_object(bucket, prefix, decide, lambda key: service.convert_type(bucket, key, wire),
                                 on_done)

    # -- fmgr jobs the official SDK leaves to its caller ----------------------------------------

    def _submit(self, operation: str, fops: str, notifyurl: Optional[str], separate: Any, force: Any) -> Result:
        jobs = self.cfg.require(*JOB_KEYS).jobs
        return self.fmgr_service().submit(
            operation, fops, notifyurl=jobs.notifyurl if notifyurl is None else notifyurl,
            force=jobs.force if force is None else force, separate=jobs.separate if separate is None else separate)

    def fmgr_setdeadline(self, bucket: str, prefix: str, deadline: int, *, notifyurl: Optional[str] = None,
                         separate: Any = None, force: Any = None) -> Result:
        """Set the retention of every object under the "directory" ``prefix`` (``""``: the whole bucket) to
        ``deadline`` days (``0`` deletes them, ``-1`` keeps them forever): an fmgr job, answering
        ``{"persistentId": ...}``; :meth:`wait_job` follows it (its item reports ``count``).

        Raises:
            InvalidArgument: a bad ``deadline``, or ``0`` without a prefix (every object would go).
        """
        from wcs.services.fmgrops import setdeadline_op

        return self._submit("setdeadline", setdeadline_op(bucket, prefix, deadline), notifyurl, separate, force)

    def compress_objects(self, bucket: str, keys: Iterable[str], dst_bucket: str, dst_key: str, *,
                         key_list: Optional[str] = None, notifyurl: Optional[str] = None, separate: Any = None,
                         force: Any = None) -> Result:
        """ZIP ``keys`` of ``bucket`` (``dir/``: every object under it; ``key_list``: an object listing keys,
        one per line) into ``dst_bucket:dst_key``: an fmgr ``compress`` job (``force=1`` replaces an
        existing ZIP).

        Raises:
            InvalidArgument: nothing to zip, an empty key, no destination key.
        """
        from wcs.services.fmgrops import compress_op

        fops = compress_op(bucket, list(keys), dst_bucket, dst_key, key_list)
        return self._submit("compress", fops, notifyurl, separate, force)

    def delete_m3u8(self, bucket: str, key: str, *, deletets: bool = True, notifyurl: Optional[str] = None,
                    separate: Any = None, force: Any = None) -> Result:
        """Delete the playlist ``key`` and, with ``deletets``, the ts segments it references by relative
        path: an fmgr ``deletem3u8`` job."""
        from wcs.services.fmgrops import deletem3u8_op

        return self._submit("deletem3u8", deletem3u8_op(bucket, key, deletets), notifyurl, separate, force)

    def wait_job(self, persistent_id: str, *, timeout: float = 600.0, fops: bool = False,
                 on_status: Optional[Callable[[JobStatus], None]] = None) -> JobStatus:
        """Follow an fmgr job (``fops=True``: a processing job) until it finished or ``timeout`` seconds
        passed; the last status read (``.finished``, ``.succeeded``, ``.failed``, ``.result``).

        A status read that fails for a passing reason is tried again; one the service refuses (an
        unknown id) ends the wait: the status then has no ``code``.
        """
        service = self.fops_service(signed=False) if fops else self.fmgr_service(signed=False)
        return follow_job(service.status, persistent_id, timeout=timeout, on_status=on_status)
