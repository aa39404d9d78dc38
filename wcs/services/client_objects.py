"""The many-object and cp/mv methods of :class:`~wcs.services.client.Client` (not in the official SDK):
``disk_usage`` (``wcscmd du``), ``remove`` (``rm``), and ``put_object`` / ``get_object`` /
``copy_object`` / ``move_object`` (``cp`` and ``mv`` of one file or object, every direction).

Listings go through :meth:`~wcs.services.client_base.ClientBase.list_entries` (``ls`` too), the one
listing of the facade. The overwrite rule of these methods (existing destinations replaced and
reported ``replaced``; ``no_clobber`` skips them) is :mod:`wcs.services.placement`'s.
"""

import os
from typing import TYPE_CHECKING, Iterable, Iterator, Optional, Union

from wcs.services.client_base import ClientBase
from wcs.services.events import Progress, Subscriber
from wcs.services.tree.model import MiB, Remote, TreeObserver

if TYPE_CHECKING:  # pragma: no cover - the removal engine and the placements come with their first call
    from wcs.services.placement import Placement
    from wcs.services.removal import RemoveSummary, Target
    from wcs.services.usage import Usage

PathLike = Union[str, "os.PathLike[str]"]


class ObjectMethods(ClientBase):
    """``du``, ``rm``, ``cp`` and ``mv`` of a Client (one of the facade's method groups)."""

    def disk_usage(self, bucket: str, prefix: str = "", *, depth: int = 0) -> Iterator["Usage"]:
        """Objects and bytes under the directory ``prefix`` (``a`` is ``a/``; ``""``: the bucket),
        streamed: one :class:`~wcs.services.usage.Usage` per sub-prefix down to ``depth`` levels, each
        as soon as the listing has passed it, then the total (``depth`` 0, last).

        Raises:
            InvalidArgument: a negative ``depth`` (at once).
            ServiceError, NetworkError: a listing page failed (when the iteration reaches it).
        """
        from wcs.services.usage import check_depth, usage

        directory = Remote(bucket, prefix).key_prefix
        check_depth(depth)  # now, not at the first next()

        def run() -> Iterator["Usage"]:
            listing = self.list_entries(bucket, directory)
            try:
                yield from usage(listing, directory, depth)
            finally:
                listing.close()

        return run()

    def remove(self, bucket: str, keys: Iterable[str] = (), *, patterns: Iterable[str] = (),
               prefixes: Iterable[str] = (), dry_run: bool = False, batch: int = 100, parallel: int = 4,
               job_timeout: float = 600.0, observer: Optional[TreeObserver] = None) -> "RemoveSummary":
        """Delete objects of ``bucket``: ``keys`` by name (a missing one is a failure), ``patterns``
        (globs matched against a listing of their literal prefix: ``www/*.html``) and every object
        under each of ``prefixes`` (``www`` is ``www/``). Many deletions go as fmgr delete jobs of
        ``batch`` keys, ``parallel`` at once, each followed to its end and checked by a listing.

        Returns:
            a :class:`~wcs.services.removal.RemoveSummary` (``deleted``, ``failed``, per-key errors;
            ``planned`` in a dry run): failures are in it, not raised.

        Raises:
            InvalidArgument: an empty prefix (the whole bucket), an empty key or a bad pattern.
        """
        from wcs.services.removal import KEY, PATTERN, PREFIX, Target

        targets = [Target(KEY, key) for key in keys] + [Target(PATTERN, p) for p in patterns] + \
            [Target(PREFIX, p) for p in prefixes]
        return self.remove_targets(bucket, targets, dry_run=dry_run, batch=batch, parallel=parallel,
                                   job_timeout=job_timeout, observer=observer)

    @staticmethod
    def is_pattern(text: str) -> bool:
        """Whether ``text`` is a glob for :meth:`remove` (it holds ``*``, ``?`` or ``[``)."""
        from wcs.services.removal import is_pattern

        return is_pattern(text)

    @staticmethod
    def removal_target(text: str, *, recursive: bool = False) -> "Target":
        """What ``wcscmd rm`` makes of one argument: every key under the prefix ``text`` (``recursive``),
        else the keys a glob matches (:meth:`is_pattern`), else the one key.

        Raises:
            InvalidArgument: an empty key or prefix, a bad pattern.
        """
        from wcs.services.removal import KEY, PATTERN, PREFIX, Target, is_pattern

        if recursive:
            return Target(PREFIX, text)
        return Target(PATTERN if is_pattern(text) else KEY, text)

    def remove_targets(self, bucket: str, targets: Iterable["Target"], *, dry_run: bool = False, batch: int = 100,
                       parallel: int = 4, job_timeout: float = 600.0,
                       observer: Optional[TreeObserver] = None) -> "RemoveSummary":
        """:meth:`remove` with its targets in a given order (:class:`~wcs.services.removal.Target`)."""
        from wcs.services.removal import Removal

        scheduler = self.scheduler.grow(max(1, parallel))
        return Removal(bucket, targets, objects=self.bucket_manager(), jobs=self.fmgr_service(),
                       listing=self.list_entries, scheduler=scheduler, dry_run=dry_run, batch=batch,
                       parallel=parallel, job_timeout=job_timeout, observer=observer).run()

    def copy_object(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str, *,
                    no_clobber: bool = False) -> "Placement":
        """Copy one object on the service (no data through the client); an existing destination is
        replaced (``replaced`` True) unless ``no_clobber`` (then ``skipped``). The destination's etag
        is checked afterwards.

        Raises:
            IntegrityError: the destination does not hold the source's content afterwards.
        """
        from wcs.services.placement import copy_remote

        return copy_remote(self.bucket_manager(), (src_bucket, src_key), (dst_bucket, dst_key),
                           no_clobber=no_clobber)

    def move_object(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str, *,
                    no_clobber: bool = False) -> "Placement":
        """Move one object on the service (``/move``), as :meth:`copy_object`."""
        from wcs.services.placement import copy_remote

        return copy_remote(self.bucket_manager(), (src_bucket, src_key), (dst_bucket, dst_key), move=True,
                           no_clobber=no_clobber)

    def put_object(self, path: PathLike, bucket: str, key: str, *, move: bool = False, no_clobber: bool = False,
                   multipart_threshold: int = 8 * MiB, mime_type: Optional[str] = None,
                   progress: Optional[Progress] = None, subscribers: Iterable[Subscriber] = ()) -> "Placement":
        """Upload a file (``cp``; ``move``: ``mv``, the file removed once the upload is verified).

        Files of at least ``multipart_threshold`` bytes go in blocks (parallel, resumable as
        :meth:`multipart_upload`). An existing object is replaced (``replaced``) unless
        ``no_clobber``: the official ``overwrite`` setting does not apply.

        Raises:
            LocalFileError: not a readable regular file; for a move, changed while sent or not removable.
            IntegrityError: the stored etag is not that of the bytes sent.
        """
        from wcs.services.placement import upload_local

        return upload_local(self.form_uploader(), self.block_uploader(), self.bucket_manager(), os.fspath(path),
                            bucket, key, move=move, no_clobber=no_clobber, multipart_threshold=multipart_threshold,
                            mime_type=mime_type, progress=progress, subscribers=subscribers)

    def get_object(self, bucket: str, key: str, path: PathLike, *, move: bool = False, no_clobber: bool = False,
                   progress: Optional[Progress] = None, subscribers: Iterable[Subscriber] = ()) -> "Placement":
        """Download an object into ``path`` (``cp``; ``move``: ``mv``, the object deleted once the file is
        verified and if it was not replaced meanwhile). An existing file is replaced unless ``no_clobber``.

        Raises:
            ConfigError: no download domain for ``bucket``.
            LocalFileError, IntegrityError: as :meth:`download_file`. ObjectChanged: see
                :func:`~wcs.services.placement.download_remote`.
        """
        from wcs.services.placement import download_remote

        return download_remote(self.downloader(), self.bucket_manager(), bucket, key, os.fspath(path), move=move,
                               no_clobber=no_clobber, progress=progress, subscribers=subscribers)

