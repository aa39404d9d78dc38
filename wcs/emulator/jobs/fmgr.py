"""The fmgr operations (``/fmgr/<op>``): fetch, copy, move, delete, deletePrefix, deletem3u8, setdeadline,
compress. Each takes one ``fops`` item of the request and returns the fields of its succeeded status item.

[INFERRED] choices where the reference is silent:

* ``force=0`` (the default) means an existing output object is not replaced: fetch, copy, move and
  compress targets fail with ``File Already Exist``; ``force=1`` replaces them.
* ``deletePrefix`` has directory semantics: prefix ``a`` deletes ``a/...`` but neither ``a`` nor ``ab``;
  an empty prefix is refused. ``output`` receives the deleted keys, one per line.
* ``deletem3u8`` deletes the playlist and (``deletets`` 1, default) the segments it references by relative
  path; absolute URLs are left alone.
* ``setdeadline`` over a prefix has directory semantics too (``s`` covers ``s/...``, not ``s1``); an empty
  or absent prefix covers the whole bucket. Its item reports ``count``, the objects changed.
* ``copy`` and ``compress`` read their sources: an Archive source that is not restored fails the item
  (``Invalid Object State``), as its download would; ``move`` and the deletes do not read and proceed.
* Objects are read up to the size of the version opened (an appendable object may grow meanwhile).
"""

import posixpath
import zipfile
from typing import Any, Callable, Dict, List
from urllib.parse import unquote, urlsplit

from wcs.commons.fsutil import discard
from wcs.commons.util import urlsafe_base64_decode
from wcs.emulator.errors import ApiError, FileExists, FileNotFound, InvalidKey, InvalidObjectState
from wcs.emulator.jobs.fetch import Fetcher
from wcs.emulator.jobs.outputs import COPY_CHUNK, Outputs
from wcs.emulator.jobs.params import OpFailed, b64_optional, b64_param, days_to_expiry, join_key, pairs, split_entry
from wcs.emulator.state import ObjectInfo, Store, now_ms, validate_key

_METHODS = {"fetch": "fetch", "copy": "copy", "move": "move", "delete": "delete", "deletePrefix": "delete_prefix",
            "deletem3u8": "delete_m3u8", "setdeadline": "set_deadline", "compress": "compress"}
"""Wire name of each operation -> the :class:`FmgrOps` method that does it."""
FMGR_OPS = tuple(_METHODS)

Result = Dict[str, Any]


class FmgrOps:
    """The fmgr operations, writing through ``outputs``."""

    def __init__(self, outputs: Outputs, fetcher: Fetcher) -> None:
        self.out = outputs
        self.store = outputs.store
        self.fetcher = fetcher

    def run(self, op: str, cmd: str, force: bool) -> Result:
        """Do one item ``cmd`` of operation ``op`` (one of :data:`FMGR_OPS`)."""
        method: Callable[[Dict[str, str], bool], Result] = getattr(self, _METHODS[op])
        return method(pairs(cmd.split("/")), force)

    def fetch(self, params: Dict[str, str], force: bool) -> Result:
        url = b64_param(params, "fetchURL")
        bucket = b64_param(params, "bucket")
        self.out.need_bucket(bucket)
        key = b64_optional(params, "key") or unquote(urlsplit(url).path).lstrip("/")
        key = join_key(b64_optional(params, "prefix"), key)
        try:
            validate_key(key)
        except InvalidKey as exc:
            raise OpFailed("cannot name the fetched object: %s" % exc.message) from None
        if not force and self.store.exists(bucket, key):
            raise FileExists(key)
        temp = self.out.temp_path()
        try:
            fetched = self.fetcher.fetch(url, temp)
            expected = params.get("md5")
            if expected:
                if len(expected) != 32:  # java sends it Base64-encoded
                    try:
                        expected = urlsafe_base64_decode(expected).decode("ascii")
                    except (ValueError, UnicodeDecodeError):
                        pass
                if expected.lower() != fetched.md5:
                    raise OpFailed("md5 mismatch: expected %s, fetched %s" % (expected, fetched.md5))
            return self.out.result(self.out.store_temp(temp, bucket, key, fetched.mime, force))
        finally:
            discard(temp)

    def _copy_or_move(self, params: Dict[str, str], force: bool, move: bool) -> Result:
        src_bucket, src_key = split_entry(b64_param(params, "resource"))
        dst_bucket = b64_param(params, "bucket")
        key = b64_optional(params, "key")
        if dst_bucket == src_bucket and not key:
            raise OpFailed("key is required when the destination is the source bucket")
        dst_key = join_key(b64_optional(params, "prefix"), key or src_key)
        if (dst_bucket, dst_key) == (src_bucket, src_key):
            raise OpFailed("destination is the source object")
        self.out.need_bucket(src_bucket)
        self.out.need_bucket(dst_bucket)
        source = self.store.get(src_bucket, src_key)
        if source is None:
            raise FileNotFound(src_key)
        if not move:
            self._need_readable(source)
        try:
            info = self.store.copy(src_bucket, src_key, dst_bucket, dst_key, overwrite=force, move=move)
        except ApiError as exc:
            raise OpFailed("%s: %s" % (exc.message, dst_key)) from None
        return self.out.result(info)

    def copy(self, params: Dict[str, str], force: bool) -> Result:
        return self._copy_or_move(params, force, move=False)

    def move(self, params: Dict[str, str], force: bool) -> Result:
        return self._copy_or_move(params, force, move=True)

    def delete(self, params: Dict[str, str], force: bool) -> Result:
        bucket, key = b64_param(params, "bucket"), b64_param(params, "key")
        self.out.need_bucket(bucket)
        # The service reports deleting a missing object as a success.
        self.store.delete(bucket, key)
        return {"key": key}

    def delete_prefix(self, params: Dict[str, str], force: bool) -> Result:
        bucket, prefix = b64_param(params, "bucket"), b64_param(params, "prefix")
        self.out.need_bucket(bucket)
        if not prefix:
            raise OpFailed("prefix must not be empty")
        directory = prefix if prefix.endswith("/") else prefix + "/"
        deleted = []
        for info in self.store.keys_under(bucket, directory):
            if self.store.delete(bucket, info.key):
                deleted.append(info.key)
        output = b64_optional(params, "output")
        if output:
            out_bucket, out_key = split_entry(output)
            self.out.need_bucket(out_bucket)
            self.out.write_text(out_bucket, out_key, "".join(k + "\n" for k in deleted), True)
        return {"key": prefix, "deleted": len(deleted)}

    def delete_m3u8(self, params: Dict[str, str], force: bool) -> Result:
        bucket, key = b64_param(params, "bucket"), b64_param(params, "key")
        self.out.need_bucket(bucket)
        if self.store.get(bucket, key) is None:
            raise FileNotFound(key)
        deleted_ts = 0
        if params.get("deletets", "1") != "0":
            for ts_key in m3u8_segments(self.store, bucket, key):
                if self.store.delete(bucket, ts_key):
                    deleted_ts += 1
        self.store.delete(bucket, key)
        return {"key": key, "deletets": deleted_ts}

    def set_deadline(self, params: Dict[str, str], force: bool) -> Result:
        bucket = b64_param(params, "bucket")
        self.out.need_bucket(bucket)
        prefix = b64_optional(params, "prefix") or ""
        days = params.get("deadline", params.get("deleteAfterDays"))
        if days is None:
            raise OpFailed("parameter deadline is missing")
        expires_at = days_to_expiry(days)
        directory = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        count = 0
        for info in self.store.keys_under(bucket, directory):
            count += bool(self.store.set_expiry(bucket, info.key, expires_at))
        return {"key": prefix, "count": count}

    def compress(self, params: Dict[str, str], force: bool) -> Result:
        bucket = b64_param(params, "bucket")
        self.out.need_bucket(bucket)
        save_bucket, save_key = split_entry(b64_param(params, "saveas"))
        self.out.need_bucket(save_bucket)
        members = self._compress_members(params, bucket)
        if not force and self.store.exists(save_bucket, save_key):
            raise FileExists(save_key)
        temp = self.out.temp_path()
        try:
            with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
                for info in members:
                    opened = self.store.open(bucket, info.key)  # the version current now, whole
                    if opened is None:
                        raise FileNotFound(info.key)
                    current, fp = opened
                    with fp, archive.open(info.key, "w", force_zip64=True) as dst:
                        self._need_readable(current)
                        _copy_exactly(fp, dst, current.fsize)
            return self.out.result(self.out.store_temp(temp, save_bucket, save_key, "application/zip", force))
        finally:
            discard(temp)

    def _compress_members(self, params: Dict[str, str], bucket: str) -> List[ObjectInfo]:
        """The objects named by ``keys`` and the ``keyList`` object's lines (``dir/`` = all under it)."""
        names: List[str] = []
        if "keys" in params:
            for part in params["keys"].split("|"):
                if part:
                    try:
                        names.append(urlsafe_base64_decode(part).decode("utf-8"))
                    except (ValueError, UnicodeDecodeError):
                        raise OpFailed("keys: %r is not URL-safe Base64" % part) from None
        index_key = b64_optional(params, "keyList", "keylist")
        if index_key:
            index = self.store.open(bucket, index_key)
            if index is None:
                raise FileNotFound(index_key)
            with index[1] as fp:
                text = fp.read(min(index[0].fsize, 16 * 1024 * 1024)).decode("utf-8", "replace")
                names += [line.strip() for line in text.splitlines() if line.strip()]
        if not names:
            raise OpFailed("nothing to compress: give keys or keyList")
        members: Dict[str, ObjectInfo] = {}
        for name in names:
            found = self.store.keys_under(bucket, name) if name.endswith("/") else [self.store.get(bucket, name)]
            for info in found:
                if info is None:
                    raise FileNotFound(name)
                members.setdefault(info.key, info)  # a key named twice (directly and by its folder) is zipped once
        return list(members.values())

    def _need_readable(self, info: ObjectInfo) -> None:
        if not self.store.extras.get(info).readable(now_ms()):
            raise InvalidObjectState("%s is an Archive object that is not restored" % info.key)


def _copy_exactly(src: Any, dst: Any, length: int) -> None:
    left = length
    while left > 0:
        data = src.read(min(COPY_CHUNK, left))
        if not data:
            raise OpFailed("the stored object is shorter than its size")
        dst.write(data)
        left -= len(data)


def m3u8_segments(store: Store, bucket: str, key: str) -> List[str]:
    """Keys of the segments a stored playlist references by relative path (absolute URLs skipped);
    none when the playlist is gone."""
    base = posixpath.dirname(key)
    keys: List[str] = []
    opened = store.open(bucket, key)
    if opened is None:
        return keys
    with opened[1] as fp:
        text = fp.read(min(opened[0].fsize, 16 * 1024 * 1024)).decode("utf-8", "replace")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "://" in line or line.startswith("/"):
            continue
        path = unquote(line.split("?", 1)[0])
        key = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
        if not key.startswith("../"):
            keys.append(key)
    return keys
