"""Server-side checks of upload and management tokens, exactly as the service signs them (reference 2).

Every failure is a 401 :class:`~wcs.emulator.errors.Unauthorized` subclass. Signatures are recomputed with
:func:`wcs.commons.auth.encode_sign` and compared in constant time.
"""

import hmac
import json
from typing import Any, Dict, Optional, Tuple

from wcs.commons.auth import encode_sign, manager_signing_string
from wcs.commons.util import urlsafe_base64_decode
from wcs.emulator.errors import (
    AkSkNotFound,
    AuthRequired,
    ExpireTimeNull,
    TokenExpired,
    TokenFormatInvalid,
    TokenInvalid,
)
from wcs.emulator.state.model import now_ms

_INT_FIELDS = ("overwrite", "fsizeLimit", "separate", "instant")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def coerce_int(value: Any, name: str) -> int:
    """Policy numbers arrive as numbers, numeric strings (java) or floats with ``.0`` (php).

    Anything else, including infinities and NaN (``Infinity``, ``"1e400"``, ``1e999``), is a malformed
    token: 401 ``Token Format Invalid`` like every other token problem.
    """
    try:
        if isinstance(value, str):
            value = value.strip()
            return int(float(value)) if "." in value or "e" in value.lower() else int(value)
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise TokenFormatInvalid("%s is not a finite number" % name) from None


def verify_upload_token(token: Optional[str], access_key: str, secret_key: str,
                        now: Optional[int] = None) -> Dict[str, Any]:
    """Check an upload token (bare or ``UpToken ``-prefixed) and return its normalised put policy.

    Numeric fields (``deadline``, ``overwrite``, ``fsizeLimit``, ``separate``) are converted to int.
    """
    if not token or not token.strip():
        raise AuthRequired()
    token = token.strip()
    if token[:8].lower() == "uptoken ":
        token = token[8:].strip()
    parts = token.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise TokenFormatInvalid()
    ak, sign, encoded = parts
    if not _same(ak, access_key):
        raise AkSkNotFound()
    if not _same(sign, encode_sign(secret_key, encoded)):
        raise TokenInvalid()
    try:
        policy = json.loads(urlsafe_base64_decode(encoded).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise TokenFormatInvalid() from None
    if not isinstance(policy, dict):
        raise TokenFormatInvalid()
    if policy.get("deadline") in (None, ""):
        raise ExpireTimeNull()
    policy["deadline"] = coerce_int(policy["deadline"], "deadline")
    if policy["deadline"] < (now_ms() if now is None else now):
        raise TokenExpired()
    for name in _INT_FIELDS:
        if policy.get(name) not in (None, ""):
            policy[name] = coerce_int(policy[name], name)
        else:
            policy.pop(name, None)
    scope = policy.get("scope")
    if not isinstance(scope, str) or not scope or scope.startswith(":"):
        raise TokenFormatInvalid("scope is missing")
    return policy


def split_scope(policy: Dict[str, Any]) -> Tuple[str, Optional[str]]:
    """``(bucket, key or None)`` of a policy's ``scope``."""
    bucket, sep, key = policy["scope"].partition(":")
    return bucket, (key if sep and key else None)


def verify_manager_token(authorization: Optional[str], access_key: str, secret_key: str,
                         raw_path: str, raw_query: str, body: bytes) -> None:
    """Check ``Authorization: AK:sign(path[?query]\\n[body])`` over the raw request target and body.

    ``raw_path`` and ``raw_query`` are the target exactly as sent: like the service (reference 2.5), a
    signature over a percent-decoded (or otherwise re-encoded) form of it is refused.
    """
    if not authorization or not authorization.strip():
        raise AuthRequired()
    value = authorization.strip()
    ak, sep, sign = value.partition(":")
    if not sep or not ak or not sign:
        raise TokenFormatInvalid()
    if not _same(ak, access_key):
        raise AkSkNotFound()
    if not _same(sign, encode_sign(secret_key, manager_signing_string(raw_path, raw_query, body))):
        raise TokenInvalid()
