"""Asynchronous jobs: fmgr operations, persistent processing (fops) and their notifications.

A job is accepted with a ``persistentId`` at once and run on a small thread pool; its status document
(reference 7.3 / 7.6) lives in sqlite, so ``/fmgr/status`` and ``/status/get/prefop`` keep answering after a
restart. A job interrupted by a stop is marked failed at the next start rather than silently re-run.

Codes: top-level 0 pending, 1 processing, 3 done, then with a ``notifyURL`` 4 notifying, 5 notify failed,
6 notify succeeded (a poller should wait while the code is 0, 1 or 4). Item codes: 0 pending,
1 processing, 2 failed, 3 succeeded. [INFERRED] descriptions: ``fileOperateSucceed`` /
``fileOperateFailed`` at the top level when every / not every item succeeded; a failed item's ``desc`` and
``error`` both carry the reason (e.g. ``avthumb is not supported by the emulator (no ffmpeg)``) - the
emulator never reports success for work it did not do.

[INFERRED] choices where the reference is silent:

* ``force=0`` (the default) means an existing output object is not replaced: fetch, copy, move and
  compress targets and the decompression list file fail with ``File Already Exist`` /
  ``The Persistent File Already Exists``; ``force=1`` replaces them.
* ``deletePrefix`` has directory semantics: prefix ``a`` deletes ``a/...`` but neither ``a`` nor ``ab``;
  an empty prefix is refused. ``output`` receives the deleted keys, one per line.
* ``deletem3u8`` deletes the playlist and (``deletets`` 1, default) the segments it references by relative
  path; absolute URLs are left alone.
* ``decompression`` supports ``zip``, ``tar`` (any compression ``tarfile`` reads) and ``gzip`` (one member).
  Entries land under ``/dir/<bucket:dir>`` or, without it, at the root of the source bucket; the ``saveas``
  list file holds the extracted keys, one per line. ``7z`` and every media/image op fail as unsupported.
* Notifications POST the URL-safe Base64 of the status JSON (top-level code 3) with
  ``Authorization: AK:sign(notifyURL + "\\n" + body)``; ``separate=1`` sends one notification per op whose
  ``items`` holds just that op.
"""

import gzip
import hashlib
import json
import logging
import mimetypes
import os
import posixpath
import shutil
import tarfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import quote, unquote, urlsplit

from wcs.commons.auth import callback_signature
from wcs.commons.util import EtagHasher, urlsafe_base64_decode, urlsafe_base64_encode
from wcs.emulator import outbound
from wcs.emulator.errors import (
    BUCKET_NOT_FOUND,
    FILE_EXISTS,
    FILE_NOT_FOUND,
    PERSISTENT_FILE_EXISTS,
    ApiError,
)
from wcs.emulator.state import DAY_MS, MAX_RETENTION_DAYS, ObjectInfo, Store, now_ms, validate_key

logger = logging.getLogger(__name__)

FMGR_OPS = ("fetch", "copy", "move", "delete", "deletePrefix", "deletem3u8", "setdeadline", "compress")

_COPY_CHUNK = 1024 * 1024

_UNSUPPORTED = {
    "ffmpeg": ("avthumb", "vframe", "vsample", "avconcat", "avwatermark", "avinfo", "avinfo2", "adapt",
               "transcode", "audiowave", "avsmart", "avclip", "concat", "hls"),
    "imagemagick": ("imageView", "imageView2", "imageMogr2", "imageMogr", "watermark", "imageInfo",
                    "exif", "imageAve", "imageslim"),
    "content moderation service": ("imagePorn", "imageTerror", "imagePolitician", "videoPorn",
                                   "contentDetect"),
}


class OpFailed(Exception):
    """One operation of a job failed; the message becomes the item's ``desc``/``error``."""


def new_persistent_id() -> str:
    # Same look as the service's ids: 36 hex characters.
    return uuid.uuid4().hex + os.urandom(2).hex()


def _pairs(segments: List[str]) -> Dict[str, str]:
    return {segments[i]: segments[i + 1] for i in range(0, len(segments) - 1, 2)}


def _b64(params: Dict[str, str], name: str, required: bool = True, *aliases: str) -> Optional[str]:
    for candidate in (name,) + aliases:
        if candidate in params:
            try:
                return urlsafe_base64_decode(params[candidate]).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise OpFailed("parameter %s is not URL-safe Base64" % candidate) from None
    if required:
        raise OpFailed("parameter %s is missing" % name)
    return None


def _entry(text: str) -> Tuple[str, str]:
    bucket, sep, key = text.partition(":")
    if not sep or not bucket or not key:
        raise OpFailed("%r is not bucket:key" % text)
    return bucket, key


def _join(prefix: Optional[str], key: str) -> str:
    if not prefix:
        return key
    return prefix + key if prefix.endswith("/") else prefix + "/" + key


def _days_to_expiry(days_text: str) -> Optional[int]:
    try:
        if len(str(days_text)) > 32:
            raise ValueError(days_text)
        days = int(days_text)
    except (TypeError, ValueError):
        raise OpFailed("deadline %r is not an integer" % (str(days_text)[:40],)) from None
    if not -1 <= days <= MAX_RETENTION_DAYS:
        raise OpFailed("deadline must lie in -1..%d" % MAX_RETENTION_DAYS)
    return None if days == -1 else now_ms() + days * DAY_MS


class JobManager:
    """Runs fmgr / fops jobs on a thread pool and keeps their status in the store."""

    def __init__(self, store: Store, access_key: str, secret_key: str, base_url: Callable[[], str],
                 workers: int = 2) -> None:
        self.store = store
        self.access_key = access_key
        self.secret_key = secret_key
        self.base_url = base_url
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wcs-emulator-job")
        self._closed = False
        self._lock = threading.Lock()
        self._fail_interrupted()

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
        try:
            self._executor.shutdown(wait=True, cancel_futures=True)
        except TypeError:  # Python 3.8: no cancel_futures; queued jobs then fail at the next start
            self._executor.shutdown(wait=True)

    # -- persistence --------------------------------------------------------------------------------

    def _fail_interrupted(self) -> None:
        for job_id, (kind, text) in self.store.all_jobs().items():
            status = json.loads(text)
            if status.get("code") not in (0, 1, 4):
                continue
            for item in status["items"]:
                if item["code"] in (0, 1):
                    item.update(code=2, desc="interrupted by an emulator restart",
                                error="interrupted by an emulator restart")
            status["code"] = 5 if status["code"] == 4 else 3
            status["desc"] = self._summary(status)
            self.store.save_job(job_id, kind, json.dumps(status))

    def status(self, job_id: str) -> Optional[Dict[str, Any]]:
        row = self.store.load_job(job_id)
        return json.loads(row[1]) if row else None

    def _save(self, kind: str, status: Dict[str, Any]) -> None:
        self.store.save_job(status["id"], kind, json.dumps(status))

    @staticmethod
    def _summary(status: Dict[str, Any]) -> str:
        ok = all(item["code"] == 3 for item in status["items"])
        return "fileOperateSucceed" if ok else "fileOperateFailed"

    # -- submission ---------------------------------------------------------------------------------

    def _item(self, cmd: str) -> Dict[str, Any]:
        return {"cmd": cmd, "code": 0, "desc": "waiting", "error": None, "hash": "", "fsize": 0,
                "key": "", "url": ""}

    def submit_fmgr(self, op: str, ops: List[str], notify_url: Optional[str], force: bool,
                    separate: bool) -> str:
        """Queue ``ops`` of fmgr operation ``op``; returns the persistentId."""
        job_id = new_persistent_id()
        status = {"id": job_id, "code": 0, "desc": "waiting", "separate": int(separate),
                  "items": [self._item(cmd) for cmd in ops]}
        self._save("fmgr", status)
        runner = getattr(self, "_fmgr_" + op)
        self._start("fmgr", status, [(lambda cmd=cmd: runner(cmd, force)) for cmd in ops], notify_url,
                    separate)
        return job_id

    def submit_fops(self, source: ObjectInfo, ops: List[str], notify_url: Optional[str], force: bool,
                    separate: bool) -> str:
        """Queue persistent-processing ``ops`` on object ``source``; returns the persistentId."""
        job_id = new_persistent_id()
        status = {"id": job_id, "code": 0, "desc": "waiting", "separate": int(separate),
                  "inputkey": source.key, "inputbucket": source.bucket, "inputfsize": source.fsize,
                  "items": [self._item(cmd) for cmd in ops]}
        self._save("fops", status)
        runs = [(lambda cmd=cmd: self._fop(cmd, source.bucket, source.key, force)) for cmd in ops]
        self._start("fops", status, runs, notify_url, separate)
        return job_id

    def _start(self, kind: str, status: Dict[str, Any], runs: List[Callable[[], Dict[str, Any]]],
               notify_url: Optional[str], separate: bool) -> None:
        with self._lock:
            if self._closed:
                raise ApiError(503, "emulator is stopping")
            self._executor.submit(self._run, kind, status, runs, notify_url, separate)

    def _run(self, kind: str, status: Dict[str, Any], runs: List[Callable[[], Dict[str, Any]]],
             notify_url: Optional[str], separate: bool) -> None:
        status["code"] = 1
        status["desc"] = "processing"
        self._save(kind, status)
        for item, run in zip(status["items"], runs):
            item.update(code=1, desc="processing")
            self._save(kind, status)
            started = time.monotonic()
            try:
                result = run()
                item.update(code=3, desc="fileOperateSucceed", error=None, **result)
            except OpFailed as exc:
                item.update(code=2, desc=str(exc), error=str(exc))
            except ApiError as exc:
                item.update(code=2, desc=exc.message, error=exc.message)
            except Exception as exc:  # a bug or an I/O error must still end the item, visibly
                logger.exception("job %s: %s failed", status["id"], item["cmd"])
                message = "emulator error: %s: %s" % (type(exc).__name__, exc)
                item.update(code=2, desc=message, error=message)
            if kind == "fops":
                item["costTime"] = int((time.monotonic() - started) * 1000)
            self._save(kind, status)
            if notify_url and separate:
                single = dict(status, code=3, desc=self._summary({"items": [item]}), items=[item])
                self._notify(notify_url, single)
        status["code"] = 3
        status["desc"] = self._summary(status)
        if notify_url and not separate:
            status["code"] = 4
            self._save(kind, status)
            ok = self._notify(notify_url, dict(status, code=3))
            status["code"] = 6 if ok else 5
        elif notify_url:
            status["code"] = 6
        self._save(kind, status)

    def _notify(self, url: str, status: Dict[str, Any]) -> bool:
        body = urlsafe_base64_encode(json.dumps(status)).encode("ascii")
        headers = {"Content-Type": "text/plain; charset=UTF-8",
                   "Authorization": callback_signature(self.access_key, self.secret_key, url, body)}
        try:
            outbound.post(url, body, headers)
            return True
        except outbound.OutboundError as exc:
            logger.warning("notification to %s failed: %s", url, exc)
            return False

    # -- helpers ------------------------------------------------------------------------------------

    def url_of(self, bucket: str, key: str) -> str:
        return "%s/%s/%s" % (self.base_url(), quote(bucket, safe=""), quote(key, safe="/"))

    def _result(self, info: ObjectInfo) -> Dict[str, Any]:
        return {"key": info.key, "hash": info.hash, "fsize": info.fsize,
                "url": self.url_of(info.bucket, info.key)}

    def _need_bucket(self, bucket: str) -> None:
        if not self.store.bucket_exists(bucket):
            raise OpFailed("%s: %s" % (BUCKET_NOT_FOUND, bucket))

    def _store_temp(self, temp: str, bucket: str, key: str, mime: str, force: bool,
                    exists_message: str = FILE_EXISTS) -> ObjectInfo:
        hasher = EtagHasher()
        with open(temp, "rb") as fp:
            for chunk in iter(lambda: fp.read(_COPY_CHUNK), b""):
                hasher.update(chunk)
        try:
            return self.store.put_file(bucket, key, temp, hasher.size, hasher.etag(), mime,
                                       overwrite=force)
        except ApiError as exc:
            if exc.code == 406:
                raise OpFailed("%s: %s" % (exists_message, key)) from None
            raise

    def _temp(self) -> str:
        return self.store.new_temp_path()

    # -- fmgr operations ----------------------------------------------------------------------------

    def _fmgr_fetch(self, cmd: str, force: bool) -> Dict[str, Any]:
        params = _pairs(cmd.split("/"))
        url = _b64(params, "fetchURL")
        bucket = _b64(params, "bucket")
        self._need_bucket(bucket)
        key = _b64(params, "key", False) or unquote(urlsplit(url).path).lstrip("/")
        key = _join(_b64(params, "prefix", False), key)
        try:
            validate_key(key)
        except ApiError as exc:
            raise OpFailed("cannot name the fetched object: %s" % exc.message) from None
        if not force and self.store.exists(bucket, key):
            raise OpFailed("%s: %s" % (FILE_EXISTS, key))
        try:
            resp, conn = outbound.get_stream(url)
        except outbound.OutboundError as exc:
            raise OpFailed("fetch of %s failed: %s" % (url, exc)) from None
        temp = self._temp()
        md5 = hashlib.md5()
        try:
            try:
                with open(temp, "wb") as out:
                    for chunk in iter(lambda: resp.read(_COPY_CHUNK), b""):
                        md5.update(chunk)
                        out.write(chunk)
            except OSError as exc:
                raise OpFailed("fetch of %s failed while reading: %s" % (url, exc)) from None
            finally:
                conn.close()
            expected = params.get("md5")
            if expected:
                if len(expected) != 32:  # java sends it Base64-encoded
                    try:
                        expected = urlsafe_base64_decode(expected).decode("ascii")
                    except (ValueError, UnicodeDecodeError):
                        pass
                if expected.lower() != md5.hexdigest():
                    raise OpFailed("md5 mismatch: expected %s, fetched %s" % (expected, md5.hexdigest()))
            mime = (resp.getheader("Content-Type") or "application/octet-stream").split(";")[0].strip()
            return self._result(self._store_temp(temp, bucket, key, mime, force))
        finally:
            _unlink(temp)

    def _copy_or_move(self, cmd: str, force: bool, move: bool) -> Dict[str, Any]:
        params = _pairs(cmd.split("/"))
        src_bucket, src_key = _entry(_b64(params, "resource"))
        dst_bucket = _b64(params, "bucket")
        key = _b64(params, "key", False)
        if dst_bucket == src_bucket and not key:
            raise OpFailed("key is required when the destination is the source bucket")
        dst_key = _join(_b64(params, "prefix", False), key or src_key)
        if (dst_bucket, dst_key) == (src_bucket, src_key):
            raise OpFailed("destination is the source object")
        self._need_bucket(src_bucket)
        self._need_bucket(dst_bucket)
        if self.store.get(src_bucket, src_key) is None:
            raise OpFailed("%s: %s" % (FILE_NOT_FOUND, src_key))
        try:
            info = self.store.copy(src_bucket, src_key, dst_bucket, dst_key, overwrite=force, move=move)
        except ApiError as exc:
            raise OpFailed("%s: %s" % (exc.message, dst_key)) from None
        return self._result(info)

    def _fmgr_copy(self, cmd: str, force: bool) -> Dict[str, Any]:
        return self._copy_or_move(cmd, force, move=False)

    def _fmgr_move(self, cmd: str, force: bool) -> Dict[str, Any]:
        return self._copy_or_move(cmd, force, move=True)

    def _fmgr_delete(self, cmd: str, force: bool) -> Dict[str, Any]:
        params = _pairs(cmd.split("/"))
        bucket, key = _b64(params, "bucket"), _b64(params, "key")
        self._need_bucket(bucket)
        # The service reports deleting a missing object as a success.
        self.store.delete(bucket, key)
        return {"key": key}

    def _fmgr_deletePrefix(self, cmd: str, force: bool) -> Dict[str, Any]:
        params = _pairs(cmd.split("/"))
        bucket, prefix = _b64(params, "bucket"), _b64(params, "prefix")
        self._need_bucket(bucket)
        if not prefix:
            raise OpFailed("prefix must not be empty")
        directory = prefix if prefix.endswith("/") else prefix + "/"
        deleted = []
        for info in self.store.keys_under(bucket, directory):
            if self.store.delete(bucket, info.key):
                deleted.append(info.key)
        output = _b64(params, "output", False)
        if output:
            out_bucket, out_key = _entry(output)
            self._need_bucket(out_bucket)
            self._write_text(out_bucket, out_key, "".join(k + "\n" for k in deleted), True)
        return {"key": prefix, "deleted": len(deleted)}

    def _write_text(self, bucket: str, key: str, text: str, force: bool,
                    exists_message: str = FILE_EXISTS) -> ObjectInfo:
        temp = self._temp()
        try:
            with open(temp, "wb") as out:
                out.write(text.encode("utf-8"))
            return self._store_temp(temp, bucket, key, "text/plain", force, exists_message)
        finally:
            _unlink(temp)

    def _fmgr_deletem3u8(self, cmd: str, force: bool) -> Dict[str, Any]:
        params = _pairs(cmd.split("/"))
        bucket, key = _b64(params, "bucket"), _b64(params, "key")
        self._need_bucket(bucket)
        info = self.store.get(bucket, key)
        if info is None:
            raise OpFailed("%s: %s" % (FILE_NOT_FOUND, key))
        deleted_ts = 0
        if params.get("deletets", "1") != "0":
            for ts_key in m3u8_segments(info):
                if self.store.delete(bucket, ts_key):
                    deleted_ts += 1
        self.store.delete(bucket, key)
        return {"key": key, "deletets": deleted_ts}

    def _fmgr_setdeadline(self, cmd: str, force: bool) -> Dict[str, Any]:
        params = _pairs(cmd.split("/"))
        bucket = _b64(params, "bucket")
        self._need_bucket(bucket)
        prefix = _b64(params, "prefix", False) or ""
        days = params.get("deadline", params.get("deleteAfterDays"))
        if days is None:
            raise OpFailed("parameter deadline is missing")
        expires_at = _days_to_expiry(days)
        directory = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        count = 0
        for info in self.store.keys_under(bucket, directory):
            count += bool(self.store.set_expiry(bucket, info.key, expires_at))
        return {"key": prefix, "count": count}

    def _fmgr_compress(self, cmd: str, force: bool) -> Dict[str, Any]:
        params = _pairs(cmd.split("/"))
        bucket = _b64(params, "bucket")
        self._need_bucket(bucket)
        save_bucket, save_key = _entry(_b64(params, "saveas"))
        self._need_bucket(save_bucket)
        names: List[str] = []
        if "keys" in params:
            for part in params["keys"].split("|"):
                if part:
                    try:
                        names.append(urlsafe_base64_decode(part).decode("utf-8"))
                    except (ValueError, UnicodeDecodeError):
                        raise OpFailed("keys: %r is not URL-safe Base64" % part) from None
        index_key = _b64(params, "keyList", False, "keylist")
        if index_key:
            index = self.store.get(bucket, index_key)
            if index is None:
                raise OpFailed("%s: %s" % (FILE_NOT_FOUND, index_key))
            with open(index.path, "rb") as fp:
                names += [line.strip() for line in fp.read(16 * 1024 * 1024).decode("utf-8").splitlines()
                          if line.strip()]
        if not names:
            raise OpFailed("nothing to compress: give keys or keyList")
        members: List[ObjectInfo] = []
        for name in names:
            if name.endswith("/"):
                members += self.store.keys_under(bucket, name)
                continue
            info = self.store.get(bucket, name)
            if info is None:
                raise OpFailed("%s: %s" % (FILE_NOT_FOUND, name))
            members.append(info)
        if not force and self.store.exists(save_bucket, save_key):
            raise OpFailed("%s: %s" % (FILE_EXISTS, save_key))
        unique: Dict[str, ObjectInfo] = {}
        for info in members:  # a key named twice (directly and through its directory) is zipped once
            unique.setdefault(info.key, info)
        members = list(unique.values())
        temp = self._temp()
        try:
            with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
                for info in members:
                    with open(info.path, "rb") as src, archive.open(info.key, "w", force_zip64=True) as dst:
                        shutil.copyfileobj(src, dst, _COPY_CHUNK)
            return self._result(self._store_temp(temp, save_bucket, save_key, "application/zip", force))
        finally:
            _unlink(temp)

    # -- persistent processing (fops) ---------------------------------------------------------------

    def _fop(self, cmd: str, bucket: str, key: str, force: bool) -> Dict[str, Any]:
        main, *pipes = cmd.split("|")
        segments = main.split("/")
        name = segments[0]
        saveas = None
        for pipe in pipes:
            pipe_parts = pipe.split("/")
            if pipe_parts[0] == "saveas" and len(pipe_parts) > 1:
                try:
                    saveas = _entry(urlsafe_base64_decode(pipe_parts[1]).decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise OpFailed("saveas is not URL-safe Base64") from None
        if name == "decompression":
            return self._decompress(segments, saveas, bucket, key, force)
        for tool, names in _UNSUPPORTED.items():
            if name in names:
                raise OpFailed("%s is not supported by the emulator (no %s)" % (name, tool))
        raise OpFailed("%s is not a processing operation the emulator knows" % (name or "(empty)"))

    def _decompress(self, segments: List[str], saveas: Optional[Tuple[str, str]], bucket: str, key: str,
                    force: bool) -> Dict[str, Any]:
        fmt = segments[1] if len(segments) > 1 else ""
        params = _pairs(segments[2:])
        source = self.store.get(bucket, key)
        if source is None:
            raise OpFailed("%s: %s" % (FILE_NOT_FOUND, key))
        out_bucket, out_dir = bucket, ""
        if "dir" in params:
            target = _b64(params, "dir")
            out_bucket, _, out_dir = target.partition(":")
        self._need_bucket(out_bucket)
        if saveas:
            self._need_bucket(saveas[0])
            if not force and self.store.exists(*saveas):
                raise OpFailed("%s: %s" % (PERSISTENT_FILE_EXISTS, saveas[1]))
        if fmt == "zip":
            entries = self._zip_entries(source)
        elif fmt == "tar":
            entries = self._tar_entries(source)
        elif fmt == "gzip":
            base = posixpath.basename(key)
            entries = [(base[:-3] if base.endswith(".gz") else base + ".out",
                        lambda: gzip.open(source.path, "rb"))]
        elif fmt == "7z":
            raise OpFailed("decompression/7z is not supported by the emulator (no 7z)")
        else:
            raise OpFailed("decompression format %r is unknown (zip, tar, gzip, 7z)" % fmt)
        detail = []
        for name, opener in entries:
            out_key = _join(out_dir.strip("/") if out_dir else "", name)
            temp = self._temp()
            try:
                try:
                    with opener() as src, open(temp, "wb") as dst:
                        shutil.copyfileobj(src, dst, _COPY_CHUNK)
                except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
                    raise OpFailed("cannot extract %s: %s" % (name, exc)) from None
                info = self._store_temp(temp, out_bucket, out_key, _guess_mime(out_key), True)
            finally:
                _unlink(temp)
            detail.append(self._result(info))
        result: Dict[str, Any] = {"detail": detail}
        if saveas:
            listing = "".join(item["key"] + "\n" for item in detail)
            result.update(self._result(self._write_text(saveas[0], saveas[1], listing, force,
                                                        PERSISTENT_FILE_EXISTS)))
        return result

    @staticmethod
    def _safe_member(name: str) -> str:
        clean = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
        if clean in ("", ".") or clean.startswith("../") or clean == "..":
            raise OpFailed("archive member %r escapes the target directory" % name)
        try:
            validate_key(clean)
        except ApiError as exc:
            raise OpFailed("archive member %r: %s" % (name, exc.message)) from None
        return clean

    def _zip_entries(self, source: ObjectInfo) -> List[Tuple[str, Callable]]:
        try:
            with zipfile.ZipFile(source.path) as archive:
                infos = [info for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, OSError) as exc:
            raise OpFailed("%s is not a zip archive: %s" % (source.key, exc)) from None
        names = [self._safe_member(info.filename) for info in infos]

        def opener(member: str) -> Callable:
            class _Member:
                def __enter__(self):
                    self.archive = zipfile.ZipFile(source.path)
                    self.fp = self.archive.open(member)
                    return self.fp

                def __exit__(self, *exc):
                    self.fp.close()
                    self.archive.close()

            return _Member

        return [(name, opener(info.filename)) for name, info in zip(names, infos)]

    def _tar_entries(self, source: ObjectInfo) -> List[Tuple[str, Callable]]:
        try:
            with tarfile.open(source.path, "r:*") as archive:
                members = [m.name for m in archive.getmembers() if m.isfile()]
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise OpFailed("%s is not a tar archive: %s" % (source.key, exc)) from None
        names = [self._safe_member(name) for name in members]

        def opener(member: str) -> Callable:
            class _Member:
                def __enter__(self):
                    self.archive = tarfile.open(source.path, "r:*")
                    self.fp = self.archive.extractfile(member)
                    return self.fp

                def __exit__(self, *exc):
                    self.fp.close()
                    self.archive.close()

            return _Member

        return [(name, opener(member)) for name, member in zip(names, members)]


def m3u8_segments(info: ObjectInfo) -> List[str]:
    """Keys of the segments a stored playlist references by relative path (absolute URLs skipped)."""
    base = posixpath.dirname(info.key)
    keys = []
    with open(info.path, "rb") as fp:
        text = fp.read(16 * 1024 * 1024).decode("utf-8", "replace")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "://" in line or line.startswith("/"):
            continue
        path = unquote(line.split("?", 1)[0])
        key = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
        if not key.startswith("../"):
            keys.append(key)
    return keys


def _guess_mime(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
