"""Downloads: ``GET|HEAD /<bucket>/<key>``, with ``Range``, ``If-Range`` and ``If-None-Match``.

No auth; ``op=imageInfo|exif|avinfo|avinfo2`` answers media information (:mod:`~wcs.emulator.api.media`),
other query parameters are ignored. The object is looked up and its file opened in one step of the store
(:meth:`Store.open`), and a version's bytes never change (an appendable object's file only grows past
them), so a download reads one whole version while the key is overwritten or appended to.

An Archive object that is not restored is refused (GET, HEAD and ``op``): 403 ``Invalid Object State``
saying to restore it (reference 6.12 says it cannot be downloaded; the code is the one ``converttype``
uses for the same state). Appendable objects carry their headers (:mod:`~wcs.emulator.api.objectview`).
"""

import re
from email.utils import formatdate
from typing import IO, Iterator, Optional, Tuple

from werkzeug.wrappers import Request, Response

from wcs.emulator.api import media, objectview
from wcs.emulator.api.context import Context
from wcs.emulator.api.wire import json_response
from wcs.emulator.errors import FileNotFound, InvalidObjectState, RangeNotSatisfiable, status_line
from wcs.emulator.state import now_ms

CHUNK = 256 * 1024

_RANGE_SPEC = re.compile(r"^(\d*)-(\d*)$")


class DownloadApi:
    """``download``."""

    endpoints = ("download",)

    def __init__(self, ctx: Context) -> None:
        self.store = ctx.store

    def download(self, request: Request, bucket: str, key: str) -> Response:
        self.store.require_bucket(bucket)
        opened = self.store.open(bucket, key)
        if opened is None:
            raise FileNotFound()
        info, fp = opened
        extra = self.store.extras.get(info)
        if not extra.readable(now_ms()):
            fp.close()
            raise InvalidObjectState("the object is in Archive storage and not restored: restore it first "
                                     "(POST /restore/<entry>/days/<n>), then download it")
        op = request.args.get("op")
        if op:
            with fp:
                return media.answer(op, info, fp)
        etag = '"%s"' % info.hash
        headers = {"ETag": etag, "Accept-Ranges": "bytes", "Last-Modified": _http_date(info.put_time)}
        headers.update(objectview.append_headers(info, extra, download=True))
        if request.headers.get("If-None-Match") == etag:
            fp.close()
            return Response(b"", status=status_line(304), headers=headers)
        start, stop, code = 0, info.fsize, 200
        range_header = request.headers.get("Range")
        if_range = request.headers.get("If-Range")
        if range_header and (if_range is None or if_range.strip() in (etag, headers["Last-Modified"])):
            try:
                span = byte_range(range_header, info.fsize)
            except RangeNotSatisfiable as exc:
                fp.close()
                response = json_response(exc.body(), exc.code)
                response.headers["Content-Range"] = "bytes */%d" % info.fsize
                return response
            if span is not None:
                start, stop = span
                code = 206
                headers["Content-Range"] = "bytes %d-%d/%d" % (start, stop - 1, info.fsize)
        headers["Content-Length"] = str(stop - start)
        response = Response(_file_range(fp, start, stop), status=status_line(code), headers=headers,
                            content_type=info.mime_type, direct_passthrough=True)
        response.call_on_close(fp.close)
        return response


def _position(digits: str) -> int:
    # A position past any object is all that matters about a very long number (and int() may refuse it).
    return int(digits) if len(digits) <= 20 else 1 << 80


def byte_range(header: str, length: int) -> Optional[Tuple[int, int]]:
    """``(start, stop)`` of the one byte range of a ``Range`` header (RFC 9110 section 14) for an object of
    ``length`` bytes, or None when the header is to be ignored (the whole object is sent with 200).

    Ignored: a unit other than ``bytes``, and a set of more than one range (allowed by the RFC: the
    emulator sends no ``multipart/byteranges``). ``first-`` runs to the end, ``first-last`` is cut at the
    end, ``-suffix`` longer than the object means all of it.

    Raises:
        RangeNotSatisfiable: the range is malformed (e.g. ``last < first``), starts at or after the end,
            is the empty suffix ``-0``, or the object is empty.
    """
    unit, sep, ranges = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in ranges.split(",") if spec.strip()]
    if len(specs) > 1:
        return None
    match = _RANGE_SPEC.match(specs[0]) if specs else None
    if match is None or match.group(1) == match.group(2) == "":
        raise RangeNotSatisfiable()
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        suffix = _position(last)
        if suffix == 0 or length == 0:
            raise RangeNotSatisfiable()
        return max(0, length - suffix), length
    start = _position(first)
    if last != "" and _position(last) < start:
        raise RangeNotSatisfiable()
    if start >= length:
        raise RangeNotSatisfiable()
    stop = length if last == "" else min(length, _position(last) + 1)
    return start, stop


def _file_range(fp: IO[bytes], start: int, stop: int) -> Iterator[bytes]:
    fp.seek(start)
    left = stop - start
    while left > 0:
        data = fp.read(min(CHUNK, left))
        if not data:
            break
        left -= len(data)
        yield data


def _http_date(ms: int) -> str:
    return formatdate(ms / 1000.0, usegmt=True)
