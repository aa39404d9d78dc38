"""The WSGI app of one emulator: request ids, routing, counters, fault injection and JSON errors.

Every request is routed (:mod:`wcs.emulator.routes`), counted under its category, offered to the fault
injector and then handed to its endpoint (:mod:`wcs.emulator.api`); an
:class:`~wcs.emulator.errors.ApiError` becomes the service's JSON error body, anything else a 500 with
the traceback in the log. Faults are applied before the endpoint runs, so a failed request never
changed state.
"""

import io
import logging
import socket
import struct
import threading
import time
import uuid
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, cast

from werkzeug import exceptions as http_errors
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from wcs.emulator.api import Endpoint
from wcs.emulator.api.wire import json_response
from wcs.emulator.errors import ApiError, BadRequest, MethodNotAllowed, RequestTimeout, RouteNotFound, error_body
from wcs.emulator.faults import CORRUPTIBLE, FaultInjector
from wcs.emulator.routes import RESERVED_BUCKET_NAMES, build_map, category

logger = logging.getLogger(__name__)

_DRAIN_LIMIT = 64 * 1024 * 1024

MkblkRecord = Tuple[Optional[str], int, int]
"""``(UploadBatch header, block order, block size)`` of one mkblk that succeeded."""


class Stats:
    """Request counters per category, faults injected, and the log of completed mkblk calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counts: Dict[str, int] = {"faults_injected": 0}
            self._mkblk_log: List[MkblkRecord] = []

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    def record_mkblk(self, batch: Optional[str], order: int, size: int) -> None:
        with self._lock:
            self._mkblk_log.append((batch, order, size))

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def mkblk_log(self) -> List[MkblkRecord]:
        with self._lock:
            return list(self._mkblk_log)


class _InjectedReset(ConnectionResetError):
    """Raised out of the app after the connection was dropped on purpose; werkzeug swallows it."""


def _error(code: int, message: str) -> Response:
    return json_response(error_body(code, message), code)


def _answer(exc: ApiError) -> Response:
    return json_response(exc.body(), exc.code)


class EmulatorApp:
    """WSGI application of one emulator."""

    def __init__(self, endpoints: Dict[str, Endpoint], faults: FaultInjector, stats: Stats) -> None:
        self.endpoints = endpoints
        self.faults = faults
        self.stats = stats
        self.url_map = build_map()
        self._reqid_prefix = uuid.uuid4().hex[:8]
        self._seq = 0
        self._seq_lock = threading.Lock()
        self._idle = threading.Condition()
        self._active = 0

    def new_reqid(self) -> str:
        """A unique ``X-Reqid`` value."""
        with self._seq_lock:
            self._seq += 1
            seq = self._seq
        return "%s%s%08d" % (time.strftime("%Y%m%d%H%M%S"), self._reqid_prefix, seq)

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Any:
        with self._idle:
            self._active += 1
        try:
            request = Request(environ)
            response = self._dispatch(request)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()
        response.headers["X-Reqid"] = self.new_reqid()
        return response(environ, start_response)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no handler is running (streamed bodies aside); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def _dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except http_errors.MethodNotAllowed:
            return _answer(MethodNotAllowed())
        except (http_errors.NotFound, RequestRedirect):
            return _answer(RouteNotFound())
        if endpoint == "download" and values["bucket"] in RESERVED_BUCKET_NAMES:
            # e.g. GET /file/upload: an API path with the wrong method, not a download
            return _answer(MethodNotAllowed())
        name = category(endpoint)
        self.stats.count(name)
        kind = self.faults.pick(name)
        if (kind == "corrupt" and name not in CORRUPTIBLE) or (kind == "cut" and name != "download"):
            kind = None  # nothing to corrupt in a management call or an mkfile, nothing to cut but a body
        if kind is not None:
            self.stats.count("faults_injected")
            logger.info("injecting fault %s into %s %s", kind, request.method, request.path)
            if kind in ("500", "503"):
                _drain(request)
                return _error(int(kind), "injected fault (wcs-emulator --faults)")
            if kind == "reset":
                _reset(request)
            if kind == "slow":
                time.sleep(self.faults.slow_delay())
            if kind == "corrupt" and name != "download":
                _corrupt_request_body(request)
        try:
            response = self.endpoints[endpoint](request, **values)
            if kind == "corrupt" and name == "download" and response.status_code in (200, 206):
                response.response = _flip_first_byte(cast(Iterable[bytes], response.response))
            if kind == "cut" and response.status_code in (200, 206) and response.content_length:
                response.response = _cut_half_way(cast(Iterable[bytes], response.response), request,
                                                  response.content_length)
            return response
        except ApiError as exc:
            _drain(request)
            return _answer(exc)
        except http_errors.ClientDisconnected:  # the body ended early: nobody is left to read the answer
            logger.debug("%s %s: client disconnected", request.method, request.path)
            return _answer(BadRequest("client disconnected before the end of the request body"))
        except (socket.timeout, ConnectionError) as exc:  # a stalled or vanished client: do not wait on it
            logger.info("%s %s: dropped: %r", request.method, request.path, exc)
            return _answer(RequestTimeout("the request body stalled or the connection dropped"))
        except http_errors.HTTPException as exc:
            logger.info("%s %s: %s", request.method, request.path, exc)
            return _error(exc.code or 400, exc.description or exc.name)
        except Exception as exc:  # answer like a server would, and keep the traceback in the log
            logger.exception("error while handling %s %s", request.method, request.path)
            _drain(request)
            return _error(500, "internal emulator error: %s: %s" % (type(exc).__name__, exc))


def _drain(request: Request) -> None:
    """Read what is left of a request body so the client sees the answer, not a reset."""
    if request.method in ("GET", "HEAD"):
        return
    try:
        left = _DRAIN_LIMIT
        while left > 0:
            data = request.stream.read(min(left, 1024 * 1024))
            if not data:
                break
            left -= len(data)
    except (OSError, ValueError, http_errors.HTTPException) as exc:  # HTTPException: ClientDisconnected
        logger.debug("%s %s: body not drained: %r", request.method, request.path, exc)


# -- faults on the wire ---------------------------------------------------------------------------------


def _reset(request: Request) -> None:
    try:
        if request.method not in ("GET", "HEAD"):
            request.stream.read(1024)  # "mid-request": part of the body was received
    except (OSError, ValueError, http_errors.HTTPException):
        pass
    _drop_connection(request)


def _cut_half_way(chunks: Iterable[bytes], request: Request, length: int) -> Iterator[bytes]:
    """The body's first half (at least one byte), then the connection dropped."""
    left = max(length // 2, 1)
    for chunk in chunks:
        if len(chunk) >= left:
            yield chunk[:left]
            break
        left -= len(chunk)
        yield chunk
    _drop_connection(request)


def _drop_connection(request: Request) -> None:
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            # Linger 0 turns the close into an RST, like a crashed proxy; shutdown wakes the peer.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise _InjectedReset("connection dropped by fault injection")


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
        # Must happen before anything reads request.stream (werkzeug builds it from wsgi.input once).
        request.environ["wsgi.input"] = _FlipByteStream(request.environ["wsgi.input"], offset)


def _flip_first_byte(chunks: Iterable[bytes]) -> Iterator[bytes]:
    flipped = False
    for chunk in chunks:
        if chunk and not flipped:
            chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            flipped = True
        yield chunk
