"""Transport failures typed once: an exception of requests, urllib3, ``ssl`` or the socket becomes a
:class:`~wcs.commons.errors.NetworkError` whose ``kind`` (refused, dns, connect or read timeout,
reset, tls untrusted, not tls...), ``reason``, ``url``, ``host`` and ``port`` come from the types in
the exception's chain, never from their text. Used by :mod:`wcs.commons.http` only.
"""

import http.client
import socket
import ssl
from typing import Any, List, Optional, Tuple
from urllib.parse import urlsplit

import requests
import urllib3

from wcs.commons.errors import NetworkError, NetworkKind


def network_error(exc: BaseException, url: Optional[str] = None, timeout: Optional[float] = None) -> NetworkError:
    """The :class:`NetworkError` for an exception of the HTTP library (kept as ``__cause__``).

    The one place where requests' and urllib3's exceptions are read: what failed becomes ``kind``
    and ``reason``, where it went ``url``, ``host`` and ``port`` (of the request that failed: after
    a redirect that is not ``url``). ``timeout`` is the client's, named in a timeout's reason.
    """
    if isinstance(exc, NetworkError):
        return exc
    # A certificate problem or a malformed URL will not fix itself; every other transport failure may.
    retryable = isinstance(exc, (requests.ConnectionError, requests.Timeout,
                                 requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError,
                                 ConnectionError, TimeoutError)) \
        and not isinstance(exc, requests.exceptions.SSLError)
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None) or url
    kind, reason = _classify(_causes(exc), timeout)
    host, port = host_port(url)
    error = NetworkError("%s: %s" % (type(exc).__name__, exc), retryable=retryable, kind=kind, url=url, host=host,
                         port=port, reason=reason)
    error.__cause__ = exc
    return error


def _causes(exc: BaseException) -> List[BaseException]:
    """``exc`` and what it wraps, outermost first: requests keeps urllib3's error in ``args[0]``,
    ``MaxRetryError`` its cause in ``reason``, urllib3 the socket's in ``__cause__``/``__context__``
    (``ProtocolError`` also in ``args[1]``)."""
    chain: List[BaseException] = []
    todo: List[Any] = [exc]
    while todo and len(chain) < 16:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is seen for seen in chain):
            continue
        chain.append(item)
        todo.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
        todo.extend(arg for arg in item.args if isinstance(arg, BaseException))
    return chain


def _first(chain: List[BaseException], kinds: Any) -> Optional[BaseException]:
    return next((item for item in chain if isinstance(item, kinds)), None)


# OpenSSL's reasons for "what came back is not TLS": a plain-http server answering a handshake.
_NOT_TLS_REASONS = frozenset({"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG",
                              "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL"})
_CONNECT_FAILURES = (urllib3.exceptions.NewConnectionError, socket.gaierror)
_BROKEN = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.RemoteDisconnected,
           http.client.IncompleteRead, urllib3.exceptions.ProtocolError, requests.exceptions.ChunkedEncodingError)


def _classify(chain: List[BaseException], timeout: Optional[float]) -> Tuple[NetworkKind, str]:
    """``(kind, reason)`` of a transport failure, from the exceptions of its chain (never from their text)."""
    after = "" if timeout is None else " after %g s" % timeout
    tls = next((item for item in chain if isinstance(item, ssl.SSLError)), None)
    code = getattr(tls, "reason", None) or ""  # OpenSSL's code, e.g. WRONG_VERSION_NUMBER
    if isinstance(tls, ssl.SSLCertVerificationError):
        why = getattr(tls, "verify_message", None)
        return NetworkKind.TLS_UNTRUSTED, "certificate verify failed: %s" % why if why else _ssl_words(tls, code)
    if tls is not None and code in _NOT_TLS_REASONS:
        return NetworkKind.NOT_TLS, code
    if tls is not None or _first(chain, (urllib3.exceptions.SSLError, requests.exceptions.SSLError)):
        return NetworkKind.TLS, _ssl_words(tls, code) if tls is not None else "TLS failure"
    if _first(chain, (urllib3.exceptions.NameResolutionError, socket.gaierror)) is not None:
        resolver = _first(chain, socket.gaierror)
        return NetworkKind.DNS, str(resolver) if resolver is not None else "the name does not resolve"
    refused = _first(chain, ConnectionRefusedError)
    if refused is not None:
        return NetworkKind.REFUSED, str(refused)
    if _first(chain, (requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError)) is not None \
            and _first(chain, _CONNECT_FAILURES) is None:
        return NetworkKind.CONNECT_TIMEOUT, "connection timed out" + after
    if _first(chain, urllib3.exceptions.NewConnectionError) is not None:
        return NetworkKind.UNREACHABLE, _words(_system_error(chain) or chain[0])
    if _first(chain, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError,
                      socket.timeout)) is not None:
        return NetworkKind.READ_TIMEOUT, "nothing received" + ("" if timeout is None else " for %g s" % timeout)
    broken = _first(chain, _BROKEN)
    if broken is not None:
        return NetworkKind.RESET, _words(_system_error(chain) or broken)
    return NetworkKind.OTHER, _words(chain[0]) if chain else ""


def _system_error(chain: List[BaseException]) -> Optional[BaseException]:
    """The error of the socket or of ``http.client`` in the chain (requests' own are ``OSError`` too)."""
    return next((item for item in chain if isinstance(item, (OSError, http.client.HTTPException))
                 and not isinstance(item, requests.RequestException)), None)


def _words(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _ssl_words(exc: ssl.SSLError, code: str) -> str:
    """``tlsv1 alert internal error (TLSV1_ALERT_INTERNAL_ERROR)``: OpenSSL's words and code, without the
    ``[SSL: CODE]`` prefix and the ``(_ssl.c:1006)`` source position the ssl module adds to them."""
    text = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], str) else str(exc)
    if text.startswith("[") and "] " in text:
        text = text.split("] ", 1)[1]
    if text.endswith(")") and " (_ssl.c:" in text:
        text = text.rsplit(" (_ssl.c:", 1)[0]
    return "%s (%s)" % (text, code) if code and code not in text else text


def host_port(url: Optional[str]) -> Tuple[Optional[str], Optional[int]]:
    if not url:
        return None, None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a malformed port: the URL is the news
        return None, None
    if port is None:
        port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.hostname, port
