"""The one place that talks HTTP: a ``requests.Session`` per client, retries, and ``Result``.

Every request of the SDK goes through :class:`HttpClient`: one keep-alive pool sized for the
client's concurrency and grown with its pool of threads (:meth:`HttpClient.grow_pool`: no
connection is ever discarded for want of room), ``connection_timeout`` on every call, ``isverify``
for TLS, the proxy settings of the environment read once per client
(:class:`ProxyEnvironment`: not at every call, as requests would), one
User-Agent, and one retry helper (:mod:`~wcs.commons.retry`: exponential backoff with jitter) for
connection errors, 408, 429 and 5xx other than 579 (579 means the upload is stored and only its
callback failed: never redo it).
Upload bodies are produced by a factory per attempt, so a retried request resends from the start.

Answers read whole whose request body is in memory (listings, ``stat``, management calls, small
uploads) skip requests' ``Session.send`` and urllib3's ``urlopen``: they are exchanged on a
connection of urllib3's pool by :mod:`~wcs.commons.wire` (:meth:`HttpClient._direct`,
:func:`_exchange_on`): the same request on the wire (the session's headers and cookies, requests' URL
quoting and lengths), the same connections (made, verified and kept by urllib3), answers, redirects
and failures as requests handles them, for a quarter of the CPU. Streamed bodies, proxies and
bandwidth limits keep requests' whole path.

No other module imports ``requests``: transport failures leave this module as
:class:`~wcs.commons.errors.NetworkError`, typed once by :func:`network_error` (its ``kind``:
refused, dns, connect or read timeout, reset, tls untrusted, not tls...; the ``url``, ``host`` and
``port`` of the request; the library's exception as ``__cause__``), answers as
:class:`~wcs.commons.result.Result`, and streamed bodies through :meth:`HttpClient.get_body`,
which also resumes a body cut off in the middle with a ``Range`` request. What a body's sink
raises (a full disk, a closed pipe) is the program's own failure and is never taken for the
connection's.
"""

import functools
import http.client
import io
import logging
import os
import platform
import socket
import ssl
import threading
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union, cast
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests_toolbelt import MultipartEncoder  # type: ignore[import-untyped]

from wcs._version import __version__
from wcs.commons import wire
from wcs.commons.bandwidth import TokenBucket, throttled
from wcs.commons.errors import Cancelled, NetworkError, NetworkKind
from wcs.commons.result import NO_RESPONSE, Result, decode_body, no_response
from wcs.commons.retry import RETRYABLE_STATUS, Backoff, is_transient_failure

log = logging.getLogger(__name__)

USER_AGENT = "wcs-python-sdk/%s (python/%s)" % (__version__, platform.python_version())
READ_SIZE = 1024 * 1024
# Pieces of a streamed body under a bandwidth limit: small, so the wait for each stays short.
THROTTLED_READ_SIZE = 64 * 1024
ERROR_TEXT_LIMIT = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 30  # requests' limit

BodyFactory = Callable[[], Tuple[Any, Mapping[str, str]]]
Sink = Callable[[bytes], None]

__all__ = ["Backoff", "HttpClient", "NO_RESPONSE", "RETRYABLE_STATUS", "Result", "decode_body",
           "is_transient_failure", "multipart_form", "network_error", "no_response", "_get", "_post"]


def multipart_form(fields: Any) -> Tuple[Any, Dict[str, str]]:
    """A streaming ``multipart/form-data`` body of ``fields`` (``(name, value)`` or ``(name, (filename,
    fileobj, type))`` pairs) and its ``Content-Type`` header: the file part is read as it is sent."""
    encoder = MultipartEncoder(fields)
    return encoder, {"Content-Type": encoder.content_type}


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
        and not isinstance(exc, (requests.exceptions.SSLError, urllib3.exceptions.SSLError))
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


class ProxyEnvironment:
    """What requests reads from the environment at every call when a session trusts it, read once.

    ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` (and the system's proxy settings where Python reads
    them) when built; whether ``NO_PROXY`` exempts a host, decided by requests' own rule at the first
    request to that host and remembered; ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` when built. The
    answers are requests' own: the session only stops looking them up per call (about 80 us each, most
    of it walking ``os.environ`` twice). ``~/.netrc`` is not read: a WCS request carries its own
    credentials, and requests would put the file's over them.
    """

    def __init__(self) -> None:
        self.proxies: Dict[str, str] = dict(requests.utils.getproxies())
        self.ca_bundle: Optional[str] = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") \
            or None
        self._bypass: Dict[Tuple[str, str], bool] = {}
        self._lock = threading.Lock()

    def proxies_for(self, url: str) -> Dict[str, str]:
        """The ``proxies`` of a request to ``url`` (empty: straight to the host)."""
        if not self.proxies:
            return {}
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        bypass = self._bypass.get(key)
        if bypass is None:
            bypass = requests.utils.should_bypass_proxies(url, no_proxy=None)
            with self._lock:
                self._bypass[key] = bypass
        return {} if bypass else self.proxies


class _Resumable(Exception):
    """Internal: a streamed body broke off; ``position`` is the next byte wanted, ``error`` says how."""

    def __init__(self, error: NetworkError, position: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.position = position


class _Reply:
    """An answer read whole: what :meth:`HttpClient.request` needs of it (header names in lower case; and
    for requests' cookie helpers ``_original_response``, the answer as read, or None)."""

    __slots__ = ("status_code", "headers", "content", "_original_response")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes,
                 original: Optional[wire.Answer] = None) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self._original_response = original

    def close(self) -> None:
        """Nothing to release: the connection went back to its pool when the body was read."""


def _exchange_on(pool: Any, method: str, target: str, payload: Optional[bytes], headers: Mapping[str, str],
                 timeout: float) -> "_Reply":
    """One request on a connection of urllib3's ``pool``, its answer read whole.

    The connection is the pool's: kept alive, checked for a drop before reuse, made and connected by
    urllib3 with requests' TLS settings, and given back. The exchange on its socket is
    :mod:`~wcs.commons.wire`'s: the request's bytes as ``http.client`` lays them out, the answer read
    without ``urlopen``'s layers or the ``email`` package's header parser, which together cost twice
    the exchange itself. A failure comes out as ``urlopen`` would raise it (with requests'
    ``Retry(0, read=False)``), so that :func:`_as_requests_error` types it the same.
    """
    conn = pool._get_conn()
    try:
        if conn.sock is None:
            conn.timeout = timeout  # connect and every read: the socket keeps it
            try:
                conn.connect()
            except (urllib3.exceptions.HTTPError, OSError, ssl.CertificateError) as exc:
                raise _as_urlopen_error(pool, target, exc, timeout) from exc
        if pool.scheme == "https" and not getattr(conn, "is_verified", True):
            warnings.warn("Unverified HTTPS request is being made to host '%s'. Adding certificate verification "
                          "is strongly advised. See: https://urllib3.readthedocs.io/en/latest/advanced-usage.html"
                          "#tls-warnings" % pool.host, urllib3.exceptions.InsecureRequestWarning, stacklevel=2)
        sock = conn.sock
        head = wire.request_bytes(method, _encoded_target(target), wire.host_header(pool.scheme, pool.host, pool.port),
                                  list(headers.items()))
        try:
            if payload is None:
                sock.sendall(head)
            elif len(payload) <= _JOIN_BELOW:
                sock.sendall(head + payload)  # one segment for a small request
            else:
                sock.sendall(head)
                sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may have answered before reading the whole body (a 413): read its answer
        except OSError as exc:
            raise _as_urlopen_error(pool, target, exc, timeout) from exc
        try:
            answer = wire.read_answer(wire.SocketReader(sock), method)
        except (OSError, http.client.HTTPException) as exc:
            raise _as_urlopen_error(pool, target, exc, timeout) from exc
    except BaseException:
        conn.close()
        pool._put_conn(conn)
        raise
    if not answer.reusable:
        conn.close()
    pool._put_conn(conn)
    data = answer.body
    if answer.headers.get("content-encoding", "identity").lower() != "identity":  # as requests: gzip, br...
        data = urllib3.HTTPResponse(body=io.BytesIO(data), headers=answer.headers, status=answer.status,
                                    preload_content=True, decode_content=True).data
    return _Reply(answer.status, answer.headers, data, answer)


_JOIN_BELOW = 256 * 1024  # a body up to this size goes out with its headers in one send (a copy)

# The request target as urlopen sends it: characters not allowed in a path or query percent-encoded,
# the fragment left out (a target seen before is not worked out again: uploads all go to one).
_encoded_target = functools.lru_cache(maxsize=1024)(urllib3.connectionpool._encode_target)


def _as_urlopen_error(pool: Any, target: str, exc: Exception, timeout: float) -> Exception:
    """What urllib3's ``urlopen`` raises for ``exc`` of a connection: a timeout of a read (or of a TLS
    handshake) as ``ReadTimeoutError``, any other socket or protocol failure as ``ProtocolError``
    (neither retried by requests' ``Retry(0, read=False)``), a TLS failure or a failure to connect as
    ``MaxRetryError`` around it."""
    errors = urllib3.exceptions
    error: Exception = exc
    if isinstance(exc, socket.timeout):
        return errors.ReadTimeoutError(pool, target, "Read timed out. (read timeout=%s)" % timeout)
    if isinstance(exc, wire.ConflictingLength):
        return errors.InvalidHeader(str(exc))
    if isinstance(exc, http.client.IncompleteRead):
        return errors.ProtocolError("Connection broken: %r" % exc, exc)
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        error = errors.SSLError(exc)
    elif isinstance(exc, (OSError, http.client.HTTPException)):
        return errors.ProtocolError("Connection aborted.", exc)
    if isinstance(error, (errors.ReadTimeoutError, errors.ProtocolError)):
        return error
    return errors.MaxRetryError(pool, target, error)


class _CookieRequest:
    """The URL and headers of a request, as requests' cookie helpers and pool lookup read them."""

    __slots__ = ("url", "headers")

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        self.url = url
        self.headers = headers


def _text(content: bytes, headers: Mapping[str, str]) -> str:
    """The body as requests' ``Response.text`` decodes it: the charset the headers give (ISO-8859-1 for
    ``text/*`` without one), else the one the content looks like."""
    if not content:
        return ""
    encoding = requests.utils.get_encoding_from_headers(cast(Any, headers))
    if encoding is None:
        detector = requests.compat.chardet
        encoding = detector.detect(content)["encoding"] if detector is not None else "utf-8"
    try:
        return str(content, encoding or "utf-8", errors="replace")
    except LookupError:
        return str(content, "utf-8", errors="replace")


def _as_requests_error(exc: BaseException, request: _CookieRequest) -> BaseException:
    """The exception requests' ``HTTPAdapter.send`` raises for urllib3's ``exc`` (same type, same words:
    a failed call reads the same whichever way it went), naming the ``request`` that failed."""
    errors = requests.exceptions
    reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
    if isinstance(exc, (urllib3.exceptions.ProtocolError, OSError, urllib3.exceptions.ClosedPoolError)):
        return errors.ConnectionError(exc, request=request)
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError) \
            and not isinstance(reason, urllib3.exceptions.NewConnectionError):
        return errors.ConnectTimeout(exc, request=request)
    if isinstance(reason, urllib3.exceptions.ResponseError):
        return errors.RetryError(exc, request=request)
    if isinstance(reason, urllib3.exceptions.SSLError):
        return errors.SSLError(exc, request=request)
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        return errors.ConnectionError(exc, request=request)
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return errors.ReadTimeout(exc, request=request)
    if isinstance(exc, urllib3.exceptions.InvalidHeader):
        return errors.InvalidHeader(exc, request=request)
    return exc


class HttpClient:
    """One session, one pool, one retry policy for a client; configured once, safe to share between threads.

    Args:
        timeout: seconds for connect and for each read (``connection_timeout``).
        verify: check TLS certificates (``isverify``).
        retries: default retry count (``connection_retries``); calls may pass their own.
        pool_size: connections kept per host: the client's transfer concurrency plus slack.
        backoff: the wait between attempts (injectable: tests pass a fast one).
        bwlimit: bytes per second for everything this client sends and receives, summed over all
            its connections (0: no limit); or a :class:`~wcs.commons.bandwidth.TokenBucket` to share.
        environment: the proxy settings (default: read from the environment now).
    """

    def __init__(self, timeout: float = 40, verify: bool = True, retries: int = 3, pool_size: int = 4,
                 backoff: Optional[Backoff] = None, bwlimit: Union[int, TokenBucket] = 0,
                 environment: Optional[ProxyEnvironment] = None) -> None:
        # One bucket for every request of the client: blocks, ranges and files draw from one budget.
        self.bucket: Optional[TokenBucket] = bwlimit if isinstance(bwlimit, TokenBucket) else \
            TokenBucket(bwlimit) if bwlimit else None
        self.timeout = float(timeout)
        self.verify = bool(verify)
        self.retries = int(retries)
        self.backoff = backoff or Backoff()
        self.pool_size = max(int(pool_size), 1)
        self.environment = environment or ProxyEnvironment()
        self._verify: Union[bool, str] = self.environment.ca_bundle if self.verify and self.environment.ca_bundle \
            else self.verify
        self.session = requests.Session()
        self.session.trust_env = False  # read once, above: not at every call
        self.session.headers["User-Agent"] = USER_AGENT
        self._headers = dict(self.session.headers)  # the session's own, under every request's
        # Retries are ours (send), so a POST body is rewound and nothing is retried twice over.
        self._adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.pool_size + 2, max_retries=0)
        self._retired: List[Any] = []
        self._pool_lock = threading.Lock()
        self._pools: Dict[str, Any] = {}  # "scheme://host:port" -> urllib3 pool (_direct)
        self.session.mount("http://", self._adapter)
        self.session.mount("https://", self._adapter)

    def _prepare(self, method: str, url: str, headers: Mapping[str, str], data: Any,
                 params: Optional[Mapping[str, Any]]) -> "requests.PreparedRequest":
        """The request as the session would prepare it (its headers under ours, its cookie jar), without
        ``Session.prepare_request``: that merges every setting through requests' generic helpers (runtime
        protocol checks among them), about 0.4 ms a request, more than the rest of a small upload."""
        merged = dict(self._headers)
        merged.update(headers)
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method.upper(), url=url, headers=merged, data=data,
                         params=params if params else "", cookies=self.session.cookies)
        return prepared

    def grow_pool(self, size: int) -> None:
        """Keep at least ``size`` connections per host from now on (never fewer than before): a pool of
        threads that grew sends that many requests at once, and connections coming back to a full pool
        would be closed (urllib3's "connection pool is full, discarding connection")."""
        with self._pool_lock:
            if size <= self.pool_size:
                return
            self.pool_size = size
            adapter = self._adapter
            # A new pool manager (the pools of the old one cannot grow); connections in use go back to
            # their old pool, which is closed with the session.
            self._retired.append(adapter.poolmanager)
            adapter.init_poolmanager(adapter._pool_connections, size + 2, block=adapter._pool_block)
            self._pools = {}

    def close(self) -> None:
        self.session.close()
        for manager in self._retired:
            manager.clear()

    # -- plain requests ---------------------------------------------------------------------

    def send(self, method: str, url: str, *, headers: Optional[Mapping[str, str]] = None,
             data: Union[bytes, str, None] = None, body: Optional[BodyFactory] = None,
             params: Optional[Mapping[str, Any]] = None, retries: Optional[int] = None,
             allow_redirects: bool = True, stream: bool = False,
             cancel: Optional[threading.Event] = None) -> "requests.Response":
        """Send with retries; the last response (any status), its body not read when ``stream``. For this
        module's own use.

        ``body`` is called before every attempt and returns ``(data, extra_headers)``, so streaming
        bodies start from their beginning again on a retry.

        Raises:
            NetworkError: no response after every retry (or at once, for a failure retrying cannot fix).
            Cancelled: ``cancel`` was set while waiting to retry.
        """
        def attempt(all_headers: "Dict[str, str]", payload: Any) -> "requests.Response":
            return self.session.send(self._prepare(method, url, all_headers, payload, params),
                                     timeout=self.timeout, verify=self._verify,
                                     proxies=self.environment.proxies_for(url),
                                     allow_redirects=allow_redirects, stream=stream)

        return self._retrying(method, url, headers, data, body, retries, cancel, attempt)

    def _retrying(self, method: str, url: str, headers: Optional[Mapping[str, str]], data: Any,
                  body: Optional[BodyFactory], retries: Optional[int], cancel: Optional[threading.Event],
                  attempt: Callable[[Dict[str, str], Any], Any]) -> Any:
        """The retry loop of :meth:`send` and :meth:`_exchange` around one ``attempt(headers, payload)``."""
        retries = self.retries if retries is None else int(retries)
        count = 0
        while True:
            all_headers: Dict[str, str] = dict(headers or {})
            payload: Any = data
            if body is not None:
                payload, extra = body()
                all_headers.update(extra)
            if self.bucket is not None and payload:
                payload = throttled(payload, self.bucket, cancel)
            try:
                resp = attempt(all_headers, payload)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                error = network_error(exc, url, self.timeout)
                if count >= retries or not error.retryable:
                    log.debug("%s %s failed: %s", method, url, exc)
                    raise error from exc
                log.info("%s %s: %s; retry %d/%d", method, url, type(exc).__name__, count + 1, retries)
            else:
                if resp.status_code not in RETRYABLE_STATUS or count >= retries:
                    log.debug("%s %s -> %d reqid=%s", method, url, resp.status_code, resp.headers.get("x-reqid"))
                    return resp
                log.info("%s %s -> %d; retry %d/%d", method, url, resp.status_code, count + 1, retries)
                resp.close()
            self.backoff.wait(count, cancel)
            count += 1

    def request(self, method: str, url: str, *, data: Union[bytes, str, None] = None,
                body: Optional[BodyFactory] = None, **kwargs: Any) -> Result:
        """Like :meth:`send`, returning a :class:`Result` (-1 when no response came) whose
        ``attempts`` tells how many times the request went out."""
        sent = [0]

        def counted() -> "Tuple[Any, Mapping[str, str]]":
            sent[0] += 1
            return body() if body is not None else (data, {})

        try:
            reply = self._exchange(method, url, body=counted, **kwargs)
        except NetworkError as exc:
            return no_response(exc, attempts=sent[0])
        text = _text(reply.content, reply.headers)
        if self.bucket is not None:
            self.bucket.take(len(reply.content))  # small answers (listings, stat) count too
        if reply.status_code in _REDIRECTS and "location" in reply.headers:
            answer: Any = reply.headers["location"]
        else:
            answer = decode_body(text)
        return Result(reply.status_code, answer, _with_reqid(reply.headers), text=text, attempts=sent[0])

    def _exchange(self, method: str, url: str, *, body: BodyFactory, params: Optional[Mapping[str, Any]] = None,
                  retries: Optional[int] = None, allow_redirects: bool = True,
                  cancel: Optional[threading.Event] = None, headers: Optional[Mapping[str, str]] = None) -> "_Reply":
        """:meth:`send` for an answer read whole: a body already in memory, on a direct connection and
        without a bandwidth limit, goes straight to urllib3's pool (:meth:`_direct`); any other the
        requests way. A body that breaks off is retried like a failed request."""
        def attempt(all_headers: "Dict[str, str]", payload: Any) -> "_Reply":
            if (payload is None or isinstance(payload, (bytes, bytearray, memoryview, str))) and not params \
                    and not self.environment.proxies_for(url):
                direct = self._direct(method, url, all_headers, payload, allow_redirects)
                if direct is not None:
                    return direct
            with self.session.send(self._prepare(method, url, all_headers, payload, params), timeout=self.timeout,
                                   verify=self._verify, proxies=self.environment.proxies_for(url),
                                   allow_redirects=allow_redirects, stream=True) as resp:
                return _Reply(resp.status_code, {name.lower(): value for name, value in resp.headers.items()},
                              resp.content)

        return cast(_Reply, self._retrying(method, url, headers, None, body, retries, cancel, attempt))

    def _direct(self, method: str, url: str, headers: Dict[str, str], payload: Any,
                allow_redirects: bool) -> Optional["_Reply"]:
        """One request on a connection of urllib3's pool, following redirects as requests does; None
        for a URL left to requests (one that does not parse: requests names the fault).

        What requests' ``Session.send`` adds for a small request (a ``PreparedRequest``, a ``Response``,
        the cookie jar walked both ways, hooks, the redirect generator) costs three times urllib3's own
        work, and urllib3's ``urlopen`` and ``http.client``'s reading of the answer twice the exchange
        itself: here the same request is built from the same headers (the session's under the call's,
        its cookies when it holds any), with the same URL quoting, length and certificate checks, and
        the answer read whole. A POST of 20 KB with a small answer, on loopback: 0.5 ms of CPU through
        requests, 0.28 through ``urlopen``, 0.1 here.
        """
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        elif payload is not None and not isinstance(payload, bytes):
            payload = bytes(payload)
        method = method.upper()
        for item in headers.items():  # the session's own are known good
            requests.utils.check_header_validity(item)
        sent: Dict[str, str] = dict(self._headers)
        sent.update(headers)
        for _hop in range(_MAX_REDIRECTS + 1):
            url = requests.utils.requote_uri(url)
            try:
                pool, target = self._pool_for(url)
            except urllib3.exceptions.LocationValueError:
                if _hop:  # a redirect to where this path does not go: refused, never the request sent again
                    raise requests.exceptions.InvalidURL("cannot follow the redirect to %r" % url) from None
                return None
            if payload is not None:
                sent["Content-Length"] = str(len(payload))
            elif method not in ("GET", "HEAD"):
                sent["Content-Length"] = "0"  # as requests: a body-less POST or DELETE says so
            if len(self.session.cookies):
                sent.pop("Cookie", None)
                cookie = requests.cookies.get_cookie_header(self.session.cookies, cast(Any, _CookieRequest(url, sent)))
                if cookie:
                    sent["Cookie"] = cookie
            try:
                answer = _exchange_on(pool, method, target, payload, sent, self.timeout)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise _as_requests_error(exc, _CookieRequest(url, sent)) from None
            if "set-cookie" in answer.headers:
                requests.cookies.extract_cookies_to_jar(self.session.cookies, cast(Any, _CookieRequest(url, sent)),
                                                        answer)
            location = answer.headers.get("location") if answer.status_code in _REDIRECTS and allow_redirects \
                else None
            if not location:
                return answer
            following = urljoin(url, location)  # absolute, //host/... or relative
            method, payload = wire.redirected_method(answer.status_code, method, payload)
            if payload is None:
                for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
                    sent.pop(name, None)
            if self.session.should_strip_auth(url, following):
                sent.pop("Authorization", None)
            url = following
        raise requests.TooManyRedirects("Exceeded %d redirects." % _MAX_REDIRECTS)

    def _pool_for(self, url: str) -> Tuple[Any, str]:
        """The pool of ``url``'s origin and the request target (path and query). Pools are kept by the
        origin's text (``scheme://host:port``), which costs less to cut out than a URL costs to parse."""
        end = url.find("/", url.find("//") + 2)
        origin, target = (url, "/") if end < 0 else (url[:end], url[end:])
        pool = self._pools.get(origin)
        if pool is None or pool.pool is None:  # first use, or closed since (the manager keeps a few pools)
            parsed = urllib3.util.parse_url(url)
            if parsed.scheme not in ("http", "https") or not parsed.host or parsed.auth \
                    or any(mark in origin for mark in "?#@"):
                raise urllib3.exceptions.LocationValueError(url)
            pool = self._adapter.get_connection_with_tls_context(cast(Any, _CookieRequest(url, {})), self._verify)
            self._adapter.cert_verify(pool, url, self._verify, None)
            self._pools[origin] = pool
        return pool, target

    # -- streamed bodies --------------------------------------------------------------------

    def get_body(self, url: str, sink: Sink, *, headers: Optional[Mapping[str, str]] = None, start: int = 0,
                 end: Optional[int] = None, retries: Optional[int] = None,
                 restart: Optional[Callable[[], None]] = None, cancel: Optional[threading.Event] = None,
                 check: Optional[Callable[[int, Mapping[str, str]], None]] = None,
                 read_size: int = READ_SIZE) -> Result:
        """GET ``url`` and hand its body to ``sink`` piece by piece; bytes ``start``..``end`` (inclusive).

        A body that breaks off (reset, timeout, fewer bytes than announced) is continued with a
        ``Range`` request from the first byte not received, guarded by ``If-Range`` with the first
        answer's ``ETag`` so that a changed object is never spliced: a server that answers the whole
        object instead makes ``restart`` run (the sink starts over; without ``restart`` that is an
        error). Every attempt counts towards ``retries`` (default: the client's). ``check`` sees the
        status and headers of every successful response before its body is read, and may raise to
        refuse it (e.g. the object is not the one being assembled).

        Returns:
            the first response's status and headers (body ``{}``) once every byte arrived; an error
            status with its decoded text (nothing passed to ``sink``); -1 when the body could not be
            completed after every retry.

        Raises:
            Cancelled: ``cancel`` was set (checked between pieces).
            Whatever ``sink`` raises (a local write error), unchanged.
        """
        retries = self.retries if retries is None else int(retries)
        if self.bucket is not None:
            read_size = min(read_size, THROTTLED_READ_SIZE)
        first: Optional[requests.Response] = None
        position = start  # the next byte the sink expects
        attempt = 0
        while True:
            try:
                resp = self.send("GET", url, headers=_range_headers(headers, position, end, first), stream=True,
                                 retries=retries - attempt, cancel=cancel)
            except NetworkError as exc:
                return no_response(exc)
            with resp:
                if not 200 <= resp.status_code < 300:
                    return _error_result(resp)
                if check is not None:
                    check(resp.status_code, resp.headers)
                if first is None:
                    first = resp
                try:
                    position = self._receive(resp, sink, position, start, end, restart, cancel, read_size)
                    return Result(first.status_code, {}, first.headers)
                except _Resumable as broken:
                    if attempt >= retries or not broken.error.retryable:
                        return no_response(broken.error)
                    log.info("GET %s broke off at byte %d (%s); continuing, retry %d/%d", url, position,
                             broken.error, attempt + 1, retries)
                    position = broken.position
            self.backoff.wait(attempt, cancel)
            attempt += 1

    def _receive(self, resp: "requests.Response", sink: Sink, position: int, start: int, end: Optional[int],
                 restart: Optional[Callable[[], None]], cancel: Optional[threading.Event], read_size: int) -> int:
        """Feed ``resp``'s body to ``sink`` from byte ``position`` on; the position after the last byte.

        Only a failure of the response becomes :class:`_Resumable`; what ``sink`` or ``restart``
        raise (a full disk, a closed pipe: ``OSError`` too) is the program's own and passes unchanged.
        """
        offset, length = _body_span(resp)
        if offset != position:
            if offset == 0 and resp.status_code == 200 and position > start:
                # The server sent the whole object again (it ignored or refused our Range): start over.
                if restart is None:
                    raise _Resumable(self._broken(resp, "the server does not resume ranged transfers",
                                                  NetworkKind.OTHER, retryable=False), position)
                restart()
                position = start
            if offset > position or (offset < position and resp.status_code == 206):
                raise _Resumable(self._broken(resp, "the server answered bytes from %d, expected %d"
                                              % (offset, position), NetworkKind.OTHER, retryable=False), position)
        skip = initial_skip = position - offset  # a 200 for a request that wanted a range: drop what precedes it
        wanted = None if end is None else end + 1 - position
        got = 0
        framed = length is not None or "chunked" in resp.headers.get("Transfer-Encoding", "").lower()
        pieces = resp.iter_content(read_size)
        while True:
            try:
                data = next(pieces, None)
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise _Resumable(network_error(exc, resp.url, self.timeout), position + got) from exc
            if data is None:
                break
            if cancel is not None and cancel.is_set():
                raise Cancelled("stopped while receiving")
            if skip:
                drop = min(skip, len(data))
                data, skip = data[drop:], skip - drop
            if wanted is not None and got + len(data) > wanted:
                data = data[:wanted - got]
            if data and self.bucket is not None:
                self.bucket.take(len(data), cancel)
            if data:
                sink(data)
                got += len(data)
            if wanted is not None and got >= wanted:
                return position + got
        expected = None if length is None else length - initial_skip
        if wanted is not None and expected is not None:
            expected = min(expected, wanted)
        if expected is not None and got < expected and not resp.headers.get("Content-Encoding"):
            raise _Resumable(self._broken(resp, "the body ended after %d of %d bytes" % (got, expected)),
                             position + got)
        if not framed and got == 0 and resp.status_code != 204:
            # No length, not chunked, nothing received: a connection that died inside the headers
            # looks exactly like this. Never take it for an empty object.
            raise _Resumable(self._broken(resp, "the response ended before its body (no Content-Length)"), position)
        return position + got

    @staticmethod
    def _broken(resp: "requests.Response", message: str, kind: NetworkKind = NetworkKind.RESET,
                retryable: bool = True) -> NetworkError:
        """A body that came wrong or short, as a :class:`NetworkError` of the response's URL."""
        host, port = host_port(resp.url)
        return NetworkError(message, retryable=retryable, kind=kind, url=resp.url, host=host, port=port,
                            reason=message)


def _range_headers(headers: Optional[Mapping[str, str]], position: int, end: Optional[int],
                   first: Optional["requests.Response"]) -> Dict[str, str]:
    out = dict(headers or {})
    if position or end is not None:
        out["Range"] = "bytes=%d-%s" % (position, "" if end is None else end)
        etag = first.headers.get("ETag") if first is not None else None
        if etag and not etag.startswith("W/"):
            out["If-Range"] = etag
    return out


def _body_span(resp: "requests.Response") -> Tuple[int, Optional[int]]:
    """``(offset of the first body byte in the object, body length or None)``."""
    length_text = resp.headers.get("Content-Length", "")
    length = int(length_text) if length_text.isdigit() else None
    if resp.status_code == 206:
        value = resp.headers.get("Content-Range", "")
        try:
            unit, _, rest = value.partition(" ")
            first_last = rest.split("/", 1)[0]
            first, last = (int(v) for v in first_last.split("-", 1))
            if unit.lower() == "bytes":
                return first, last - first + 1
        except ValueError:
            pass
    return 0, length


def _with_reqid(headers: Mapping[str, str]) -> Dict[str, Any]:
    """The response headers, with an ``x-reqid`` entry (None when the answer had none): scripts
    written for the official SDK index ``headers["x-reqid"]``."""
    out: Dict[str, Any] = {name.lower(): value for name, value in headers.items()}
    out.setdefault("x-reqid", None)
    return out


def _error_result(resp: "requests.Response") -> Result:
    try:
        raw = resp.raw.read(ERROR_TEXT_LIMIT, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        raw = b""
    text = raw.decode("utf-8", "replace")
    return Result(resp.status_code, decode_body(text), _with_reqid(resp.headers), text=text)


# -- the official module functions -----------------------------------------------------------------

def _post(url: str, headers: Optional[Mapping[str, str]] = None, data: Any = None, files: Any = None) -> Result:
    """POST ``url`` and answer ``(code, body, headers)``, as the official ``wcs.commons.http._post``.

    Settings come from ``Config()`` (``~/.wcscfg``), where the official function reads its global
    config; ``files`` (name -> value or ``(filename, fileobj, type)``) makes a multipart form.
    """
    return _official_request("POST", url, headers, data, files)


def _get(url: str, headers: Optional[Mapping[str, str]] = None) -> Result:
    """GET ``url`` and answer ``(code, body, headers)``, as the official ``wcs.commons.http._get``."""
    return _official_request("GET", url, headers, None, None)


def _official_request(method: str, url: str, headers: Optional[Mapping[str, str]], data: Any,
                      files: Any) -> Result:
    from wcs.commons.config import HTTP_KEYS, Config  # the config module is not needed by HttpClient itself

    cfg = Config().require(*HTTP_KEYS, "returnUrl")
    client = HttpClient(timeout=cfg.connection_timeout, verify=cfg.isverify, retries=cfg.connection_retries,
                        pool_size=1)
    try:
        body: Optional[BodyFactory] = None
        if files:
            fields = list(files.items())
            body = lambda: multipart_form(fields)  # noqa: E731 - a factory per attempt
        # As the official: with a returnUrl the 303 is the answer, not a page to follow.
        return client.request(method, url, headers=dict(headers or {}), data=data, body=body,
                              allow_redirects=not cfg.returnUrl)
    finally:
        client.close()
