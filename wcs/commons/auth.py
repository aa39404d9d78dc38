"""Token signing: upload tokens, management tokens and the signatures WCS puts on its callbacks.

Everything here is pure: no I/O, and the clock is a parameter (``now_ms``) so vectors are exact.

Two signing algorithms (the *encryption type*, as the vendor's Java SDK 2.0.11 calls it): HMAC-SHA1,
the default of every official SDK, and HMAC-SM3. Both sign the same strings the same way, hex digest
then URL-safe Base64 (an SM3 signature is 64 hex characters, 88 once encoded, against 40 and 56); a
request signed with SM3 says so in the header ``encryption-type: SM3`` (:meth:`Auth.headers`), sent
with every request, upload steps included, and the service verifies the token with the algorithm
that header names (no header, or ``SHA-1``: HMAC-SHA1). SM3 comes from the interpreter's OpenSSL
(``hmac.new(key, msg, "sm3")``, OpenSSL 1.1.1 and later) or, where that has none, from the pure
Python ``gmssl`` package (the ``sm3`` extra); with neither, asking for SM3 is a
:class:`~wcs.commons.errors.ConfigError`. The signatures WCS puts on its own callbacks stay
HMAC-SHA1 (:func:`callback_signature`): nothing documents another algorithm for them.
"""

import hashlib
import hmac
import json
import time
from importlib import import_module
from typing import Any, Dict, Mapping, Optional, Union
from urllib.parse import urlsplit

from wcs.commons.errors import ConfigError, InvalidArgument
from wcs.commons.settings import TOKEN_LIFETIME_S
from wcs.commons.util import urlsafe_base64_decode, urlsafe_base64_encode

DEFAULT_TOKEN_LIFETIME_S = TOKEN_LIFETIME_S

SHA1 = "SHA-1"
SM3 = "SM3"
ENCRYPTION_TYPES = (SHA1, SM3)
ENCRYPTION_TYPE_HEADER = "encryption-type"
# The header values the Java SDK sends ("SHA-1", "SM3") and the names of its enum ("SHA1", "SM3").
_NAMES = {"SHA-1": SHA1, "SHA1": SHA1, "SM3": SM3}


def encryption_type_of(value: Optional[str]) -> str:
    """The canonical name, ``"SHA-1"`` or ``"SM3"``, of a signing algorithm given in any case.

    ``"SHA1"`` is ``"SHA-1"``; None and ``""`` mean the default, ``"SHA-1"``.

    Raises:
        InvalidArgument: another name.
    """
    if value is None or not str(value).strip():
        return SHA1
    found = _NAMES.get(str(value).strip().upper())
    if found is None:
        raise InvalidArgument("encryption_type must be SHA-1 or SM3, got %r" % (value,))
    return found


class _GmsslSm3:
    """A hashlib-style SM3 object over gmssl's pure-Python function, for ``hmac`` (short messages only:
    it keeps what it is given and hashes it at the end)."""

    name = "sm3"
    digest_size = 32
    block_size = 64

    def __init__(self, data: bytes = b"") -> None:
        self._data = bytearray(data)

    def update(self, data: bytes) -> None:
        self._data += data

    def copy(self) -> "_GmsslSm3":
        return _GmsslSm3(bytes(self._data))

    def hexdigest(self) -> str:
        return str(import_module("gmssl.sm3").sm3_hash(list(self._data)))

    def digest(self) -> bytes:
        return bytes.fromhex(self.hexdigest())


def openssl_has_sm3() -> bool:
    """Whether the interpreter's OpenSSL computes SM3 (not in builds without it, nor in FIPS mode)."""
    try:
        hashlib.new("sm3")
    except ValueError:
        return False
    return True


def sm3_digestmod() -> Any:
    """What ``hmac.new`` takes for SM3: ``"sm3"`` (OpenSSL), else gmssl's SM3.

    Raises:
        ConfigError: neither is available.
    """
    if openssl_has_sm3():
        return "sm3"
    try:
        import_module("gmssl.sm3")
    except ImportError:
        raise ConfigError("SM3 signing needs an OpenSSL with SM3 or the gmssl package, and this Python has "
                          "neither: pip install 'wcs-storage-sdk[sm3]' (or gmssl)", key="encryption_type") from None
    return _GmsslSm3


def encode_sign(secret_key: str, data: Union[str, bytes], encryption_type: str = SHA1) -> str:
    """``urlsafe_b64(hex(HMAC(sk, data)))`` with SHA-1 or SM3: WCS signs the hex digest, not the raw one.

    Raises:
        InvalidArgument: ``encryption_type`` is neither ``"SHA-1"`` nor ``"SM3"``.
        ConfigError: SM3 is asked for and not available (see :func:`sm3_digestmod`).
    """
    msg = data.encode("utf-8") if isinstance(data, str) else data
    if encryption_type_of(encryption_type) == SM3:
        digest = hmac.new(secret_key.encode("utf-8"), msg, sm3_digestmod()).hexdigest()
    else:
        digest = hmac.digest(secret_key.encode("utf-8"), msg, "sha1").hex()  # OpenSSL's one-shot HMAC
    return urlsafe_base64_encode(digest)


def upload_token_from_encoded(access_key: str, secret_key: str, encoded_policy: str,
                              encryption_type: str = SHA1) -> str:
    """``AK:sign(encodedPolicy):encodedPolicy`` for an already Base64-encoded policy."""
    return "%s:%s:%s" % (access_key, encode_sign(secret_key, encoded_policy, encryption_type), encoded_policy)


def manager_signing_string(path: str, query: str = "", body: Union[str, bytes, None] = None) -> bytes:
    """``path[?query]\\n[body]`` over the exact bytes sent on the wire."""
    head = path + ("?" + query if query else "") + "\n"
    if not body:
        return head.encode("utf-8")
    return head.encode("utf-8") + (body.encode("utf-8") if isinstance(body, str) else bytes(body))


def upload_token_policy(token: str) -> Dict[str, Any]:
    """The put policy an upload token carries (its third part), or ``{}`` when it is not readable."""
    try:
        policy = json.loads(urlsafe_base64_decode(token.split(":")[2]).decode("utf-8"))
    except (IndexError, ValueError, UnicodeDecodeError, AttributeError):
        return {}
    return policy if isinstance(policy, dict) else {}


def callback_signature(access_key: str, secret_key: str, url: str, body: Union[str, bytes]) -> str:
    """``Authorization`` value WCS puts on notification/callback POSTs: ``AK:sign(url + "\\n" + body)``."""
    msg = url.encode("utf-8") + b"\n" + (body.encode("utf-8") if isinstance(body, str) else bytes(body))
    return "%s:%s" % (access_key, encode_sign(secret_key, msg))


class Auth:
    """Signs requests for one access key / secret key pair.

    Args:
        access_key, secret_key: the key pair.
        encryption_type: ``"SHA-1"`` (default: HMAC-SHA1, as every official SDK) or ``"SM3"``
            (HMAC-SM3; every request then carries :meth:`headers`).

    Raises:
        InvalidArgument: a key is empty, or ``encryption_type`` is another name.
        ConfigError: SM3 is asked for and this Python cannot compute it (see :func:`sm3_digestmod`).
    """

    def __init__(self, access_key: str, secret_key: str, encryption_type: Optional[str] = None) -> None:
        if not access_key or not secret_key:
            raise InvalidArgument("access_key and secret_key must both be set")
        self.access_key = access_key
        self.secret_key = secret_key
        self.encryption_type = encryption_type_of(encryption_type)
        if self.encryption_type == SM3:
            sm3_digestmod()  # fails here, not at the first request

    @staticmethod
    def checkKey(access_key: str, secret_key: str) -> None:
        """Raise unless both keys are set (the official check).

        Raises:
            InvalidArgument: one of them is empty (a ValueError, as in the official SDK).
        """
        if not (access_key and secret_key):
            raise InvalidArgument("invalid key: access_key and secret_key must both be set")

    def __repr__(self) -> str:
        # Never show the secret, not even in a traceback.
        shown = "" if self.encryption_type == SHA1 else ", encryption_type=%r" % self.encryption_type
        return "Auth(access_key=%r, secret_key=<hidden>%s)" % (self.access_key, shown)

    def headers(self) -> Dict[str, str]:
        """Headers every request signed by this object carries: ``encryption-type: SM3`` with SM3.

        None with SHA-1, the default, so requests stay byte for byte those of the official Python SDK
        (the Java SDK sends ``encryption-type: SHA-1`` then; the service reads both the same way).
        """
        return {ENCRYPTION_TYPE_HEADER: SM3} if self.encryption_type == SM3 else {}

    def uploadtoken(self, putPolicy: Mapping[str, Any], now_ms: Optional[int] = None) -> str:
        """Upload token for a put policy.

        As in the official SDK, the policy's ``deadline`` is a lifetime in seconds from now (default
        :data:`~wcs.commons.settings.TOKEN_LIFETIME_S`) and is sent as an absolute epoch in
        milliseconds. The caller's mapping is not modified.
        """
        policy = dict(putPolicy)
        # Whole seconds, as the official SDK: the same policy at the same second signs identically.
        now_ms = int(time.time()) * 1000 if now_ms is None else int(now_ms)
        lifetime = policy.get("deadline")
        lifetime = DEFAULT_TOKEN_LIFETIME_S if lifetime in (None, "") else int(lifetime)
        policy["deadline"] = now_ms + lifetime * 1000
        return self.uploadtoken_raw(json.dumps(policy))

    def uploadtoken_raw(self, policy_json: str) -> str:
        """Upload token for a policy serialised exactly as given (no deadline added)."""
        return upload_token_from_encoded(self.access_key, self.secret_key, urlsafe_base64_encode(policy_json),
                                         self.encryption_type)

    def managertoken(self, url: str, body: Union[str, bytes, None] = None) -> str:
        """Management token for a request to ``url`` (scheme and host are not signed) with ``body``."""
        parts = urlsplit(url)
        signing_string = manager_signing_string(parts.path, parts.query, body)
        return "%s:%s" % (self.access_key, encode_sign(self.secret_key, signing_string, self.encryption_type))
