"""The download methods of :class:`~wcs.services.client.Client` (not in the official SDK).

URLs on the bucket's download domain come from ``download_url`` / ``download_domains``
(:class:`~wcs.commons.settings.Endpoints`); the transfer itself is :mod:`wcs.services.download`
(one streamed GET) or :mod:`wcs.services.ranged` (parallel, resumable ranges).
"""

import os
from typing import BinaryIO, Iterable, Optional, Tuple, Union

from wcs.commons.http import Result
from wcs.commons.result import ObjectInfo
from wcs.services.client_base import ClientBase
from wcs.services.download import Downloader
from wcs.services.events import Progress, Subscriber
from wcs.services.storageclass import mark_not_restored

PathLike = Union[str, "os.PathLike[str]"]


class DownloadMethods(ClientBase):
    """The download methods of a Client (one of the facade's method groups)."""

    # -- downloads (not in the official SDK) ------------------------------------------------

    def download(self, url: str, path: PathLike, *, progress: Optional[Progress] = None,
                 subscribers: Iterable[Subscriber] = (), expected_hash: Optional[str] = None,
                 size: Optional[int] = None) -> Result:
        """Download ``url`` into ``path``, verified by etag; large objects as parallel, resumable ranges.

        Small objects (below ``download_threshold``) and special targets (FIFOs, devices) are
        streamed through one GET; large ones are fetched as ranges on the scheduler into a partial
        file beside the target, with a checkpoint so that the same call after an interruption
        fetches only what is missing (:mod:`wcs.services.ranged`).

        Returns:
            ``Result(status, {"hash", "fsize", "path"}, headers)``; an error status or -1 leaves
            ``path`` untouched. A refusal because the object is in Archive storage and not restored
            carries :class:`~wcs.commons.errors.NotRestored`, which ``raise_for_status()`` raises.

        Raises:
            LocalFileError: the target cannot be written.
            IntegrityError: the bytes do not match ``expected_hash`` or the ``ETag`` header.
        """
        return mark_not_restored(self.downloader().fetch(url, os.fspath(path), size=size,
                                                         expected_hash=expected_hash, progress=progress,
                                                         subscribers=subscribers), url)

    def download_file(self, bucket: str, key: str, path: PathLike, *, progress: Optional[Progress] = None,
                      subscribers: Iterable[Subscriber] = ()) -> Result:
        """Download ``bucket``/``key`` from the bucket's download domain into ``path``.

        ``stat`` comes first: a missing object is its 404 Result (nothing written), and its size
        and hash decide the method and verify the bytes.

        Raises:
            ConfigError: no download domain configured for ``bucket`` (``download_url``).
            LocalFileError, IntegrityError: as :meth:`download`.
        """
        downloader, url, stat = self._locate(bucket, key)
        if isinstance(stat, Result):
            return stat
        result = downloader.fetch(url, os.fspath(path), size=stat.size, expected_hash=stat.hash or None,
                                  progress=progress, subscribers=subscribers, bucket=bucket, key=key)
        return mark_not_restored(result, "%s:%s" % (bucket, key), stat)

    def download_fileobj(self, bucket: str, key: str, fileobj: BinaryIO, *, progress: Optional[Progress] = None,
                         subscribers: Iterable[Subscriber] = ()) -> Result:
        """Stream ``bucket``/``key`` into a writable binary stream (a pipe, stdout), verified at the end."""
        downloader, url, stat = self._locate(bucket, key)
        if isinstance(stat, Result):
            return stat
        result = downloader.download_fileobj(url, fileobj, expected_hash=stat.hash or None, progress=progress,
                                             subscribers=subscribers)
        return mark_not_restored(result, "%s:%s" % (bucket, key), stat)

    def _locate(self, bucket: str, key: str) -> Tuple[Downloader, str, Union[ObjectInfo, Result]]:
        """The downloader, the object's URL (ConfigError without a download domain, before any request)
        and its ``stat``: the typed info, or the failed Result to return as is."""
        downloader = self.downloader()
        url = downloader.download_url(bucket, key)
        stat = self.bucket_manager().stat(bucket, key)
        if not stat.ok:
            return downloader, url, stat
        info = ObjectInfo.from_item(stat.data if isinstance(stat.data, dict) else {}, key=key, headers=stat.headers)
        return downloader, url, info

    def download_stream(self, url: str, fileobj: BinaryIO, *, expected_hash: Optional[str] = None,
                        progress: Optional[Progress] = None, subscribers: Iterable[Subscriber] = ()) -> Result:
        """Stream ``url`` into a writable binary stream, verified by ``expected_hash`` / a WCS ``ETag``."""
        result = self.downloader().download_fileobj(url, fileobj, expected_hash=expected_hash, progress=progress,
                                                    subscribers=subscribers)
        return mark_not_restored(result, url)

    def download_url(self, bucket: str, key: str) -> str:
        """The URL of ``bucket``/``key`` on its download domain (``download_url`` / ``download_domains``).

        Raises:
            ConfigError: no download domain is configured for the bucket.
        """
        return self.cfg.endpoints.object_url(bucket, key)
