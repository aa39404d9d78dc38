"""The WSGI app of one emulator: request ids, CORS, routing and counters in front of the fault
middleware, the endpoints behind it, and JSON errors.

Every request gets an ``X-Reqid``; :class:`~wcs.emulator.cors.CorsMiddleware` answers preflights and
adds the CORS headers to every other answer, so those of the router, of the faults and of the endpoints
all carry them. Every other request is routed (:mod:`wcs.emulator.routes`), counted under its category
(written into the environ for what follows), passed through
:class:`~wcs.emulator.faults.FaultMiddleware` and then handed to its endpoint (:mod:`wcs.emulator.api`);
an :class:`~wcs.emulator.errors.ApiError` becomes the service's JSON error body, anything else a 500 with
the traceback in the log. Faults are applied before the endpoint runs, so a failed request never changed
state.
"""

import logging
import socket
import threading
import time
import uuid
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from werkzeug import exceptions as http_errors
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from wcs.emulator.api import Endpoint
from wcs.emulator.api.wire import drain, json_response
from wcs.emulator.cors import CorsMiddleware, CorsPolicy
from wcs.emulator.errors import ApiError, BadRequest, MethodNotAllowed, RequestTimeout, RouteNotFound, error_body
from wcs.emulator.faults import CATEGORY_KEY, FaultInjector, FaultMiddleware
from wcs.emulator.routes import RESERVED_BUCKET_NAMES, build_map, category

logger = logging.getLogger(__name__)

ROUTE_KEY = "wcs.emulator.route"
"""The environ key holding ``(endpoint name, path values)`` of a routed request."""

MkblkRecord = Tuple[Optional[str], int, int]
"""``(UploadBatch header, block order, block size)`` of one mkblk that succeeded."""


class Stats:
    """Request counters per category, faults injected, bytes per category, and the log of completed
    mkblk calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counts: Dict[str, int] = {"faults_injected": 0}
            self._bytes: Dict[str, Dict[str, int]] = {}
            self._mkblk_log: List[MkblkRecord] = []

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    def count_bytes(self, category: str, direction: str, count: int) -> None:
        """Add ``count`` bytes received (``direction`` "in") or sent ("out") for ``category``."""
        with self._lock:
            per = self._bytes.setdefault(category, {"in": 0, "out": 0})
            per[direction] += count

    def traffic(self) -> Dict[str, Dict[str, int]]:
        with self._lock:
            return {name: dict(per) for name, per in self._bytes.items()}

    def record_mkblk(self, batch: Optional[str], order: int, size: int) -> None:
        with self._lock:
            self._mkblk_log.append((batch, order, size))

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def mkblk_log(self) -> List[MkblkRecord]:
        with self._lock:
            return list(self._mkblk_log)


class _CountedBody:
    """A WSGI response body that counts the bytes it hands to the server (the traffic counters)."""

    def __init__(self, body: Iterable[bytes], count: Any) -> None:
        self._body = body
        self._count = count

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._count(len(chunk))
            yield chunk

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


def _answer(exc: ApiError) -> Response:
    return json_response(exc.body(), exc.code)


class EmulatorApp:
    """WSGI application of one emulator: :meth:`__call__` gives the request id, the CORS middleware
    comes next, then the router and counters, the fault middleware, and :meth:`serve` (the app it
    wraps) runs the endpoint.

    Args:
        endpoints: endpoint name -> its handler.
        faults: the fault rules.
        stats: the counters (``preflight`` counts the CORS preflights answered).
        cors: the origins pages may call from; None allows any.
    """

    def __init__(self, endpoints: Dict[str, Endpoint], faults: FaultInjector, stats: Stats,
                 cors: Optional[CorsPolicy] = None) -> None:
        self.endpoints = endpoints
        self.faults = faults
        self.stats = stats
        self.url_map = build_map()
        self._behind_router = FaultMiddleware(self.serve, faults, stats.count)
        # Outside the faults: an injected error is an answer a page must be able to read too.
        self._front = CorsMiddleware(self._routed, cors or CorsPolicy(), stats.count)
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

    def __call__(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        reqid = self.new_reqid()

        def start_with_reqid(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append(("X-Reqid", reqid))
            return start_response(status, headers, exc_info)

        with self._idle:
            self._active += 1
        try:
            return self._front(environ, start_with_reqid)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no handler is running (streamed bodies aside); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def _routed(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Route and count, then pass the request through the fault middleware to its endpoint."""
        refused = self._route(environ)
        if refused is not None:
            return refused(environ, start_response)
        name = environ[CATEGORY_KEY]
        try:
            declared = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        self.stats.count_bytes(name, "in", declared)
        return _CountedBody(self._behind_router(environ, start_response),
                            lambda sent: self.stats.count_bytes(name, "out", sent))

    def _route(self, environ: Dict[str, Any]) -> Optional[Response]:
        """Note the route and category of the request in ``environ`` and count it; or the answer to a
        request no route takes."""
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
        except http_errors.MethodNotAllowed:
            return _answer(MethodNotAllowed())
        except (http_errors.NotFound, RequestRedirect):
            return _answer(RouteNotFound())
        if endpoint == "download" and values["bucket"] in RESERVED_BUCKET_NAMES:
            # e.g. GET /file/upload: an API path with the wrong method, not a download
            return _answer(MethodNotAllowed())
        environ[ROUTE_KEY] = (endpoint, values)
        environ[CATEGORY_KEY] = category(endpoint)
        self.stats.count(environ[CATEGORY_KEY])
        return None

    def serve(self, environ: Dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """The WSGI app behind the fault middleware: runs the routed endpoint."""
        request = Request(environ)
        endpoint, values = environ[ROUTE_KEY]
        return self._respond(request, endpoint, values)(environ, start_response)

    def _respond(self, request: Request, endpoint: str, values: Dict[str, Any]) -> Response:
        try:
            return self.endpoints[endpoint](request, **values)
        except ApiError as exc:
            drain(request)
            return _answer(exc)
        except http_errors.ClientDisconnected:  # the body ended early: nobody is left to read the answer
            logger.debug("%s %s: client disconnected", request.method, request.path)
            return _answer(BadRequest("client disconnected before the end of the request body"))
        except (socket.timeout, ConnectionError) as exc:  # a stalled or vanished client: do not wait on it
            logger.info("%s %s: dropped: %r", request.method, request.path, exc)
            return _answer(RequestTimeout("the request body stalled or the connection dropped"))
        except http_errors.HTTPException as exc:
            logger.info("%s %s: %s", request.method, request.path, exc)
            return json_response(error_body(exc.code or 400, exc.description or exc.name), exc.code or 400)
        except Exception as exc:  # answer like a server would, and keep the traceback in the log
            logger.exception("error while handling %s %s", request.method, request.path)
            drain(request)
            return json_response(error_body(500, "internal emulator error: %s: %s" % (type(exc).__name__, exc)), 500)
