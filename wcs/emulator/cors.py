"""CORS for pages on other origins, as a WSGI middleware: the vendor's browser SDK uploads straight from
a page to the upload domain, so the emulator answers preflights and labels every answer for the browser.

* A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) from an allowed origin is
  answered here, whatever the path, before routing, counting and fault injection: ``200``, the origin
  echoed, the methods of the API, the request headers asked for and a max-age. From a refused origin it is
  ``403`` with the JSON error body and no CORS header. (The service keeps CORS rules per bucket; a v1
  upload preflight carries neither a token nor a bucket, so the emulator has one rule for all.)
* Every other answer to a request from an allowed origin, whatever its status (JSON errors, injected
  faults, 404s), gets ``Access-Control-Allow-Origin`` (the origin echoed) and
  ``Access-Control-Expose-Headers`` (``X-Reqid`` and the other headers the emulator sends that a page
  could not read otherwise). Answers from a refused origin, and to requests without ``Origin``, get none.
* ``Vary: Origin`` on every answer: the CORS headers depend on it.

:class:`CorsPolicy` holds the allowed origins: any by default (a local twin serves whatever page a
developer runs), or a list (``wcs-emulator --cors-origin``). No credentials are allowed: the browser SDK
sends its token in the form or the ``Authorization`` header, never a cookie.
"""

import re
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Tuple
from urllib.parse import urlsplit

from wcs.emulator.api.wire import json_response
from wcs.emulator.errors import error_body

WsgiApp = Callable[[Dict[str, Any], Any], Iterable[bytes]]

ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
"""Every method a route of the emulator takes (:mod:`wcs.emulator.routes`)."""

EXPOSED_HEADERS = "X-Reqid, ETag, Content-Length, Content-Range, Accept-Ranges, Location"
"""Headers the emulator's answers carry that are not CORS-safelisted (a page reads those anyway)."""

MAX_AGE = 600
"""Seconds a browser may reuse a preflight answer: short, so that a restart with other origins is seen
soon (Chromium caps it at 7200 anyway). Each ``bput`` has a URL of its own, so few preflights are reused."""

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(text: str) -> str:
    """The serialized form a browser sends in ``Origin`` (``scheme://host[:port]``, lower case, default port
    left out) of ``text``, e.g. ``HTTP://LocalHost:80/`` -> ``http://localhost``; ``null`` stays ``null``.

    Raises:
        ValueError: ``text`` is not an http(s) origin (a path, a query or user info is refused).
    """
    text = text.strip()
    if text == "null":
        return text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError("origin %r: not scheme://host[:port]" % text) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/") or parts.query \
            or parts.fragment or parts.username is not None:
        raise ValueError("origin %r: use http(s)://host[:port], e.g. http://localhost:3000" % text)
    host = parts.hostname.lower()
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s%s" % (scheme, host, "" if port in (None, _DEFAULT_PORTS[scheme]) else ":%d" % port)


class CorsPolicy:
    """Which origins a page may call the emulator from.

    Args:
        origins: the allowed origins (each as :func:`normalize_origin` takes it; ``*`` allows any); None or
            nothing allows any.

    Raises:
        ValueError: an origin is malformed.
    """

    def __init__(self, origins: Optional[Iterable[str]] = None) -> None:
        names = [text.strip() for text in origins or ()]
        self.any = not names or "*" in names
        self.origins: FrozenSet[str] = frozenset() if self.any else frozenset(map(normalize_origin, names))

    def allows(self, origin: str) -> bool:
        if self.any:
            return True
        try:
            return normalize_origin(origin) in self.origins
        except ValueError:
            return False

    def __repr__(self) -> str:
        return "CorsPolicy(%s)" % ("any origin" if self.any else ", ".join(sorted(self.origins)))


def _vary_origin(headers: List[Tuple[str, str]]) -> None:
    for i, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "origin" not in value.lower():
                headers[i] = (name, value + ", Origin")
            return
    headers.append(("Vary", "Origin"))


class CorsMiddleware:
    """WSGI middleware answering preflights and adding CORS headers to the answers of ``app``.

    Args:
        app: what serves every request that is not a preflight.
        policy: the allowed origins.
        count: called with ``"preflight"`` for every preflight answered (allowed or refused).
    """

    def __init__(self, app: WsgiApp, policy: CorsPolicy, count: Optional[Callable[[str], None]] = None) -> None:
        self.app = app
        self.policy = policy
        self.count = count

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and environ.get("REQUEST_METHOD") == "OPTIONS" \
                and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return self._preflight(environ, start_response, origin)
        allowed = origin if origin is not None and self.policy.allows(origin) else None

        def start(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
            _vary_origin(headers)
            if allowed is not None:
                headers.append(("Access-Control-Allow-Origin", allowed))
                headers.append(("Access-Control-Expose-Headers", EXPOSED_HEADERS))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)

    def _preflight(self, environ: Dict[str, Any], start_response: Any, origin: str) -> Iterable[bytes]:
        if self.count is not None:
            self.count("preflight")
        if not self.policy.allows(origin):
            refused = json_response(error_body(403, "origin %s is not allowed (wcs-emulator --cors-origin)"
                                               % origin), 403)
            refused.headers["Vary"] = "Origin"
            return refused(environ, start_response)
        headers = [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Methods", ALLOWED_METHODS),
                   ("Access-Control-Max-Age", str(MAX_AGE)), ("Vary", "Origin"), ("Content-Length", "0")]
        asked = [name.strip() for name in environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").split(",")]
        asked = [name for name in asked if _TOKEN.match(name)]
        if asked:
            headers.append(("Access-Control-Allow-Headers", ", ".join(asked)))
        if environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", "").lower() == "true":
            # Chromium's Private Network Access: a page on a public origin calling the emulator on loopback.
            headers.append(("Access-Control-Allow-Private-Network", "true"))
        start_response("200 OK", headers)
        return [b""]
