"""The namespace half of ``wcs://``: configuration and client, paths, and what listings and ``stat`` tell.

Paths are ``bucket/key``; ``/`` in keys makes pseudo-directories: a directory exists while objects
are under it (there are no empty directories, and ``mkdir`` inside a bucket does nothing).
:meth:`Namespace.info` is one ``stat`` (a missing key that prefixes other keys is a directory),
:meth:`Namespace.ls` one listing by directory (``mode=0``: files, and sub-directories as common
prefixes), :meth:`Namespace.find` one flat listing under a prefix. Answers are kept in fsspec's
listings cache until a write through the filesystem touches them.

One :class:`~wcs.services.client.Client` per process is built on first use from the configuration
(:mod:`wcs.fs.options`); a filesystem sent to another process (dask workers) carries its settings,
never its connections, and builds its own client there.
"""

import errno
import os
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple

from fsspec.spec import AbstractFileSystem, _Cached, make_instance  # type: ignore[import-untyped, import-not-found]

from wcs.commons.config import Config
from wcs.commons.errors import ServiceError
from wcs.commons.result import ObjectInfo
from wcs.commons.util import urlsafe_base64_decode
from wcs.fs.errors import check, os_error
from wcs.fs.options import Entry, build_config, directory_entry, file_entry, portable_config, split_options
from wcs.services.client import Client


class _CachedBySettings(_Cached):  # type: ignore[misc]
    """fsspec's instance cache, keyed by the settings a ``Config`` holds rather than by its text.

    fsspec tells instances apart by the text of their arguments, and a ``Config``'s text hides its
    secret key: two configs differing only there would share one filesystem. A ``Config`` is
    therefore replaced by its keys (the same whole configuration) before fsspec sees it.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], Config):
            args = (args[0].as_dict(),) + args[1:]
        if isinstance(kwargs.get("config"), Config):
            kwargs["config"] = kwargs["config"].as_dict()
        return super().__call__(*args, **kwargs)


class Namespace(AbstractFileSystem, metaclass=_CachedBySettings):  # type: ignore[misc]
    """The metadata methods of :class:`~wcs.fs.WcsFileSystem` (its base class; see the module docstring).

    Args:
        config: a ``.wcscfg`` path, a :class:`~wcs.commons.config.Config`, or a dict of keys used as
            the whole configuration; default ``~/.wcscfg`` (when it exists) and the environment.
        **options: ``.wcscfg`` keys (``access_key``, ``secret_key``, ``put_url``, ``mgr_url``,
            ``download_url``, ``block_size``, ``concurrency``...) over ``config``; and fsspec's
            listings-cache options (``use_listings_cache``, ``listings_expiry_time``, ``max_paths``).
    """

    def __init__(self, config: Any = None, **options: Any) -> None:
        fsspec_options, keys = split_options(options)
        super().__init__(**fsspec_options)
        self._fsspec_options = fsspec_options
        self.config: Config = build_config(config, keys)
        self._client: Optional[Client] = None
        self._client_pid = 0
        self._lock = threading.Lock()
        self._lock_pid = os.getpid()

    @property
    def client(self) -> Client:
        """This process's client (built on first use; a forked child builds its own)."""
        pid = os.getpid()
        client = self._client
        if client is not None and self._client_pid == pid:
            return client
        if self._lock_pid != pid:  # a lock inherited through fork may be held by a thread that is gone
            self._lock, self._lock_pid = threading.Lock(), pid
        with self._lock:
            if self._client is None or self._client_pid != pid:
                self._client, self._client_pid = Client(self.config), pid
            return self._client

    def __reduce__(self) -> Tuple[Any, ...]:
        # Settings only: the receiving process builds its own client (and connections) on first use.
        options = dict(self._fsspec_options, config=portable_config(self.config))
        return make_instance, (type(self), (), options)

    # -- paths -----------------------------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        stripped = super()._strip_protocol(path)
        return [p.lstrip("/") for p in stripped] if isinstance(stripped, list) else stripped.lstrip("/")

    def split_path(self, path: str) -> Tuple[str, str]:
        """``(bucket, key)`` of ``wcs://bucket/key``, ``bucket/key`` or ``bucket`` (key ``""``)."""
        bucket, _, key = self._strip_protocol(path).partition("/")
        return bucket, key

    def _group(self) -> Any:
        return self.client.scheduler_for(self.config.transfer).group()

    # -- metadata --------------------------------------------------------------------------------

    def info(self, path: str, refresh: bool = False, **kwargs: Any) -> Entry:
        path = self._strip_protocol(path)
        bucket, key = self.split_path(path)
        if not bucket:
            return directory_entry("")
        if not refresh:
            cached = self._cached_entry(path)
            if cached is not None:
                return cached
        client = self.client
        if not key:
            check(client.bucket_manager().list_page(bucket, limit=1), path, "list")
            return directory_entry(bucket)
        stat = client.stat(bucket, key)
        if stat.ok:
            return file_entry(bucket, ObjectInfo.from_item(stat.body if isinstance(stat.body, dict) else {}, key=key))
        if stat.code != 404:
            raise os_error(stat, path, "stat")
        page = check(client.bucket_manager().list_page(bucket, prefix=key + "/", limit=1), path, "list")
        if isinstance(page.body, dict) and page.body.get("items"):
            return directory_entry(path)
        raise FileNotFoundError(errno.ENOENT, "no such object or directory", path)

    def _cached_entry(self, path: str) -> Optional[Entry]:
        """The entry of ``path`` from cached listings; None when they do not tell.

        Raises:
            FileNotFoundError: its parent's listing is cached and does not have it.
        """
        if path in self.dircache:
            return directory_entry(path)
        parent = self._parent(path)
        if parent and parent in self.dircache:
            for entry in self.dircache[parent]:
                if entry["name"] == path:
                    return entry
            raise FileNotFoundError(errno.ENOENT, "no such object or directory", path)
        return None

    def ls(self, path: str, detail: bool = True, refresh: bool = False, **kwargs: Any) -> List[Any]:
        path = self._strip_protocol(path)
        bucket, key = self.split_path(path)
        entries: Optional[List[Entry]] = None
        if not refresh and path in self.dircache:
            entries = self.dircache[path]
        if entries is None:
            entries = self._list_directory(bucket, key) if bucket else self._list_buckets()
            if not entries and key:
                entry = self.info(path, refresh=True)  # a file lists as itself; nothing at all is an error
                if entry["type"] == "file":
                    return [entry] if detail else [entry["name"]]
            self.dircache[path] = entries
        return list(entries) if detail else [entry["name"] for entry in entries]

    def _list_buckets(self) -> List[Entry]:
        result = check(self.client.list_buckets(), "", "list buckets")
        buckets = result.body.get("buckets") if isinstance(result.body, dict) else None
        return [directory_entry(item["name"]) for item in buckets or [] if item.get("name")]

    def _list_directory(self, bucket: str, key: str) -> List[Entry]:
        """The files and sub-directories directly in ``bucket/key`` (every page)."""
        prefix = key + "/" if key else None
        entries: List[Entry] = []
        manager = self.client.bucket_manager()
        for page in manager.iter_pages(bucket, prefix=prefix, limit=1000, mode=0):
            check(page, "%s/%s" % (bucket, key) if key else bucket, "list")
            body = page.body if isinstance(page.body, dict) else {}
            for name in body.get("commonPrefixes") or []:
                entries.append(directory_entry("%s/%s" % (bucket, name.rstrip("/"))))
            for item in body.get("items") or []:
                info = ObjectInfo.from_item(item)
                if not info.key.endswith("/"):  # "dir/" placeholders made by other tools are not files
                    entries.append(file_entry(bucket, info))
        return entries

    def find(self, path: str, maxdepth: Optional[int] = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        path = self._strip_protocol(path)
        bucket, key = self.split_path(path)
        if maxdepth is not None or not bucket:
            # A depth limit is a walk of directory listings: a flat listing would read the whole subtree.
            return AbstractFileSystem.find(self, path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        prefix = key + "/" if key else ""
        found: Dict[str, Entry] = {}
        for info in self._flat_listing(bucket, prefix):
            if withdirs:
                parent = path
                for part in info.key[len(prefix):].split("/")[:-1]:
                    parent = "%s/%s" % (parent, part)
                    found.setdefault(parent, directory_entry(parent))
            if not info.key.endswith("/"):
                found["%s/%s" % (bucket, info.key)] = file_entry(bucket, info)
        if found and withdirs:
            found[path] = directory_entry(path)
        elif not found and key:
            try:
                entry = self.info(path)
            except FileNotFoundError:
                entry = None
            if entry is not None and entry["type"] == "file":
                found[path] = entry
        names = sorted(found)
        return {name: found[name] for name in names} if detail else names

    def _flat_listing(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        try:
            yield from self.client.list_objects(bucket, prefix or None)
        except ServiceError as exc:
            if exc.code != 404:  # a missing bucket has nothing under it
                raise os_error(exc.result, bucket, "list") from None

    def du(self, path: str, total: bool = True, maxdepth: Optional[int] = None, withdirs: bool = False,
           **kwargs: Any) -> Any:
        # The listing has every size: no stat per file.
        found = self.find(path, maxdepth=maxdepth, withdirs=withdirs, detail=True, **kwargs)
        sizes = {name: entry.get("size") or 0 for name, entry in found.items()}
        return sum(sizes.values()) if total else sizes

    def ukey(self, path: str) -> str:
        """The object's etag: it changes whenever its content does."""
        entry = self.info(path)
        if entry["type"] != "file":
            raise IsADirectoryError(errno.EISDIR, "a directory has no etag", path)
        return str(entry["etag"])

    def checksum(self, path: str) -> int:
        """The etag as an integer (the content's SHA-1 based WCS hash)."""
        return int.from_bytes(urlsafe_base64_decode(self.ukey(path)), "big")

    def modified(self, path: str) -> Any:
        """Upload time of the object (a timezone-aware UTC ``datetime``)."""
        entry = self.info(path)
        if entry["type"] != "file" or entry.get("mtime") is None:
            raise IsADirectoryError(errno.EISDIR, "a directory has no modification time", path)
        return entry["mtime"]

    def invalidate_cache(self, path: Optional[str] = None) -> None:
        if path is None:
            self.dircache.clear()
        else:
            stale = self._strip_protocol(path)
            while stale:  # the entry and every listing above it may now be wrong
                self.dircache.pop(stale, None)
                stale = self._parent(stale)
            self.dircache.pop("", None)
        super().invalidate_cache(path)

    # -- directories (pseudo: they exist while objects are under them) --------------------------

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        self._require_bucket(path)

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        self._require_bucket(path)

    def _require_bucket(self, path: str) -> None:
        bucket, key = self.split_path(path)
        if not key and not self.exists(bucket):
            raise NotImplementedError("wcs:// cannot create buckets (%r); create it in the WCS console" % bucket)

    def rmdir(self, path: str) -> None:
        """Nothing to do for an empty directory (it does not exist); refused for one with objects under it."""
        path = self._strip_protocol(path)
        try:
            names = self.ls(path, detail=False, refresh=True)
        except FileNotFoundError:
            return
        if names == [path]:
            raise NotADirectoryError(errno.ENOTDIR, "an object, not a directory", path)
        if names:
            raise OSError(errno.ENOTEMPTY, "directory not empty", path)
