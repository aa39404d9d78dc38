"""The wire encodings every endpoint family reads and answers in, and the draining of refused bodies.

``k=v&`` management bodies, URL-safe Base64 parameters and ``EncodedEntryURI`` values, bounded numbers,
the raw request target management tokens sign, and JSON answers. Every malformed value is a 400
:class:`~wcs.emulator.errors.BadRequest` that says which parameter is wrong.
"""

import json
import logging
from typing import Any, Dict, Optional, Tuple
from urllib.parse import quote, unquote, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from wcs.commons.util import urlsafe_base64_decode
from wcs.emulator.errors import BadRequest, MissingParameter, status_line
from wcs.emulator.state import DAY_MS, MAX_RETENTION_DAYS, now_ms

logger = logging.getLogger(__name__)

DRAIN_LIMIT = 64 * 1024 * 1024
"""Most of a refused request's body that is read (and dropped) so that its client sees the answer."""
INT64_MAX = (1 << 63) - 1
"""Bound of numbers that are only compared (list times, wslive paging): a Java ``long``."""
_MAX_DIGITS = 32
"""Longer numbers are refused before ``int()`` (which is quadratic and, from Python 3.11, limited)."""


def json_response(obj: Any, code: int = 200) -> Response:
    body = json.dumps(obj).encode("utf-8")
    return Response(body, status=status_line(code), content_type="application/json")


def drain(request: Request) -> None:
    """Read what is left of a request body (up to :data:`DRAIN_LIMIT`) so the client sees the answer,
    not a reset."""
    if request.method in ("GET", "HEAD"):
        return
    try:
        left = DRAIN_LIMIT
        while left > 0:
            data = request.stream.read(min(left, 1024 * 1024))
            if not data:
                break
            left -= len(data)
    except (OSError, ValueError, HTTPException) as exc:  # HTTPException: ClientDisconnected
        logger.debug("%s %s: body not drained: %r", request.method, request.path, exc)


def parse_kv(body: bytes) -> Dict[str, str]:
    """``k=v&k=v`` split on ``&`` only and on the first ``=``, whatever the Content-Type (ref 1.4)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("request body is not UTF-8") from None
    result = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        # Base64 never contains '%'; a '%' means a client form-encoded the value (e.g. '=' as %3D).
        result[name.strip()] = unquote(value) if "%" in value else value
    return result


def b64_text(value: Optional[str], what: str) -> str:
    """The text a required URL-safe Base64 parameter ``what`` encodes."""
    if value is None or value == "":
        raise MissingParameter(what)
    try:
        return urlsafe_base64_decode(value).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("%s is not URL-safe Base64 of UTF-8 text" % what) from None


def decode_entry(value: str) -> Tuple[str, str]:
    """EncodeEntryURI -> ``(bucket, key)``."""
    text = b64_text(value, "EncodedEntryURI")
    bucket, sep, key = text.partition(":")
    if not sep or not bucket or not key:
        raise BadRequest("EncodedEntryURI must encode bucket:key")
    return bucket, key


def bounded_int(value: Any, name: str, low: int, high: int, kind: str = "an integer") -> int:
    """``value`` (text) as an int in ``low..high``, else a 400 saying ``name must be <kind>``."""
    text = str(value).strip()
    try:
        if len(text) > _MAX_DIGITS:
            raise ValueError(text)
        number = int(text)
    except ValueError:
        raise BadRequest("%s must be %s" % (name, kind)) from None
    if not low <= number <= high:
        raise BadRequest("%s must lie in %d..%d" % (name, low, high))
    return number


def int_arg(args: Any, name: str, low: int, high: int = INT64_MAX) -> Optional[int]:
    """Query argument ``name`` as a bounded int; None when it is absent or empty."""
    value = args.get(name, "")
    if value == "":
        return None
    return bounded_int(value, name, low, high)


def flag(form: Dict[str, str], name: str) -> bool:
    """A ``0``/``1`` body field (absent or empty: 0)."""
    value = form.get(name, "0").strip() or "0"
    if value not in ("0", "1"):
        raise BadRequest("%s must be 0 or 1" % name)
    return value == "1"


def retention(days_text: Optional[str], what: str) -> Optional[int]:
    """Expiry (epoch ms) for a retention of ``days_text`` days from now; None when not given."""
    if days_text is None or str(days_text).strip() == "":
        return None
    days = bounded_int(days_text, what, 0, MAX_RETENTION_DAYS, "a whole number of days")
    return now_ms() + days * DAY_MS


def raw_target(environ: Dict[str, Any]) -> Tuple[str, str]:
    """``(path, query)`` of the request target exactly as the client sent it (what management tokens sign).

    The emulator's server (like werkzeug's and gunicorn's) gives it as ``RAW_URI`` / ``REQUEST_URI``; only a
    server that gives neither makes this fall back to ``PATH_INFO`` quoted again (which may differ from what
    was sent) and ``QUERY_STRING``.
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if "://" in raw.split("?", 1)[0]:  # absolute-form request target
            parts = urlsplit(raw)
            raw = parts.path + ("?" + parts.query if parts.query else "")
        path, _, query = raw.partition("?")
    else:
        # WSGI strings carry the bytes as latin-1; quote() encodes them back as the same bytes.
        path = quote((environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1"),
                     safe="/!$&'()*+,;=:@")
        query = environ.get("QUERY_STRING", "")
    # Tokens sign the text as UTF-8: turn the latin-1 transport form back into the characters sent.
    return (path.encode("latin-1").decode("utf-8", "replace"),
            query.encode("latin-1").decode("utf-8", "replace"))
