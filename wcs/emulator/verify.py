"""Server-side checks of upload and management tokens, exactly as the service signs them (reference 2).

Every failure is a 401 :class:`~wcs.emulator.errors.Unauthorized` subclass. Signatures are recomputed with
:func:`wcs.commons.auth.encode_sign` and compared in constant time, with the algorithm the request's
``encryption-type`` header names: none, ``SHA-1`` (or ``SHA1``, any case) for HMAC-SHA1, ``SM3`` for HMAC-SM3
(the vendor's Java SDK sends it on every request, upload steps included). A signature made with the other
algorithm than the header says is ``Token Invalid``, as is a header naming another algorithm.
"""

import hmac
import json
from typing import Any, Dict, Optional, Tuple, Union

from wcs.commons.auth import encode_sign, encryption_type_of, manager_signing_string
from wcs.commons.errors import ConfigError, InvalidArgument
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


def _signs(sign: str, secret_key: str, data: Union[str, bytes], encryption_type: Optional[str]) -> bool:
    """Whether ``sign`` is the signature of ``data`` with the algorithm the ``encryption-type`` header names."""
    try:
        algorithm = encryption_type_of(encryption_type)
    except InvalidArgument:
        raise TokenInvalid("encryption-type %r is neither SHA-1 nor SM3" % encryption_type) from None
    try:
        expected = encode_sign(secret_key, data, algorithm)
    except ConfigError as exc:  # this emulator's Python cannot compute SM3
        raise TokenInvalid("the emulator cannot verify %s here: %s" % (algorithm, exc)) from None
    return _same(sign, expected)


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
                        now: Optional[int] = None, encryption_type: Optional[str] = None) -> Dict[str, Any]:
    """Check an upload token (bare or ``UpToken ``-prefixed) and return its normalised put policy.

    ``encryption_type`` is the request's ``encryption-type`` header (None: HMAC-SHA1). Numeric fields
    (``deadline``, ``overwrite``, ``fsizeLimit``, ``separate``) are converted to int.
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
    if not _signs(sign, secret_key, encoded, encryption_type):
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
                         raw_path: str, raw_query: str, body: bytes, encryption_type: Optional[str] = None) -> None:
    """Check ``Authorization: AK:sign(path[?query]\\n[body])`` over the raw request target and body.

    ``raw_path`` and ``raw_query`` are the target exactly as sent: like the service (reference 2.5), a
    signature over a percent-decoded (or otherwise re-encoded) form of it is refused. ``encryption_type``
    is the request's ``encryption-type`` header (None: HMAC-SHA1).
    """
    if not authorization or not authorization.strip():
        raise AuthRequired()
    value = authorization.strip()
    ak, sep, sign = value.partition(":")
    if not sep or not ak or not sign:
        raise TokenFormatInvalid()
    if not _same(ak, access_key):
        raise AkSkNotFound()
    if not _signs(sign, secret_key, manager_signing_string(raw_path, raw_query, body), encryption_type):
        raise TokenInvalid()
