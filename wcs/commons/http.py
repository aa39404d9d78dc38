"""The one place that talks HTTP: a ``requests.Session`` per client, retries, and ``Result``.

Every request of the SDK goes through :class:`HttpClient`: one keep-alive pool sized for the
client's concurrency and grown with its pool of threads (:meth:`HttpClient.grow_pool`: no
connection is ever discarded for want of room), ``connection_timeout`` on every call, ``isverify``
for TLS, the proxy settings of the environment read once per client
(:class:`~wcs.commons.proxyenv.ProxyEnvironment`: not at every call, as requests would), one
User-Agent, and one retry helper (:mod:`~wcs.commons.retry`: exponential backoff with jitter) for
connection errors, 408, 429 and 5xx other than 579 (579 means the upload is stored and only its
callback failed: never redo it).
Upload bodies are produced by a factory per attempt, so a retried request resends from the start.

No module but this one and its two helpers (:mod:`~wcs.commons.netfailure`,
:mod:`~wcs.commons.proxyenv`) imports ``requests``: transport failures leave this module as
:class:`~wcs.commons.errors.NetworkError`, typed once by :func:`network_error` (its ``kind``:
refused, dns, connect or read timeout, reset, tls untrusted, not tls...; the ``url``, ``host`` and
``port`` of the request; the library's exception as ``__cause__``), answers as
:class:`~wcs.commons.result.Result`, and streamed bodies through :meth:`HttpClient.get_body`,
which also resumes a body cut off in the middle with a ``Range`` request. What a body's sink
raises (a full disk, a closed pipe) is the program's own failure and is never taken for the
connection's.
"""

import logging
import platform
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests_toolbelt import MultipartEncoder  # type: ignore[import-untyped]

from wcs._version import __version__
from wcs.commons.bandwidth import TokenBucket, throttled
from wcs.commons.errors import Cancelled, NetworkError, NetworkKind
from wcs.commons.netfailure import host_port, network_error
from wcs.commons.proxyenv import ProxyEnvironment
from wcs.commons.result import NO_RESPONSE, Result, decode_body, no_response
from wcs.commons.retry import RETRYABLE_STATUS, Backoff, is_transient_failure

log = logging.getLogger(__name__)

USER_AGENT = "wcs-python-sdk/%s (python/%s)" % (__version__, platform.python_version())
READ_SIZE = 1024 * 1024
# Pieces of a streamed body under a bandwidth limit: small, so the wait for each stays short.
THROTTLED_READ_SIZE = 64 * 1024
ERROR_TEXT_LIMIT = 64 * 1024

BodyFactory = Callable[[], Tuple[Any, Mapping[str, str]]]
Sink = Callable[[bytes], None]

__all__ = ["Backoff", "HttpClient", "NO_RESPONSE", "RETRYABLE_STATUS", "Result", "decode_body",
           "is_transient_failure", "multipart_form", "network_error", "no_response", "_get", "_post"]


def multipart_form(fields: Any) -> Tuple[Any, Dict[str, str]]:
    """A streaming ``multipart/form-data`` body of ``fields`` (``(name, value)`` or ``(name, (filename,
    fileobj, type))`` pairs) and its ``Content-Type`` header: the file part is read as it is sent."""
    encoder = MultipartEncoder(fields)
    return encoder, {"Content-Type": encoder.content_type}


class _Resumable(Exception):
    """Internal: a streamed body broke off; ``position`` is the next byte wanted, ``error`` says how."""

    def __init__(self, error: NetworkError, position: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.position = position


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
        """Send with retries; the last response (any status). For this module's own use.

        ``body`` is called before every attempt and returns ``(data, extra_headers)``, so streaming
        bodies start from their beginning again on a retry.

        Raises:
            NetworkError: no response after every retry (or at once, for a failure retrying cannot fix).
            Cancelled: ``cancel`` was set while waiting to retry.
        """
        retries = self.retries if retries is None else int(retries)
        attempt = 0
        while True:
            all_headers: Dict[str, str] = dict(headers or {})
            payload: Any = data
            if body is not None:
                payload, extra = body()
                all_headers.update(extra)
            if self.bucket is not None and payload:
                payload = throttled(payload, self.bucket, cancel)
            try:
                resp = self.session.send(self._prepare(method, url, all_headers, payload, params),
                                         timeout=self.timeout, verify=self._verify,
                                         proxies=self.environment.proxies_for(url),
                                         allow_redirects=allow_redirects, stream=stream)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                error = network_error(exc, url, self.timeout)
                if attempt >= retries or not error.retryable:
                    log.debug("%s %s failed: %s", method, url, exc)
                    raise error from exc
                log.info("%s %s: %s; retry %d/%d", method, url, type(exc).__name__, attempt + 1, retries)
            else:
                if resp.status_code not in RETRYABLE_STATUS or attempt >= retries:
                    log.debug("%s %s -> %d reqid=%s", method, url, resp.status_code, resp.headers.get("X-Reqid"))
                    return resp
                log.info("%s %s -> %d; retry %d/%d", method, url, resp.status_code, attempt + 1, retries)
                resp.close()
            self.backoff.wait(attempt, cancel)
            attempt += 1

    def request(self, method: str, url: str, *, data: Union[bytes, str, None] = None,
                body: Optional[BodyFactory] = None, **kwargs: Any) -> Result:
        """Like :meth:`send`, returning a :class:`Result` (-1 when no response came) whose
        ``attempts`` tells how many times the request went out."""
        sent = [0]

        def counted() -> Tuple[Any, Mapping[str, str]]:
            sent[0] += 1
            return body() if body is not None else (data, {})

        try:
            resp = self.send(method, url, body=counted, **kwargs)
        except NetworkError as exc:
            return no_response(exc, attempts=sent[0])
        with resp:
            try:
                text = resp.text if resp.content else ""
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                return no_response(network_error(exc, url, self.timeout), attempts=sent[0])
        if self.bucket is not None:
            self.bucket.take(len(resp.content))  # small answers (listings, stat) count too
        if resp.status_code in (301, 302, 303, 307, 308) and "Location" in resp.headers:
            answer: Any = resp.headers["Location"]
        else:
            answer = decode_body(text)
        return Result(resp.status_code, answer, _with_reqid(resp.headers), text=text, attempts=sent[0])

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
    out: Dict[str, Any] = dict(headers)
    if not any(name.lower() == "x-reqid" for name in out):
        out["x-reqid"] = None
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
