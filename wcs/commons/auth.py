"""Token signing: upload tokens, management tokens and the signatures WCS puts on its callbacks.

Everything here is pure: no I/O, and the clock is a parameter (``now_ms``) so vectors are exact.
"""

import hashlib
import hmac
import json
import time
from typing import Any, Dict, Mapping, Optional, Union
from urllib.parse import urlsplit

from wcs.commons.errors import InvalidArgument
from wcs.commons.settings import TOKEN_LIFETIME_S
from wcs.commons.util import urlsafe_base64_decode, urlsafe_base64_encode

DEFAULT_TOKEN_LIFETIME_S = TOKEN_LIFETIME_S


def encode_sign(secret_key: str, data: Union[str, bytes]) -> str:
    """``urlsafe_b64(hex(HMAC-SHA1(sk, data)))``: WCS signs the hex digest, not the raw one."""
    msg = data.encode("utf-8") if isinstance(data, str) else data
    digest = hmac.new(secret_key.encode("utf-8"), msg, hashlib.sha1).hexdigest()
    return urlsafe_base64_encode(digest)


def upload_token_from_encoded(access_key: str, secret_key: str, encoded_policy: str) -> str:
    """``AK:sign(encodedPolicy):encodedPolicy`` for an already Base64-encoded policy."""
    return "%s:%s:%s" % (access_key, encode_sign(secret_key, encoded_policy), encoded_policy)


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
    """Signs requests for one access key / secret key pair."""

    def __init__(self, access_key: str, secret_key: str) -> None:
        if not access_key or not secret_key:
            raise InvalidArgument("access_key and secret_key must both be set")
        self.access_key = access_key
        self.secret_key = secret_key

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
        return "Auth(access_key=%r, secret_key=<hidden>)" % self.access_key

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
        return upload_token_from_encoded(self.access_key, self.secret_key, urlsafe_base64_encode(policy_json))

    def managertoken(self, url: str, body: Union[str, bytes, None] = None) -> str:
        """Management token for a request to ``url`` (scheme and host are not signed) with ``body``."""
        parts = urlsplit(url)
        return "%s:%s" % (self.access_key,
                          encode_sign(self.secret_key, manager_signing_string(parts.path, parts.query, body)))
