"""What every service shares: the injected HTTP client, signer and config, and how requests are built.

A management request is signed over exactly the path, query and body it sends: the query is built
here once (values percent-encoded only where a URL requires it, so Base64, bucket names, dates and
markers go out byte for byte as given) and the same string is both signed and sent.
"""

import logging
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote

from wcs.commons.auth import Auth
from wcs.commons.config import Config, base_url
from wcs.commons.errors import ConfigError
from wcs.commons.http import HttpClient, Result
from wcs.commons.putpolicy import PutPolicy

log = logging.getLogger(__name__)

# Characters requests would leave alone in a query and that mean nothing special in one.
_QUERY_SAFE = "-_.~=:,!*'()@"

Pairs = Union[Mapping[str, Any], Sequence[Tuple[str, Any]]]

CONFIGURE_HINT = "set it in the config file (run `wcscmd --configure`) or on the Config object"


def encode_query(pairs: Pairs) -> str:
    """``k=v&k=v`` of the pairs whose value is not None, in the given order."""
    items: Iterable[Tuple[str, Any]] = pairs.items() if isinstance(pairs, Mapping) else pairs
    return "&".join("%s=%s" % (k, quote(str(v), safe=_QUERY_SAFE)) for k, v in items if v is not None)


def form_body(pairs: Pairs) -> str:
    """``k=v&k=v`` management body: values go out raw (they are Base64 or numbers), as WCS expects."""
    items: Iterable[Tuple[str, Any]] = pairs.items() if isinstance(pairs, Mapping) else pairs
    return "&".join("%s=%s" % (k, v) for k, v in items if v is not None)


def require(cfg: Config, *names: str) -> None:
    """Raise ``ConfigError`` naming the first of ``names`` that is empty in ``cfg``."""
    for name in names:
        if not getattr(cfg, name):
            raise ConfigError("%s is not set; %s" % (name, CONFIGURE_HINT), key=name)


class Service:
    """Base of the service classes: an ``HttpClient``, an ``Auth`` (None for unsigned calls), a ``Config``."""

    def __init__(self, http: HttpClient, auth: Optional[Auth], cfg: Config) -> None:
        self.http = http
        self.auth = auth
        self.cfg = cfg

    # -- URLs -------------------------------------------------------------------------------

    def mgr_base(self) -> str:
        require(self.cfg, "mgr_url")
        return base_url(self.cfg.mgr_url, self.cfg.ishttps)

    def put_base(self) -> str:
        require(self.cfg, "put_url")
        return base_url(self.cfg.put_url, self.cfg.ishttps)

    def traffic_headers(self) -> dict:
        """``x-wos-traffic-limit`` when ``traffic_limit`` is configured."""
        limit = int(self.cfg.traffic_limit or 0)
        return {"x-wos-traffic-limit": str(limit)} if limit > 0 else {}

    def upload_token(self, bucket: str, key: str, overwrite: Optional[int] = None) -> str:
        """Upload token for ``bucket:key`` with the policy fields of the config (``overwrite`` overrides)."""
        if self.auth is None:
            raise ConfigError("access_key and secret_key are needed to upload; " + CONFIGURE_HINT)
        policy = PutPolicy()
        policy.set_conf("scope", "%s:%s" % (bucket, key))
        policy.dump_policy(self.cfg)
        if overwrite is not None:
            policy.set_conf("overwrite", 1 if int(overwrite) else 0)
        return self.auth.uploadtoken(policy.putpolicy)

    # -- management calls --------------------------------------------------------------------

    def _signed_headers(self, url: str, body: Optional[str]) -> dict:
        if self.auth is None:
            raise ConfigError("access_key and secret_key are needed for this call; " + CONFIGURE_HINT)
        return {"Authorization": self.auth.managertoken(url, body)}

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
