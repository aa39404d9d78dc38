"""``WcsFileSystem``: WCS buckets as an fsspec filesystem, so ``wcs://bucket/key`` works in pandas, pyarrow, dask.

The paths, the configuration and the metadata (``info``, ``ls``, ``find``, ``du``, ``ukey``,
``modified``) are :class:`~wcs.fs.namespace.Namespace`'s; here is what moves bytes or changes objects:

* reads: :class:`~wcs.fs.files.WcsFile` (ranged GETs on the download domain, ``FileExpired`` when the
  object changes under a reader), :meth:`WcsFileSystem.cat_file` with ranges,
  :meth:`WcsFileSystem.cat_ranges` in parallel on the client's scheduler, and
  :meth:`WcsFileSystem.get_file` through the client's verified, resumable download;
* writes: files written block by block with bounded memory, ``put_file`` through the resumable
  multipart upload (one form upload up to one block), ``pipe_file``, ``rm`` (many keys deleted in
  parallel), ``cp_file`` and single-object ``mv`` on the service. ``mode="create"`` (and ``xb``)
  refuse an existing key on the service itself (``overwrite=0``), not only by a prior check.

fsspec callbacks receive the client's progress (``callback.relative_update`` is the transfer's
``progress=`` callable).
"""

import errno
import os
from concurrent.futures import CancelledError
from glob import has_magic
from typing import Any, Dict, List, Optional

from fsspec.callbacks import DEFAULT_CALLBACK  # type: ignore[import-untyped, import-not-found]
from fsspec.utils import isfilelike  # type: ignore[import-untyped, import-not-found]

from wcs.fs.errors import check, os_error
from wcs.fs.files import WcsFile
from wcs.fs.namespace import Namespace
from wcs.fs.reads import fetch_range
from wcs.fs.writes import form_upload


class WcsFileSystem(Namespace):
    """WCS object storage for fsspec (``protocol = "wcs"``): see the module docstring and :class:`Namespace`.

    Args:
        config: a ``.wcscfg`` path, a :class:`~wcs.commons.config.Config`, or a dict of keys used as
            the whole configuration; default ``~/.wcscfg`` (when it exists) and the environment.
        **options: ``.wcscfg`` keys (``access_key``, ``secret_key``, ``put_url``, ``mgr_url``,
            ``download_url``, ``block_size``, ``concurrency``...) over ``config``; and fsspec's
            listings-cache options (``use_listings_cache``, ``listings_expiry_time``, ``max_paths``).
    """

    protocol = "wcs"
    root_marker = ""

    # -- reads -----------------------------------------------------------------------------------

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, autocommit: bool = True,
              cache_options: Optional[dict] = None, **kwargs: Any) -> WcsFile:
        if mode not in ("rb", "wb", "xb"):
            raise NotImplementedError("wcs:// files open as 'rb', 'wb' or 'xb', not %r" % mode)
        if mode == "xb" and self.exists(path):
            raise FileExistsError(errno.EEXIST, "the object exists", self._strip_protocol(path))
        return WcsFile(self, path, mode, block_size=block_size or "default", autocommit=autocommit,
                       cache_options=cache_options, **kwargs)

    def cat_file(self, path: str, start: Optional[int] = None, end: Optional[int] = None, **kwargs: Any) -> bytes:
        path = self._strip_protocol(path)
        bucket, key = self.split_path(path)
        if not key:
            raise IsADirectoryError(errno.EISDIR, "a bucket is not a file", path)
        if (start is not None and start < 0) or (end is not None and end < 0):
            size = self.info(path)["size"]
            start = max(0, size + start) if start is not None and start < 0 else start
            end = max(0, size + end) if end is not None and end < 0 else end
        return fetch_range(self.client, bucket, key, start or 0, end, name=path)

    def cat_ranges(self, paths: List[str], starts: Any, ends: Any, max_gap: Optional[int] = None,
                   on_error: str = "return", **kwargs: Any) -> List[Any]:
        """Byte ranges of one or more objects, fetched in parallel on the client's scheduler."""
        if max_gap is not None:
            raise NotImplementedError
        if not isinstance(paths, list):
            raise TypeError("paths must be a list")
        starts = starts if isinstance(starts, list) else [starts] * len(paths)
        ends = ends if isinstance(ends, list) else [ends] * len(paths)
        if len(starts) != len(paths) or len(ends) != len(paths):
            raise ValueError("paths, starts and ends must have the same length")
        with self._group() as group:
            futures = [group.submit(self.cat_file, path, start, end) for path, start, end in zip(paths, starts, ends)]
        out: List[Any] = []
        for future in futures:
            error = CancelledError() if future.cancelled() else future.exception()
            if error is None:
                out.append(future.result())
            elif on_error == "return":
                out.append(error)
            else:
                raise error
        return out

    def get_file(self, rpath: str, lpath: Any, callback: Any = DEFAULT_CALLBACK, outfile: Any = None,
                 **kwargs: Any) -> None:
        """Download one object with the client's verified (etag-checked), resumable download."""
        rpath = self._strip_protocol(rpath)
        if outfile is None and isfilelike(lpath):
            outfile = lpath
        entry = self.info(rpath)
        if entry["type"] == "directory":
            if outfile is None:
                os.makedirs(lpath, exist_ok=True)
            return
        bucket, key = self.split_path(rpath)
        callback.set_size(entry["size"])
        if outfile is not None:
            result = self.client.download_fileobj(bucket, key, outfile, progress=callback.relative_update)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(lpath)), exist_ok=True)
            result = self.client.download_file(bucket, key, lpath, progress=callback.relative_update)
        check(result, rpath, "download")

    # -- writes ----------------------------------------------------------------------------------

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        path = self._strip_protocol(path)
        bucket, key = self.split_path(path)
        data = memoryview(value).cast("B")
        if len(data) >= self.config.block_size:
            with self.open(path, "xb" if mode == "create" else "wb", **kwargs) as fp:
                fp.write(data)
            return
        if not key:
            raise IsADirectoryError(errno.EISDIR, "a bucket is not a file", path)
        form_upload(self.client, bucket, key, data, overwrite=0 if mode == "create" else 1,
                    mime_type=kwargs.get("mime_type"), name=path)
        self.invalidate_cache(path)

    def put_file(self, lpath: Any, rpath: str, callback: Any = DEFAULT_CALLBACK, mode: str = "overwrite",
                 **kwargs: Any) -> None:
        """Upload one local file: multipart (parallel blocks) above one block, else one form upload."""
        if os.path.isdir(lpath):
            return  # directories exist through their files
        rpath = self._strip_protocol(rpath)
        bucket, key = self.split_path(rpath)
        if not key:
            raise IsADirectoryError(errno.EISDIR, "a bucket is not a file", rpath)
        if mode == "create" and self.exists(rpath):
            # Checked first to spare the upload; overwrite=0 below still makes the service refuse a race.
            raise FileExistsError(errno.EEXIST, "the object exists", rpath)
        size = os.path.getsize(lpath)
        callback.set_size(size)
        options: Dict[str, Any] = dict(progress=callback.relative_update, overwrite=0 if mode == "create" else 1,
                                       mime_type=kwargs.get("mime_type"))
        client = self.client
        if size > self.config.block_size:
            # A fresh id: never the config's upload_id, which would resume another file's upload.
            result = client.multipart_upload(lpath, bucket, key, client.new_upload_id(), **options)
        else:
            result = client.simple_upload(lpath, bucket, key, **options)
        self.invalidate_cache(rpath)
        check(result, rpath, "upload" if not result.upload_id else "upload %s" % result.upload_id)

    def rm_file(self, path: str) -> None:
        path = self._strip_protocol(path)
        bucket, key = self.split_path(path)
        if not key:
            raise IsADirectoryError(errno.EISDIR, "a bucket is not a file (buckets are never deleted)", path)
        check(self.client.delete(bucket, key), path, "delete")
        self.invalidate_cache(path)

    _rm = rm_file

    def rm(self, path: Any, recursive: bool = False, maxdepth: Optional[int] = None) -> None:
        """Delete objects (``recursive``: everything under directories), many at once on the scheduler.

        Directories vanish with their last object; buckets themselves are never deleted.
        """
        names = [name for name in self.expand_path(path, recursive=recursive, maxdepth=maxdepth)
                 if self.split_path(name)[1]]
        client = self.client
        with self._group() as group:
            futures = [(name, group.submit(client.delete, *self.split_path(name))) for name in names]
        failure: Optional[OSError] = None
        for name, future in futures:
            self.invalidate_cache(name)
            result = future.result()
            if result.code == 404 and (recursive or self.isdir(name)):
                continue  # a pseudo-directory among the names (it has no object of its own), or already gone
            if not result.ok and failure is None:
                failure = os_error(result, name, "delete")
        if failure is not None:
            raise failure

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Copy on the service (no bytes pass through this process)."""
        path1, path2 = self._strip_protocol(path1), self._strip_protocol(path2)
        (bucket1, key1), (bucket2, key2) = self.split_path(path1), self.split_path(path2)
        if not key1 or not key2:
            raise IsADirectoryError(errno.EISDIR, "a bucket is not a file", path1 if not key1 else path2)
        result = self.client.copy(bucket1, key1, bucket2, key2)
        if result.code == 404 and self.isdir(path1):
            return  # a directory is copied by copying its files
        check(result, path1, "copy")
        self.invalidate_cache(path2)

    def mv(self, path1: Any, path2: Any, recursive: bool = False, maxdepth: Optional[int] = None,
           **kwargs: Any) -> None:
        """Move one object on the service; several (globs, ``recursive``) are copied then deleted."""
        if isinstance(path1, str) and isinstance(path2, str) and not has_magic(path1):
            source = self._strip_protocol(path1)
            entry = None
            try:
                entry = self.info(source)
            except FileNotFoundError:
                pass
            if entry is not None and entry["type"] == "file":
                target = self._strip_protocol(path2)
                if path2.endswith("/") or self.isdir(target):
                    target = "%s/%s" % (target, source.rsplit("/", 1)[-1])
                if target != source:
                    (bucket1, key1), (bucket2, key2) = self.split_path(source), self.split_path(target)
                    check(self.client.move(bucket1, key1, bucket2, key2), source, "move")
                    self.invalidate_cache(source)
                    self.invalidate_cache(target)
                return
        super().mv(path1, path2, recursive=recursive, maxdepth=maxdepth, **kwargs)
