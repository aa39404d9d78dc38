"""Persistent processing (``/fops`` and a put policy's ``persistentOps``) on one stored object.

[INFERRED] ``decompression`` supports ``zip``, ``tar`` (any compression ``tarfile`` reads) and ``gzip``
(one member). Entries land under ``/dir/<bucket:dir>`` or, without it, at the root of the source bucket;
the ``saveas`` list file holds the extracted keys, one per line, and with ``force=0`` fails with
``The Persistent File Already Exists`` when it exists. ``7z`` and every media/image op fail as
unsupported: the emulator never reports success for work it did not do.
"""

import contextlib
import functools
import gzip
import posixpath
import shutil
import tarfile
import zipfile
from typing import IO, Any, Callable, ContextManager, Dict, Iterator, List, Optional, Tuple

from wcs.commons.fsutil import discard
from wcs.commons.util import urlsafe_base64_decode
from wcs.emulator.errors import FileNotFound, InvalidKey, PersistentFileExists
from wcs.emulator.jobs.outputs import COPY_CHUNK, Outputs
from wcs.emulator.jobs.params import OpFailed, b64_param, join_key, pairs, split_entry
from wcs.emulator.state import ObjectInfo, guess_mime, validate_key

_UNSUPPORTED = {
    "ffmpeg": ("avthumb", "vframe", "vsample", "avconcat", "avwatermark", "avinfo", "avinfo2", "adapt",
               "transcode", "audiowave", "avsmart", "avclip", "concat", "hls"),
    "imagemagick": ("imageView", "imageView2", "imageMogr2", "imageMogr", "watermark", "imageInfo",
                    "exif", "imageAve", "imageslim"),
    "content moderation service": ("imagePorn", "imageTerror", "imagePolitician", "videoPorn",
                                   "contentDetect"),
}

Opener = Callable[[], ContextManager[Any]]
"""Opens one member of an archive as a readable binary file (a ``GzipFile`` is not an ``IO`` to mypy)."""


class Fops:
    """The processing operations, writing through ``outputs``."""

    def __init__(self, outputs: Outputs) -> None:
        self.out = outputs
        self.store = outputs.store

    def run(self, cmd: str, bucket: str, key: str, force: bool) -> Dict[str, Any]:
        """Do one operation ``cmd`` (``name/params...|saveas/<b64 bucket:key>``) on ``bucket``/``key``."""
        main, *pipes = cmd.split("|")
        segments = main.split("/")
        name = segments[0]
        saveas = None
        for pipe in pipes:
            pipe_parts = pipe.split("/")
            if pipe_parts[0] == "saveas" and len(pipe_parts) > 1:
                try:
                    saveas = split_entry(urlsafe_base64_decode(pipe_parts[1]).decode("utf-8"))
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
        params = pairs(segments[2:])
        source = self.store.get(bucket, key)
        if source is None:
            raise FileNotFound(key)
        out_bucket, out_dir = bucket, ""
        if "dir" in params:
            out_bucket, _, out_dir = b64_param(params, "dir").partition(":")
        self.out.need_bucket(out_bucket)
        if saveas:
            self.out.need_bucket(saveas[0])
            if not force and self.store.exists(*saveas):
                raise PersistentFileExists(saveas[1])
        entries = _archive_entries(fmt, source)
        detail = []
        for name, opener in entries:
            out_key = join_key(out_dir.strip("/") if out_dir else "", name)
            temp = self.out.temp_path()
            try:
                try:
                    with opener() as src, open(temp, "wb") as dst:
                        shutil.copyfileobj(src, dst, COPY_CHUNK)
                except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
                    raise OpFailed("cannot extract %s: %s" % (name, exc)) from None
                info = self.out.store_temp(temp, out_bucket, out_key, guess_mime(out_key), True)
            finally:
                discard(temp)
            detail.append(self.out.result(info))
        result: Dict[str, Any] = {"detail": detail}
        if saveas:
            listing = "".join(item["key"] + "\n" for item in detail)
            result.update(self.out.result(self.out.write_text(saveas[0], saveas[1], listing, force,
                                                              PersistentFileExists)))
        return result


def _archive_entries(fmt: str, source: ObjectInfo) -> List[Tuple[str, Opener]]:
    """``(key below the target folder, opener)`` of every file in the archive ``source``."""
    if fmt == "zip":
        return _zip_entries(source)
    if fmt == "tar":
        return _tar_entries(source)
    if fmt == "gzip":
        base = posixpath.basename(source.key)
        name = base[:-3] if base.endswith(".gz") else base + ".out"
        return [(name, functools.partial(gzip.open, source.path, "rb"))]
    if fmt == "7z":
        raise OpFailed("decompression/7z is not supported by the emulator (no 7z)")
    raise OpFailed("decompression format %r is unknown (zip, tar, gzip, 7z)" % fmt)


def _safe_member(name: str) -> str:
    clean = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
    if clean in ("", ".") or clean.startswith("../") or clean == "..":
        raise OpFailed("archive member %r escapes the target directory" % name)
    try:
        validate_key(clean)
    except InvalidKey as exc:
        raise OpFailed("archive member %r: %s" % (name, exc.message)) from None
    return clean


def _zip_entries(source: ObjectInfo) -> List[Tuple[str, Opener]]:
    try:
        with zipfile.ZipFile(source.path) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise OpFailed("%s is not a zip archive: %s" % (source.key, exc)) from None
    return [(_safe_member(info.filename), functools.partial(_zip_member, source.path, info.filename))
            for info in infos]


def _tar_entries(source: ObjectInfo) -> List[Tuple[str, Opener]]:
    try:
        with tarfile.open(source.path, "r:*") as archive:
            members = [m.name for m in archive.getmembers() if m.isfile()]
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise OpFailed("%s is not a tar archive: %s" % (source.key, exc)) from None
    return [(_safe_member(name), functools.partial(_tar_member, source.path, name)) for name in members]


@contextlib.contextmanager
def _zip_member(path: str, member: str) -> Iterator[IO[bytes]]:
    # Each member opens the archive again: entries are extracted one at a time, after the listing.
    with zipfile.ZipFile(path) as archive, archive.open(member) as fp:
        yield fp


@contextlib.contextmanager
def _tar_member(path: str, member: str) -> Iterator[IO[bytes]]:
    with tarfile.open(path, "r:*") as archive:
        fp = archive.extractfile(member)
        if fp is None:  # listed as a regular file a moment ago
            raise tarfile.TarError("%s is not a regular file" % member)
        with fp:
            yield fp
