"""Fault injection: make chosen endpoints fail at a given rate, reproducibly, as a WSGI middleware.

A spec is a comma list of ``ENDPOINT:KIND:RATE`` rules, e.g. ``mkblk:500:0.3,download:reset:0.1``.

* ENDPOINT: ``upload`` (form upload), ``mkblk``, ``bput``, ``mkfile``, ``mgr`` (every management, fmgr,
  fops, list and status call), ``download``, or ``*`` for all.
* KIND: ``500`` / ``503`` answer the JSON error at once; ``reset`` reads a little of the request body and
  drops the TCP connection (RST) without answering; ``slow`` waits 0.2-1.0 s, then serves normally;
  ``corrupt`` inverts one byte of the content on the wire and then serves normally: of what is
  received for ``upload`` (the last byte of the file part), ``mkblk`` and ``bput`` (the middle byte of
  the chunk) - the object or block then holds the wrong byte and the answer's ``hash`` / ``crc32``
  describe it, as for a corruption a client must catch - and of what is sent for ``download`` (the
  first byte; the ``ETag`` stays the stored hash). It never applies to ``mgr`` or ``mkfile``;
  ``cut`` (``download`` only) sends the headers and about half of the body, then drops the connection
  (RST): the client sees a body shorter than announced, as when a link dies mid-transfer.
* RATE: probability in [0, 1].

:class:`FaultMiddleware` wraps the app that runs the endpoints; the request's category is in the
environ (:data:`CATEGORY_KEY`, set by the router in front of it). Faults are decided and applied
before the endpoint runs, so a failed request never changed state and is safe to retry (``corrupt``
aside: it changes the stored bytes, which is its point). Decisions come from one
``random.Random(seed)`` shared by all rules, so the same seed and the same sequence of requests give
the same faults.
"""

import io
import logging
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request
from werkzeug.wsgi import ClosingIterator

from wcs.emulator.api.wire import drain, json_response
from wcs.emulator.errors import error_body

logger = logging.getLogger(__name__)
ENDPOINTS = ("upload", "mkblk", "bput", "mkfile", "mgr", "download", "*")
KINDS = ("500", "503", "reset", "slow", "corrupt", "cut")
CORRUPTIBLE = ("upload", "mkblk", "bput", "download")
"""Endpoints whose content ``corrupt`` can damage; elsewhere a ``corrupt`` draw injects nothing."""
CATEGORY_KEY = "wcs.emulator.category"
"""The environ key holding the request's endpoint category (``upload`` ... ``download``, ``mgr``)."""


@dataclass(frozen=True)
class FaultRule:
    endpoint: str
    kind: str
    rate: float

    def matches(self, endpoint: str) -> bool:
        return self.endpoint == "*" or self.endpoint == endpoint


def parse_faults(spec: Union[str, Iterable, None]) -> List[FaultRule]:
    """Parse a ``--faults`` SPEC (or pass through already parsed rules / ``(endpoint, kind, rate)`` tuples).

    Raises:
        ValueError: a rule is malformed.
    """
    if spec is None:
        return []
    if isinstance(spec, str):
        items: Sequence = [part.strip() for part in spec.split(",") if part.strip()]
    else:
        items = list(spec)
    rules = []
    for item in items:
        if isinstance(item, FaultRule):
            rule = item
        else:
            parts = item.split(":") if isinstance(item, str) else list(item)
            if len(parts) != 3:
                raise ValueError("fault rule %r is not ENDPOINT:KIND:RATE" % (item,))
            endpoint, kind, rate = (str(parts[0]).strip(), str(parts[1]).strip(), parts[2])
            try:
                rate = float(rate)
            except ValueError:
                raise ValueError("fault rule %r: RATE must be a number" % (item,)) from None
            rule = FaultRule(endpoint, kind, rate)
        if rule.endpoint not in ENDPOINTS:
            raise ValueError("fault rule %r: ENDPOINT must be one of %s" % (item, ", ".join(ENDPOINTS)))
        if rule.kind not in KINDS:
            raise ValueError("fault rule %r: KIND must be one of %s" % (item, ", ".join(KINDS)))
        if not 0.0 <= rule.rate <= 1.0:
            raise ValueError("fault rule %r: RATE must lie in 0..1" % (item,))
        rules.append(rule)
    return rules


class FaultInjector:
    """Thread-safe, seeded decision of which request gets which fault."""

    def __init__(self, spec: Union[str, Iterable, None] = None, seed: Optional[int] = None) -> None:
        self._lock = threading.Lock()
        self.configure(spec, seed)

    def configure(self, spec: Union[str, Iterable, None], seed: Optional[int] = None) -> None:
        rules = parse_faults(spec)
        with self._lock:
            self.rules = rules
            self._rng = random.Random(seed)

    def pick(self, endpoint: str) -> Optional[str]:
        """The fault KIND to inject into a request to ``endpoint``, or None.

        Each matching rule draws once, in spec order; the first hit wins.
        """
        with self._lock:
            for rule in self.rules:
                if rule.matches(endpoint) and self._rng.random() < rule.rate:
                    return rule.kind
        return None

    def slow_delay(self) -> float:
        with self._lock:
            return 0.2 + 0.8 * self._rng.random()


def applicable(kind: Optional[str], endpoint: str) -> Optional[str]:
    """``kind`` unless it cannot apply to ``endpoint``: nothing to corrupt in a management call or an
    mkfile, nothing to cut but a download's body."""
    if (kind == "corrupt" and endpoint not in CORRUPTIBLE) or (kind == "cut" and endpoint != "download"):
        return None
    return kind


class InjectedReset(ConnectionResetError):
    """Raised out of the app after the connection was dropped on purpose; the server swallows it."""


WsgiApp = Callable[[Dict[str, Any], Any], Iterable[bytes]]


class FaultMiddleware:
    """WSGI middleware applying :class:`FaultInjector` decisions to the requests it passes to ``app``.

    Args:
        app: the WSGI app running the endpoints.
        injector: the rules and their seeded random source.
        count: called with ``"faults_injected"`` for every fault applied.
    """

    def __init__(self, app: WsgiApp, injector: FaultInjector, count: Callable[[str], None]) -> None:
        self.app = app
        self.injector = injector
        self.count = count

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        endpoint = environ.get(CATEGORY_KEY)
        kind = applicable(self.injector.pick(endpoint), endpoint) if endpoint else None
        if kind is None:
            return self.app(environ, start_response)
        self.count("faults_injected")
        request = Request(environ)
        logger.info("injecting fault %s into %s %s", kind, request.method, request.path)
        if kind in ("500", "503"):
            drain(request)
            return json_response(error_body(int(kind), "injected fault (wcs-emulator --faults)"),
                                 int(kind))(environ, start_response)
        if kind == "reset":
            _reset(request)
        if kind == "slow":
            time.sleep(self.injector.slow_delay())
        if kind == "corrupt" and endpoint != "download":
            _corrupt_request_body(request)
        if kind == "corrupt" and endpoint == "download":
            return self._alter_body(environ, start_response, lambda chunks, length: _flip_first_byte(chunks))
        if kind == "cut":
            return self._alter_body(environ, start_response,
                                    lambda chunks, length: _cut_half_way(chunks, environ, length))
        return self.app(environ, start_response)

    def _alter_body(self, environ: Dict[str, Any], start_response: Any,
                    alter: Callable[[Iterator[bytes], int], Iterator[bytes]]) -> Iterable[bytes]:
        """Serve, then pass a successful (200 / 206) body with a length through ``alter``."""
        seen: Dict[str, Any] = {}

        def start(status: str, headers: List[Any], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        length = next((int(value) for name, value in seen.get("headers", ())
                       if name.lower() == "content-length" and value.isdigit()), 0)
        if not str(seen.get("status", "")).startswith(("200", "206")) or not length:
            return body
        return ClosingIterator(alter(iter(body), length), getattr(body, "close", None))


# -- faults on the wire ---------------------------------------------------------------------------------


def _reset(request: Request) -> None:
    try:
        if request.method not in ("GET", "HEAD"):
            request.stream.read(1024)  # "mid-request": part of the body was received
    except (OSError, ValueError, HTTPException):
        pass
    _drop_connection(request.environ)


def _cut_half_way(chunks: Iterator[bytes], environ: Dict[str, Any], length: int) -> Iterator[bytes]:
    """The body's first half (at least one byte), then the connection dropped."""
    left = max(length // 2, 1)
    for chunk in chunks:
        if len(chunk) >= left:
            yield chunk[:left]
            break
        left -= len(chunk)
        yield chunk
    _drop_connection(environ)


def _drop_connection(environ: Dict[str, Any]) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            # Linger 0 turns the close into an RST, like a crashed proxy; shutdown wakes the peer.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise InjectedReset("connection dropped by fault injection")


class _FlipByteStream(io.RawIOBase):
    """A request body that reads like the original, except that the byte at ``offset`` is inverted."""

    def __init__(self, stream: Any, offset: int) -> None:
        super().__init__()
        self._stream = stream
        self._offset = offset
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        if self._pos <= self._offset < self._pos + count:
            buffer[self._offset - self._pos] ^= 0xFF
        self._pos += count
        return count


def _corrupt_request_body(request: Request) -> None:
    """Invert one byte of the uploaded content as it arrives: the middle byte of a chunk (mkblk,
    bput), the last byte of the file part of a form upload (the one before the closing boundary)."""
    length = request.content_length or 0
    if request.mimetype == "multipart/form-data":
        boundary = request.mimetype_params.get("boundary", "")
        offset = length - len("\r\n--%s--\r\n" % boundary) - 1
    else:
        offset = length // 2
    if length > 0 and offset >= 0:
        # The app behind builds its request stream from wsgi.input, after this.
        request.environ["wsgi.input"] = _FlipByteStream(request.environ["wsgi.input"], offset)


def _flip_first_byte(chunks: Iterator[bytes]) -> Iterator[bytes]:
    flipped = False
    for chunk in chunks:
        if chunk and not flipped:
            chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            flipped = True
        yield chunk
