"""The one place that talks HTTP: a ``requests.Session`` per client, retries, and ``Result``.

Every request of the SDK goes through :class:`HttpClient`: one keep-alive pool sized for the
configured concurrency, ``connection_timeout`` on every call, ``isverify`` for TLS, one User-Agent,
and one retry helper (exponential backoff with jitter) for connection errors, 408, 429 and 5xx
other than 579 (579 means the upload is stored and only its callback failed: never redo it).
Upload bodies are produced by a factory per attempt, so a retried request resends from the start.
"""

import json
import logging
import platform
import random
import time
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple, Union
from urllib.parse import parse_qsl

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from wcs import __version__
from wcs.commons.errors import NetworkError, ServiceError
from wcs.commons.util import urlsafe_base64_decode

log = logging.getLogger(__name__)

USER_AGENT = "wcs-python-sdk/%s (python/%s)" % (__version__, platform.python_version())
RETRYABLE_STATUS = frozenset({408, 429}) | (frozenset(range(500, 600)) - {579})
NO_RESPONSE = -1

BodyFactory = Callable[[], Tuple[Any, Mapping[str, str]]]


class _ResultTuple(NamedTuple):
    code: int
    body: Any
    headers: Mapping[str, str]


class Result(_ResultTuple):
    """What a call returned; unpacks like the official SDK's tuple: ``code, body, headers = r``.

    ``code`` is the HTTP status, or -1 when no response came after every retry. ``body`` is the
    decoded JSON, the decoded ``k=v`` pairs of a form-upload answer, the ``Location`` of a 303, or
    the raw text. Extra attributes: ``text`` (raw body), ``upload_id`` (multipart uploads, to
    resume a failed one), ``error`` (the exception behind a -1).
    """

    def __new__(cls, code: int, body: Any, headers: Optional[Mapping[str, str]] = None, *,
                text: str = "", upload_id: Optional[str] = None,
                error: Optional[BaseException] = None) -> "Result":
        self = super().__new__(cls, code, body, CaseInsensitiveDict(headers or {}))
        self.text = text
        self.upload_id = upload_id
        self.error = error
        return self

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300 or self.code == 303

    @property
    def reqid(self) -> Optional[str]:
        return self.headers.get("x-reqid")

    @property
    def message(self) -> str:
        """The service's message for a failure (``message`` or ``error`` member), else the text."""
        if isinstance(self.body, dict):
            for name in ("message", "error", "desc"):
                if self.body.get(name):
                    return str(self.body[name])
        if self.error is not None:
            return str(self.error)
        return self.text or str(self.body)

    def raise_for_status(self) -> "Result":
        """Return self when ``ok``; else raise ``NetworkError`` (-1) or ``ServiceError``."""
        if self.ok:
            return self
        if self.code == NO_RESPONSE:
            raise NetworkError(self.message) from self.error
        raise ServiceError("HTTP %d: %s (reqid %s)" % (self.code, self.message, self.reqid), self)

    def with_upload_id(self, upload_id: Optional[str]) -> "Result":
        return Result(self.code, self.body, self.headers, text=self.text, upload_id=upload_id,
                      error=self.error)

    def __repr__(self) -> str:
        return "Result(code=%r, body=%r, reqid=%r)" % (self.code, self.body, self.reqid)


def decode_body(text: str) -> Any:
    """JSON, else URL-safe Base64 of ``k=v&...`` (form upload answers), else the text itself."""
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        decoded = urlsafe_base64_decode(text).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return text
    if "=" in decoded and decoded.isprintable():
        return dict(parse_qsl(decoded, keep_blank_values=True))
    return text


def to_result(resp: requests.Response) -> Result:
    text = resp.text if resp.content else ""
    if resp.status_code in (301, 302, 303, 307, 308) and "Location" in resp.headers:
        body: Any = resp.headers["Location"]
    else:
        body = decode_body(text)
    return Result(resp.status_code, body, resp.headers, text=text)


def no_response(exc: BaseException) -> Result:
    return Result(NO_RESPONSE, {"message": "%s: %s" % (type(exc).__name__, exc)},
                  {"x-reqid": None}, error=exc)


def is_retryable_error(exc: BaseException) -> bool:
    # A certificate problem will not fix itself; every other transport failure may.
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, (requests.ConnectionError, requests.Timeout,
                            requests.exceptions.ChunkedEncodingError))


def is_connect_failure(exc: Optional[BaseException]) -> bool:
    """True when no connection could be opened at all (refused, unresolvable, connect timeout).

    Such a request never reached the service; trying it again at a higher level (restarting a
    block) cannot help more than the per-request retries already did.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc is not None and exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def is_transient_failure(result: "Result") -> bool:
    """True for a failure that trying again may fix: a retryable status, or no answer for a retryable reason.

    The request may or may not have been carried out (an answer can be lost after the service
    acted), so callers that give up on such a result should first check what the service holds.
    """
    if result.code == NO_RESPONSE:
        return result.error is not None and is_retryable_error(result.error)
    return result.code in RETRYABLE_STATUS


class Backoff:
    """Exponential backoff with jitter: attempt n waits ``base * 2**n`` (capped) times 0.5..1."""

    def __init__(self, base: float = 0.2, cap: float = 8.0, sleep: Callable[[float], None] = time.sleep):
        self.base = base
        self.cap = cap
        self.sleep = sleep

    def delay(self, attempt: int) -> float:
        # The exponent is bounded first: 2 ** 1100 as a float would overflow long before the cap.
        return min(self.cap, self.base * (2.0 ** min(attempt, 60))) * random.uniform(0.5, 1.0)

    def wait(self, attempt: int) -> None:
        self.sleep(self.delay(attempt))


class HttpClient:
    """One session, one pool, one retry policy for a client.

    Args:
        timeout: seconds for connect and for each read (``connection_timeout``).
        verify: check TLS certificates (``isverify``).
        retries: default retry count (``connection_retries``); calls may pass their own.
        pool_size: connections kept per host; at least the upload concurrency.
    """

    def __init__(self, timeout: float = 40, verify: bool = True, retries: int = 3, pool_size: int = 4,
                 backoff: Optional[Backoff] = None) -> None:
        self.timeout = float(timeout)
        self.verify = verify
        self.retries = int(retries)
        self.backoff = backoff or Backoff()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.pool_size = 0
        self.resize_pool(pool_size)

    def resize_pool(self, pool_size: int) -> None:
        """Keep at least ``pool_size`` connections per host (one per upload worker, plus slack).

        Only grows: a larger ``concurrency`` set after construction must not make urllib3 discard
        connections ("pool is full"), and shrinking would gain nothing.
        """
        pool_size = max(int(pool_size), 1)
        if pool_size <= self.pool_size:
            return
        # Retries are ours (send), so a POST body is rewound and nothing is retried twice over.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size + 2, max_retries=0)
        old = self.session.adapters.get("http://")
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if old is not None:
            old.close()
        self.pool_size = pool_size

    @classmethod
    def from_config(cls, cfg: Any) -> "HttpClient":
        return cls(timeout=cfg.connection_timeout, verify=cfg.isverify, retries=cfg.connection_retries,
                   pool_size=cfg.concurrency)

    def close(self) -> None:
        self.session.close()

    def send(self, method: str, url: str, *, headers: Optional[Mapping[str, str]] = None,
             data: Union[bytes, str, None] = None, body: Optional[BodyFactory] = None,
             params: Optional[Mapping[str, Any]] = None, retries: Optional[int] = None,
             allow_redirects: bool = True, stream: bool = False) -> Union[requests.Response, BaseException]:
        """Send with retries; the last response (any status), or the last transport exception.

        ``body`` is called before every attempt and returns ``(data, extra_headers)``, so streaming
        bodies start from their beginning again on a retry.
        """
        retries = self.retries if retries is None else int(retries)
        attempt = 0
        while True:
            all_headers: Dict[str, str] = dict(headers or {})
            payload: Any = data
            if body is not None:
                payload, extra = body()
                all_headers.update(extra)
            try:
                resp = self.session.request(method, url, headers=all_headers, data=payload, params=params,
                                            timeout=self.timeout, verify=self.verify,
                                            allow_redirects=allow_redirects, stream=stream)
            except requests.RequestException as exc:
                if attempt >= retries or not is_retryable_error(exc):
                    log.debug("%s %s failed: %s", method, url, exc)
                    return exc
                log.info("%s %s: %s; retry %d/%d", method, url, type(exc).__name__, attempt + 1, retries)
            else:
                if resp.status_code not in RETRYABLE_STATUS or attempt >= retries:
                    log.debug("%s %s -> %d reqid=%s", method, url, resp.status_code,
                              resp.headers.get("X-Reqid"))
                    return resp
                log.info("%s %s -> %d; retry %d/%d", method, url, resp.status_code, attempt + 1, retries)
                resp.close()
            self.backoff.wait(attempt)
            attempt += 1

    def request(self, method: str, url: str, **kwargs: Any) -> Result:
        """Like :meth:`send`, returning a :class:`Result` (-1 when no response came)."""
        outcome = self.send(method, url, **kwargs)
        if isinstance(outcome, BaseException):
            return no_response(outcome)
        with outcome:
            return to_result(outcome)

    def stream(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Open a streamed response (retried until its headers arrive); the caller closes it.

        Raises:
            NetworkError: no response after every retry.
        """
        outcome = self.send(method, url, stream=True, **kwargs)
        if isinstance(outcome, BaseException):
            raise NetworkError("%s %s: %s" % (method, url, outcome)) from outcome
        return outcome
