"""What every service shares: the injected HTTP client, signer and endpoints, and how requests are built.

Services never read a :class:`~wcs.commons.config.Config`: they get the frozen pieces they need
(:mod:`wcs.commons.settings`). A management request is signed over exactly the path, query and
body it sends: the query is built here once (values percent-encoded only where a URL requires it,
so Base64, bucket names, dates and markers go out byte for byte as given) and the same string is
both signed and sent.
"""

import logging
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote

from wcs.commons.auth import Auth
from wcs.commons.errors import ConfigError
from wcs.commons.http import HttpClient, Result
from wcs.commons.settings import CONFIGURE_HINT, Endpoints, PolicyDefaults, TransferConfig
from wcs.commons.util import check_object_key

log = logging.getLogger(__name__)

# Characters requests would leave alone in a query and that mean nothing special in one.
_QUERY_SAFE = "-_.~=:,!*'()@"

Pairs = Union[Mapping[str, Any], Sequence[Tuple[str, Any]]]


def encode_query(pairs: Pairs) -> str:
    """``k=v&k=v`` of the pairs whose value is not None, in the given order."""
    items: Iterable[Tuple[str, Any]] = pairs.items() if isinstance(pairs, Mapping) else pairs
    return "&".join("%s=%s" % (k, quote(str(v), safe=_QUERY_SAFE)) for k, v in items if v is not None)


def form_body(pairs: Pairs) -> str:
    """``k=v&k=v`` management body: values go out raw (they are Base64 or numbers), as WCS expects."""
    items: Iterable[Tuple[str, Any]] = pairs.items() if isinstance(pairs, Mapping) else pairs
    return "&".join("%s=%s" % (k, v) for k, v in items if v is not None)


class Service:
    """Base of the service classes: an ``HttpClient``, an ``Auth`` (None for unsigned calls), the endpoints."""

    def __init__(self, http: HttpClient, auth: Optional[Auth], endpoints: Endpoints) -> None:
        self.http = http
        self.auth = auth
        self.endpoints = endpoints

    def mgr_base(self) -> str:
        return self.endpoints.mgr_base()

    def put_base(self) -> str:
        return self.endpoints.put_base()

    def _signed_headers(self, url: str, body: Optional[str]) -> Dict[str, str]:
        if self.auth is None:
            raise ConfigError("access_key and secret_key are needed for this call; " + CONFIGURE_HINT)
        headers = {"Authorization": self.auth.managertoken(url, body)}
        headers.update(self.auth.headers())  # encryption-type, when the token is not HMAC-SHA1
        return headers

    def mgr_get(self, path: str, query: Optional[Pairs] = None, *, signed: bool = True) -> Result:
        """GET ``<mgr_url><path>?<query>``, signed over path and query unless ``signed`` is False."""
        url = self.mgr_base() + path
        text = encode_query(query or ())
        if text:
            url += "?" + text
        headers = self._signed_headers(url, None) if signed else {}
        return self.http.request("GET", url, headers=headers)

    def mgr_post(self, path: str, body: Optional[str] = None) -> Result:
        """POST ``body`` (a ``k=v&...`` string sent as is) to ``<mgr_url><path>``, signed over both."""
        url = self.mgr_base() + path
        headers = self._signed_headers(url, body)
        data = None
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = body.encode("utf-8")
        return self.http.request("POST", url, headers=headers, data=data)


class UploadService(Service):
    """A service that uploads: it also knows the transfer settings and the upload-policy defaults."""

    def __init__(self, http: HttpClient, auth: Optional[Auth], endpoints: Endpoints, transfer: TransferConfig,
                 policy: PolicyDefaults) -> None:
        super().__init__(http, auth, endpoints)
        self.transfer = transfer
        self.policy = policy

    def traffic_headers(self) -> Dict[str, str]:
        """Headers of every upload request: the traffic limit, and ``encryption-type`` when the signer's
        tokens are not HMAC-SHA1 (the service verifies the token with the algorithm it names)."""
        headers = self.transfer.traffic_headers()
        if self.auth is not None:
            headers.update(self.auth.headers())
        return headers

    def upload_token(self, bucket: str, key: str, overwrite: Optional[int] = None) -> str:
        """Upload token for ``bucket:key`` with the policy defaults (``overwrite`` overrides theirs).

        Raises:
            ConfigError: no key pair.
            InvalidArgument: ``key`` holds a control character (see :func:`~wcs.commons.util.check_object_key`).
        """
        if self.auth is None:
            raise ConfigError("access_key and secret_key are needed to upload; " + CONFIGURE_HINT)
        check_object_key(key)
        # What PutPolicy().set_conf("scope", ...) and dump_policy(self.policy) make, in the same order
        # (every field of the defaults is one PutPolicy takes), without building one per file.
        policy: Dict[str, Any] = {"scope": "%s:%s" % (bucket, key)}
        policy.update(self.policy.fields())
        if overwrite is not None:
            policy["overwrite"] = 1 if int(overwrite) else 0
        return self.auth.uploadtoken(policy)
