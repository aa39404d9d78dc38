"""The store a migration reads from: any fsspec filesystem, listed in key order, its objects signed for the service.

:class:`Source` wraps a filesystem and a root (``s3://bucket/prefix`` through s3fs, ``gs://`` through
gcsfs, ``memory://``, a local folder, ``https://host/path/`` through fsspec's HTTP filesystem...; the
package of the filesystem is the user's to install, ``pip install s3fs``). It yields the objects
below the root as :class:`SourceObject` in key order, so that the listing merges with the WCS
listing like two sorted files (:mod:`wcs.services.tree.plan`):

* S3 (s3fs): ``ListObjectsV2`` pages without a delimiter, one page in memory (S3 lists keys in
  UTF-8 byte order, which is the order of the code points);
* any other filesystem: its folders walked depth first, each folder's entries sorted with folders
  named ``name/``, which is the order of the full keys; memory holds one folder's entries per level;
* an HTTP origin cannot be listed: its keys come from a list file (:mod:`.listfile`), each object's
  size from the list or from a ``HEAD``.

Where the service can reach an object by URL it fetches it itself (:meth:`Source.url_for`): an
http(s) origin's URL as it is (public), else the filesystem's presigned URL (``fs.sign(path,
expiration=...)``, S3's presigned GET), valid long enough to outlive the job. A filesystem that
cannot sign (local files, memory) has objects only the client can read (:meth:`Source.open`).

``md5`` is set only where the store offers a plain MD5 of the content: a ``md5`` field, GCS's
``md5Hash`` (Base64), or an S3 ETag of 32 hex digits (a single-part upload's; a multipart one has
``-N`` and is no MD5). S3 buckets encrypted with SSE-KMS or SSE-C have ETags that are not MD5s
either: pass ``md5=False`` (``--no-md5``) for them.
"""

import base64
import binascii
import datetime
import logging
from dataclasses import dataclass
from typing import Any, BinaryIO, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote

from wcs.commons.errors import InvalidArgument, LocalFileError, WcsError
from wcs.services.migrate.listfile import ListedPaths

log = logging.getLogger(__name__)

_HEX = frozenset("0123456789abcdef")
HTTP_PROTOCOLS = ("http", "https")


class SourceError(WcsError):
    """The source cannot be listed or read (its listing broke: nothing is deleted after this)."""


@dataclass(frozen=True)
class SourceObject:
    """One object of the source: ``rel`` below the root, ``path`` in the filesystem, and its version."""

    rel: str
    path: str
    size: int
    etag: Optional[str] = None
    mtime: Optional[str] = None
    md5: Optional[str] = None

    @property
    def version(self) -> Tuple[int, Optional[str], Optional[str]]:
        """What says the object changed: its size, ETag and modification time."""
        return self.size, self.etag, self.mtime


def _text_time(value: Any) -> Optional[str]:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, (int, float)):
        stamp = datetime.datetime.fromtimestamp(float(value), datetime.timezone.utc)
        return _text_time(stamp)
    return str(value)


def plain_md5(info: Dict[str, Any]) -> Optional[str]:
    """The hex MD5 of an object's content if its info holds one (see the module docstring), else None."""
    md5 = info.get("md5") or info.get("content_md5")
    if isinstance(md5, str) and len(md5) == 32 and set(md5.lower()) <= _HEX:
        return md5.lower()
    if isinstance(md5, (bytes, bytearray)) and len(md5) == 16:
        return bytes(md5).hex()
    b64 = info.get("md5Hash")  # GCS
    if isinstance(b64, str):
        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 16:
            return raw.hex()
    etag = info.get("ETag") or info.get("etag")
    if isinstance(etag, str):
        text = etag.strip().strip('"').lower()
        if len(text) == 32 and set(text) <= _HEX:  # an S3 multipart ETag ends in -N: not an MD5
            return text
    return None


def etag_of(info: Dict[str, Any]) -> Optional[str]:
    """The store's version tag of an object (S3 ETag, GCS generation...), quotes removed; None if none."""
    for name in ("ETag", "etag", "md5Hash", "generation", "checksum"):
        value = info.get(name)
        if value not in (None, ""):
            return str(value).strip('"')
    return None


def mtime_of(info: Dict[str, Any]) -> Optional[str]:
    """An object's modification time as ISO 8601 UTC text (or the store's own text); None if none."""
    for name in ("LastModified", "last_modified", "mtime", "updated", "modified", "created"):
        if info.get(name) not in (None, ""):
            return _text_time(info[name])
    return None


class Source:
    """Objects below ``root`` of the fsspec filesystem ``fs`` (see the module docstring).

    Args:
        fs: an fsspec ``AbstractFileSystem``.
        root: the path below which objects are synced (``bucket/prefix`` for s3fs; a URL ending in
            ``/`` for an HTTP origin).
        files_from: only these paths (required for an HTTP origin, which cannot be listed).
        md5: give the service the source's MD5 to check each fetched object against, where known.
        server_side: False: every object is read by the client (no URL is handed to the service).
    """

    def __init__(self, fs: Any, root: str, *, files_from: Optional[ListedPaths] = None, md5: bool = True,
                 server_side: bool = True) -> None:
        self.fs = fs
        protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        self.protocol = str(protocols[0])
        self.http = any(p in HTTP_PROTOCOLS for p in protocols)
        if self.http:
            self.root = root if root.endswith("/") else root + "/"
            if files_from is None:
                raise InvalidArgument("an HTTP origin cannot be listed: give the keys in a list file "
                                      "(files_from=..., --files-from LIST)")
        else:
            self.root = fs._strip_protocol(root).rstrip("/")
        self.files_from = files_from
        self.md5 = md5
        self.server_side = server_side
        self.listed = 0

    @classmethod
    def from_url(cls, url: str, storage_options: Optional[Dict[str, Any]] = None, **options: Any) -> "Source":
        """The source at an fsspec URL (``s3://bucket/prefix``, ``https://host/dir/``...).

        Raises:
            InvalidArgument: fsspec does not know the protocol, or its package is not installed.
        """
        try:
            import fsspec  # type: ignore[import-untyped, import-not-found]
        except ImportError:  # pragma: no cover - fsspec comes with the [fsspec] extra
            raise InvalidArgument("syncing from %s needs fsspec: pip install fsspec" % url) from None
        try:
            fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
        except (ImportError, ValueError) as exc:
            raise InvalidArgument("cannot open %s: %s" % (url, exc)) from None
        return cls(fs, url if fs.protocol and set(_list(fs.protocol)) & set(HTTP_PROTOCOLS) else path, **options)

    def __str__(self) -> str:
        return self.root if self.http else self.fs.unstrip_protocol(self.root) + "/"

    # -- naming ----------------------------------------------------------------------------------

    def path_of(self, rel: str) -> str:
        """The filesystem path of the object ``rel``."""
        return self.root + quote(rel, safe="/~") if self.http else "%s/%s" % (self.root, rel)

    def url_of(self, rel: str) -> str:
        """The object as a URL with its protocol (how plans name it)."""
        return self.path_of(rel) if self.http else self.fs.unstrip_protocol(self.path_of(rel))

    def facts(self, obj: SourceObject) -> Dict[str, Any]:
        """The object's facts in a plan (:mod:`wcs.services.plans`)."""
        return {"url": self.url_of(obj.rel), "size": obj.size, "etag": obj.etag, "mtime": obj.mtime,
                "md5": obj.md5}

    def _object(self, rel: str, path: str, info: Dict[str, Any], size: Optional[int] = None,
                md5: Optional[str] = None) -> SourceObject:
        found = info.get("size", info.get("Size"))
        if size is None:
            size = int(found) if found is not None else 0
        return SourceObject(rel, path, size, etag_of(info), mtime_of(info),
                            (md5 or plain_md5(info)) if self.md5 else None)

    # -- listing ---------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[SourceObject]:
        """The objects in key order (with ``files_from``: those listed, in key order).

        Raises:
            SourceError: a listing request failed, or a listed object is missing from an HTTP origin.
        """
        try:
            if self.http:
                assert self.files_from is not None
                yield from self._listed_http(self.files_from)
                return
            stream = self._s3_pages() if hasattr(self.fs, "call_s3") else self._walk(self.root)
            for obj in stream:
                if self.files_from is not None and obj.rel not in self.files_from:
                    continue
                self.listed += 1
                yield obj
        except (OSError, ValueError, RuntimeError) as exc:  # fsspec's errors are OSErrors; botocore's are not
            raise SourceError("listing %s failed: %s" % (self, exc)) from exc
        except Exception as exc:
            if type(exc).__module__.split(".")[0] in ("botocore", "aiobotocore", "aiohttp", "requests"):
                raise SourceError("listing %s failed: %s" % (self, exc)) from exc
            raise

    def _listed_http(self, listed: ListedPaths) -> Iterator[SourceObject]:
        for entry in listed:
            path = self.path_of(entry.rel)
            if entry.size is not None:
                obj = SourceObject(entry.rel, path, entry.size, None, None, entry.md5 if self.md5 else None)
            else:
                try:
                    info = self.fs.info(path)
                except FileNotFoundError:
                    raise SourceError("%s is listed in %s but the origin has no such object"
                                      % (path, listed.path)) from None
                obj = self._object(entry.rel, path, info, md5=entry.md5)
            self.listed += 1
            yield obj

    def _s3_pages(self) -> Iterator[SourceObject]:
        bucket, _, key = self.root.partition("/")
        prefix = key + "/" if key else ""
        kwargs: Dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = self.fs.call_s3("list_objects_v2", **kwargs)
            for item in page.get("Contents", []):
                rel = item["Key"][len(prefix):]
                if not rel or rel.endswith("/"):
                    continue  # folder placeholders hold no file
                yield self._object(rel, "%s/%s" % (bucket, item["Key"]), item)
            if not page.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = page["NextContinuationToken"]

    def _walk(self, root: str) -> Iterator[SourceObject]:
        base = len(self.root) + 1
        stack: List[Iterator[Dict[str, Any]]] = [iter(self._sorted_entries(root))]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            name = self.fs._strip_protocol(entry["name"]).rstrip("/")
            if entry.get("type") == "directory":
                stack.append(iter(self._sorted_entries(name)))
                continue
            rel = name[base:]
            if rel:
                yield self._object(rel, name, entry)

    def _sorted_entries(self, folder: str) -> List[Dict[str, Any]]:
        try:
            entries = self.fs.ls(folder, detail=True)
        except FileNotFoundError:
            return []  # an empty prefix: nothing to copy (an empty source refuses deletions)

        def order(entry: Dict[str, Any]) -> str:
            name = self.fs._strip_protocol(entry["name"]).rstrip("/")
            return name + "/" if entry.get("type") == "directory" else name

        return sorted((e for e in entries if self.fs._strip_protocol(e["name"]).rstrip("/") != folder), key=order)

    # -- one object ------------------------------------------------------------------------------

    def info(self, rel: str) -> Optional[SourceObject]:
        """The object's facts now (``apply`` checks them again), None when it is gone.

        Raises:
            SourceError: the source cannot be asked.
        """
        path = self.path_of(rel)
        try:
            info = self.fs.info(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SourceError("cannot read %s: %s" % (self.url_of(rel), exc)) from exc
        if info.get("type") == "directory":
            return None
        return self._object(rel, path, info)

    def url_for(self, obj: SourceObject, expiry: float) -> Optional[str]:
        """A URL the service can fetch ``obj`` from for ``expiry`` seconds, None when it cannot reach it."""
        if not self.server_side:
            return None
        if self.http:
            return obj.path
        try:
            return str(self.fs.sign(obj.path, expiration=int(expiry)))
        except NotImplementedError:
            return None

    def open(self, obj: SourceObject) -> BinaryIO:
        """The object's content, for a client-side copy.

        Raises:
            LocalFileError: it cannot be opened.
        """
        try:
            return self.fs.open(obj.path, "rb")
        except (OSError, ValueError) as exc:
            raise LocalFileError("cannot read %s: %s" % (self.url_of(obj.rel), exc)) from None


def _list(value: Any) -> List[str]:
    return list(value) if isinstance(value, (tuple, list)) else [value]
