"""How a job operation fails, and how its ``name/value/name/value`` parameters are read.

An operation that cannot be done raises :class:`OpFailed` (or the :class:`~wcs.emulator.errors.ApiError`
the API would answer for the same reason); its message becomes the failed item's ``desc`` and ``error``.
"""

from typing import Dict, List, Optional, Tuple

from wcs.commons.util import urlsafe_base64_decode
from wcs.emulator.state import DAY_MS, MAX_RETENTION_DAYS, now_ms


class OpFailed(Exception):
    """One operation of a job failed; the message becomes the item's ``desc``/``error``."""


def pairs(segments: List[str]) -> Dict[str, str]:
    """``["bucket", "YQ==", "key", "Yg=="]`` -> ``{"bucket": "YQ==", "key": "Yg=="}``."""
    return {segments[i]: segments[i + 1] for i in range(0, len(segments) - 1, 2)}


def b64_param(params: Dict[str, str], name: str, *aliases: str) -> str:
    """The URL-safe Base64 parameter ``name`` (or an alias), decoded; it must be there."""
    value = b64_optional(params, name, *aliases)
    if value is None:
        raise OpFailed("parameter %s is missing" % name)
    return value


def b64_optional(params: Dict[str, str], name: str, *aliases: str) -> Optional[str]:
    """Like :func:`b64_param`, None when neither ``name`` nor an alias is given."""
    for candidate in (name,) + aliases:
        if candidate in params:
            try:
                return urlsafe_base64_decode(params[candidate]).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise OpFailed("parameter %s is not URL-safe Base64" % candidate) from None
    return None


def split_entry(text: str) -> Tuple[str, str]:
    """``"bucket:key"`` -> ``(bucket, key)``."""
    bucket, sep, key = text.partition(":")
    if not sep or not bucket or not key:
        raise OpFailed("%r is not bucket:key" % text)
    return bucket, key


def join_key(prefix: Optional[str], key: str) -> str:
    """``key`` under the folder ``prefix`` (a ``/`` added when it lacks one)."""
    if not prefix:
        return key
    return prefix + key if prefix.endswith("/") else prefix + "/" + key


def days_to_expiry(days_text: str) -> Optional[int]:
    """Expiry (epoch ms) for a retention of ``days_text`` days from now; None for -1 (keep forever)."""
    try:
        if len(str(days_text)) > 32:
            raise ValueError(days_text)
        days = int(days_text)
    except (TypeError, ValueError):
        raise OpFailed("deadline %r is not an integer" % (str(days_text)[:40],)) from None
    if not -1 <= days <= MAX_RETENTION_DAYS:
        raise OpFailed("deadline must lie in -1..%d" % MAX_RETENTION_DAYS)
    return None if days == -1 else now_ms() + days * DAY_MS
