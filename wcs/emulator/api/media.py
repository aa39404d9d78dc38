"""Media information on the download URL, no auth (reference 7.5, last line): ``GET /<bucket>/<key>?op=``
``imageInfo``, ``exif``, ``avinfo``, ``avinfo2``.

Images are decoded by Pillow (an extra of the emulator; only the headers are read), audio and video by
``ffprobe`` when one is on ``PATH``. Without them the emulator still runs and these ops answer 400
saying what to install. Every shape below is reference: unknown, chosen (also in ``docs/emulator.md``):

* ``imageInfo``: ``{"format": "png", "width": 640, "height": 480, "colorModel": "rgb", "size": <bytes>}``;
  ``format`` is Pillow's format name in lower case, ``colorModel`` comes from :data:`COLOR_MODELS`.
* ``exif``: ``{"<tag name>": {"val": "<text>", "type": <EXIF type code>}, ...}`` for the tags of the
  image's first IFD and its Exif IFD; the type is 2 (ASCII) for text, 3 (SHORT) or 4 (LONG) for
  whole numbers, 5 (RATIONAL) for fractions (``val`` then ``n/d``), 7 (UNDEFINED) for bytes (``val``:
  ASCII text when printable, else hex). An image without EXIF data is 400 ``no EXIF data``.
* ``avinfo`` and ``avinfo2``: ``{"streams": [...], "format": {...}}`` with the fields of
  ``ffprobe -show_streams -show_format`` listed in :data:`STREAM_FIELDS` / :data:`FORMAT_FIELDS`
  (the shape the vendor's Java SDK reads); ffprobe runs at most :data:`PROBE_TIMEOUT_S` seconds (503).
* An object Pillow (or ffprobe) cannot read is 400 ``Not A Media File``; an unknown ``op`` is 400.
"""

import io
import json
import os
import shutil
import subprocess
from typing import IO, Any, Dict, Optional

from werkzeug.wrappers import Response

from wcs.emulator.api.wire import json_response
from wcs.emulator.errors import BadRequest, MediaOpUnavailable, NotAMediaFile, ServiceUnavailable
from wcs.emulator.state import ObjectInfo

OPS = ("imageInfo", "exif", "avinfo", "avinfo2")
PROBE_TIMEOUT_S = 20.0
COLOR_MODELS = {"1": "bilevel", "L": "gray", "LA": "graya", "P": "palette", "PA": "palettea", "RGB": "rgb",
                "RGBA": "rgba", "RGBX": "rgbx", "CMYK": "cmyk", "YCbCr": "ycbcr", "LAB": "lab", "HSV": "hsv",
                "I": "gray32", "I;16": "gray16", "F": "gray32f"}
"""Pillow's mode -> ``colorModel``; another mode is shown in lower case."""
STREAM_FIELDS = ("index", "codec_name", "codec_long_name", "profile", "codec_type", "codec_tag_string",
                 "codec_tag", "width", "height", "has_b_frames", "sample_aspect_ratio", "display_aspect_ratio",
                 "pix_fmt", "level", "sample_fmt", "sample_rate", "channels", "channel_layout",
                 "r_frame_rate", "avg_frame_rate", "time_base", "start_pts", "start_time", "duration_ts",
                 "duration", "bit_rate", "nb_frames", "disposition", "tags")
FORMAT_FIELDS = ("nb_streams", "nb_programs", "format_name", "format_long_name", "start_time", "duration",
                 "size", "bit_rate", "probe_score", "tags")
_EXIF_IFD = 0x8769


def _pillow() -> Any:
    """``PIL.Image``, or None when Pillow is not installed."""
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


class _Window(io.RawIOBase):
    """The first ``size`` bytes of an open file: what a reader of the version sees (an appendable
    object's file may hold bytes of an append in progress past them)."""

    def __init__(self, fp: IO[bytes], size: int) -> None:
        super().__init__()
        self._fp = fp
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self._size - self._pos))
        if not count:
            return 0
        self._fp.seek(self._pos)
        data = self._fp.read(count)
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)


def answer(op: str, info: ObjectInfo, fp: IO[bytes]) -> Response:
    """The answer to ``?op=<op>`` for the object ``info`` whose file is ``fp`` (closed by the caller)."""
    if op in ("imageInfo", "exif"):
        image_module = _pillow()
        if image_module is None:
            raise MediaOpUnavailable("op=%s needs Pillow, which is not installed here: pip install Pillow "
                                     "(it comes with the emulator extra)" % op)
        window = io.BufferedReader(_Window(fp, info.fsize))
        try:
            image = image_module.open(window)
        except Exception as exc:  # Pillow raises several kinds for what it cannot read
            raise NotAMediaFile("%s: %s" % (type(exc).__name__, exc)) from None
        with image:
            return json_response(_image_info(image, info) if op == "imageInfo" else _exif(image))
    if op in ("avinfo", "avinfo2"):
        return json_response(_avinfo(op, info, fp))
    raise BadRequest("op=%s is not supported (known: %s)" % (op[:40], ", ".join(OPS)))


def _image_info(image: Any, info: ObjectInfo) -> Dict[str, Any]:
    width, height = image.size
    return {"format": (image.format or "").lower(), "width": width, "height": height,
            "colorModel": COLOR_MODELS.get(image.mode, image.mode.lower()), "size": info.fsize}


def _exif(image: Any) -> Dict[str, Any]:
    from PIL import ExifTags

    exif = image.getexif()
    tags = dict(exif)
    tags.pop(_EXIF_IFD, None)
    try:
        tags.update(exif.get_ifd(_EXIF_IFD))
    except Exception:  # a broken Exif IFD: the first IFD is still worth answering
        pass
    if not tags:
        raise BadRequest("no EXIF data in this image")
    return {ExifTags.TAGS.get(tag, "Tag%04X" % tag): _exif_value(value) for tag, value in sorted(tags.items())}


def _exif_value(value: Any) -> Dict[str, Any]:
    if isinstance(value, str):
        return {"val": value.rstrip("\x00"), "type": 2}
    if isinstance(value, bytes):
        text = value.rstrip(b"\x00")
        shown = text.decode("ascii") if text.isascii() and text.decode("ascii").isprintable() else value.hex()
        return {"val": shown, "type": 7}
    if isinstance(value, tuple):
        parts = [_exif_value(item) for item in value]
        return {"val": ", ".join(part["val"] for part in parts), "type": parts[0]["type"] if parts else 7}
    if isinstance(value, int):
        return {"val": str(value), "type": 3 if 0 <= value < 65536 else 4}
    numerator = getattr(value, "numerator", None)
    denominator = getattr(value, "denominator", None)
    if numerator is not None and denominator is not None:
        return {"val": "%d/%d" % (numerator, denominator), "type": 5}
    return {"val": str(value), "type": 7}


def _ffprobe() -> Optional[str]:
    return shutil.which("ffprobe")


def _avinfo(op: str, info: ObjectInfo, fp: IO[bytes]) -> Dict[str, Any]:
    probe = _ffprobe()
    if probe is None:
        raise MediaOpUnavailable("op=%s needs ffprobe (FFmpeg), which is not on PATH here" % op)
    # The open file itself, seekable, as /dev/stdin: the key may be replaced while ffprobe runs.
    source = "/dev/stdin" if os.name == "posix" else info.path
    fp.seek(0)
    try:
        done = subprocess.run([probe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                               "-i", source], stdin=fp, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ServiceUnavailable("ffprobe took longer than %g s" % PROBE_TIMEOUT_S) from None
    try:
        probed = json.loads(done.stdout.decode("utf-8", "replace") or "{}")
    except ValueError:
        probed = {}
    if done.returncode != 0 or not probed.get("streams"):
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise NotAMediaFile(reason[-1] if reason else "ffprobe found no stream")
    streams = [{name: stream[name] for name in STREAM_FIELDS if name in stream} for stream in probed["streams"]]
    fmt = probed.get("format", {})
    result_format = {name: fmt[name] for name in FORMAT_FIELDS if name in fmt}
    result_format["size"] = str(info.fsize)  # the version's size, whatever a growing file says
    return {"streams": streams, "format": result_format}
