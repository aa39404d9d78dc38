"""The WSGI app (request ids, routing, counters, fault injection, JSON errors) and :class:`Emulator`.

:class:`Emulator` owns one data dir, one :class:`~wcs.emulator.state.Store`, a job pool and a threaded
werkzeug server running in a daemon thread. It is what tests, the CLI and other tools start::

    with Emulator(buckets=["b"]) as emu:
        requests.get(emu.url + "/b/key")
"""

import io
import json
import logging
import os
import shutil
import socket
import struct
import tempfile
import threading
import time
import uuid
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from werkzeug.exceptions import ClientDisconnected, HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from wcs.emulator.errors import ApiError, reason_phrase, status_line
from wcs.emulator.faults import CORRUPTIBLE, FaultInjector
from wcs.emulator.handlers import Handlers, json_response
from wcs.emulator.jobs import JobManager
from wcs.emulator.routes import RESERVED_BUCKET_NAMES, build_map, category
from wcs.emulator.state import Store

logger = logging.getLogger(__name__)

DEFAULT_ACCESS_KEY = "wcs-emulator-access-key"
DEFAULT_SECRET_KEY = "wcs-emulator-secret-key"
DEFAULT_PORT = 8930

_DRAIN_LIMIT = 64 * 1024 * 1024
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def validate_bucket_name(name: str) -> None:
    """Raise ValueError unless ``name`` can be a bucket of the emulator."""
    if not name or len(name) > 63 or not set(name) <= _BUCKET_CHARS or name in (".", ".."):
        raise ValueError("bucket name %r: use 1-63 letters, digits, '-', '_' or '.'" % name)
    if name in RESERVED_BUCKET_NAMES:
        raise ValueError("bucket name %r is refused: it equals the first segment of an API path" % name)


class _Stats:
    """Request counters per category, faults injected, and the log of completed mkblk calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counts: Dict[str, int] = {"faults_injected": 0}
            self.mkblk_log: List[Tuple[Optional[str], int, int]] = []

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    def record_mkblk(self, batch: Optional[str], order: int, size: int) -> None:
        with self._lock:
            self.mkblk_log.append((batch, order, size))

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._counts)


class _InjectedReset(ConnectionResetError):
    """Raised out of the app after the connection was dropped on purpose; werkzeug swallows it."""


class EmulatorApp:
    """WSGI application of one emulator."""

    def __init__(self, handlers: Handlers, faults: FaultInjector, stats: _Stats) -> None:
        self.handlers = handlers
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

    @staticmethod
    def _error(code: int, message: str) -> Response:
        return json_response(ApiError(code, message).body(), code)

    def _dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except MethodNotAllowed:
            return self._error(405, "Method Not Allowed")
        except (NotFound, RequestRedirect):
            return self._error(404, "Not Found")
        if endpoint == "download" and values["bucket"] in RESERVED_BUCKET_NAMES:
            # e.g. GET /file/upload: an API path with the wrong method, not a download
            return self._error(405, "Method Not Allowed")
        name = category(endpoint)
        self.stats.count(name)
        kind = self.faults.pick(name)
        if kind == "corrupt" and name not in CORRUPTIBLE:
            kind = None  # nothing to corrupt in a management call or an mkfile
        if kind is not None:
            self.stats.count("faults_injected")
            logger.info("injecting fault %s into %s %s", kind, request.method, request.path)
            if kind in ("500", "503"):
                self._drain(request)
                return self._error(int(kind), "injected fault (wcs-emulator --faults)")
            if kind == "reset":
                self._reset(request)
            if kind == "slow":
                time.sleep(self.faults.slow_delay())
            if kind == "corrupt" and name != "download":
                _corrupt_request_body(request)
        try:
            response = getattr(self.handlers, endpoint)(request, **values)
            if kind == "corrupt" and name == "download" and response.status_code in (200, 206):
                response.response = _flip_first_byte(response.response)
            return response
        except ApiError as exc:
            self._drain(request)
            return json_response(exc.body(), exc.code)
        except ClientDisconnected:  # the body ended early: nobody is left to read the answer
            logger.debug("%s %s: client disconnected", request.method, request.path)
            return self._error(400, "client disconnected before the end of the request body")
        except HTTPException as exc:
            logger.info("%s %s: %s", request.method, request.path, exc)
            return self._error(exc.code or 400, exc.description or exc.name)
        except Exception as exc:  # answer like a server would, and keep the traceback in the log
            logger.exception("error while handling %s %s", request.method, request.path)
            self._drain(request)
            return self._error(500, "internal emulator error: %s: %s" % (type(exc).__name__, exc))

    @staticmethod
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
        except (OSError, ValueError, HTTPException) as exc:  # HTTPException: werkzeug's ClientDisconnected
            logger.debug("%s %s: body not drained: %r", request.method, request.path, exc)

    @staticmethod
    def _reset(request: Request) -> None:
        try:
            if request.method not in ("GET", "HEAD"):
                request.stream.read(1024)  # "mid-request": part of the body was received
        except (OSError, ValueError, HTTPException):
            pass
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


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler with its request log sent to our logger (quiet unless configured)."""

    server_version = "wcs-emulator"  # type: ignore[assignment]  (a property upstream)
    sys_version = ""

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.INFO if type == "info" else logging.WARNING
        logger.log(level, "%s - " + message, self.address_string(), *args)

    def log_error(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Requests refused before they reach the app (malformed request line, header line too long ...)
        get the emulator's JSON error and an ``X-Reqid`` too, instead of the standard library's HTML page
        (which, for an unparsable request line, even comes without a status line)."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        body = json.dumps(ApiError(code, message or reason_phrase(code)).body()).encode("utf-8")
        if getattr(self, "command", None) == "HEAD" or code < 200 or code in (204, 304):
            body = b""
        head = ["%s %s" % (self.protocol_version, status_line(code)),
                "Server: %s" % self.version_string(), "Date: %s" % self.date_time_string(),
                "Content-Type: application/json", "Content-Length: %d" % len(body),
                "X-Reqid: %s" % self.server.app.new_reqid(), "Connection: close"]
        try:
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            self.wfile.flush()
        except OSError:
            pass


class _Server(ThreadedWSGIServer):
    def log(self, type: str, message: str, *args: Any) -> None:
        logger.warning(message, *args)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection error from %s", client_address, exc_info=True)


class Emulator:
    """A local WCS service: upload, management and download on one origin.

    Args:
        data_dir: where metadata and objects live; None means a private temporary directory that is
            deleted by :meth:`stop`.
        buckets: buckets to create (existing ones are kept).
        access_key, secret_key: the one key pair the emulator accepts and signs callbacks with.
        host, port: where to listen; port 0 picks a free port.
        faults, fault_seed: fault injection spec (see :mod:`wcs.emulator.faults`) and its seed.
        tls_cert, tls_key: PEM files to serve HTTPS instead of HTTP.
    """

    def __init__(self, data_dir: Optional[str] = None, buckets: Iterable[str] = (),
                 access_key: str = DEFAULT_ACCESS_KEY, secret_key: str = DEFAULT_SECRET_KEY,
                 host: str = "127.0.0.1", port: int = 0, faults: Union[str, Iterable, None] = None,
                 fault_seed: Optional[int] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None) -> None:
        if bool(tls_cert) != bool(tls_key):
            raise ValueError("tls_cert and tls_key go together")
        self.buckets = list(buckets)
        for name in self.buckets:
            validate_bucket_name(name)
        self.access_key = access_key
        self.secret_key = secret_key
        self.host = host
        self.port = int(port)
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self._faults = FaultInjector(faults, fault_seed)
        self._own_dir = data_dir is None
        self.data_dir = None if data_dir is None else os.path.abspath(data_dir)
        self._stats = _Stats()
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self.store: Optional[Store] = None
        self.jobs: Optional[JobManager] = None
        self._stop_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def url(self) -> str:
        """Base URL of every API, e.g. ``http://127.0.0.1:41234``."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%d" % (self.scheme, host, self.port)

    def start(self) -> "Emulator":
        """Open the store and start serving in a daemon thread; returns once connections are accepted."""
        if self._server is not None:
            return self
        if self.data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="wcs-emulator-")
        self.store = Store(self.data_dir)
        for name in self.buckets:
            self.store.create_bucket(name)
        self.jobs = JobManager(self.store, self.access_key, self.secret_key, lambda: self.url)
        handlers = Handlers(self.store, self.jobs, self.access_key, self.secret_key, lambda: self.url,
                            on_mkblk=self._stats.record_mkblk)
        app = EmulatorApp(handlers, self._faults, self._stats)
        ssl_context = (self.tls_cert, self.tls_key) if self.tls_cert else None
        try:
            server = _Server(self.host, self.port, app, handler=_RequestHandler, ssl_context=ssl_context)
        except SystemExit:  # werkzeug exits on bind errors; a library must not
            self._close_state()
            raise OSError("cannot listen on %s:%d" % (self.host, self.port)) from None
        except BaseException:
            self._close_state()
            raise
        self._server = server
        self.port = server.port
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="wcs-emulator", daemon=True)
        self._thread.start()
        logger.info("WCS emulator listening on %s (data dir %s)", self.url, self.data_dir)
        return self

    def _close_state(self) -> None:
        if self.jobs is not None:
            self.jobs.shutdown()
            self.jobs = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def stop(self) -> None:
        """Stop serving, finish running jobs, close the store; idempotent."""
        with self._stop_lock:
            server, self._server = self._server, None
            if server is not None:
                server.shutdown()
                server.server_close()
                # Handlers run in their own threads; let them finish before the store closes under them.
                server.app.wait_idle(10.0)
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            self._close_state()
            if self._own_dir and self.data_dir and os.path.isdir(self.data_dir):
                shutil.rmtree(self.data_dir, ignore_errors=True)
                self.data_dir = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return "Emulator(url=%r, data_dir=%r)" % (self.url, self.data_dir)

    # -- administration -----------------------------------------------------------------------------

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name`` (kept in the data dir); raises ValueError for a refused name."""
        validate_bucket_name(name)
        if name not in self.buckets:
            self.buckets.append(name)
        if self.store is not None:
            self.store.create_bucket(name)

    def set_faults(self, spec: Union[str, Iterable, None], seed: Optional[int] = None) -> None:
        """Replace the fault rules (same SPEC as ``--faults`` or parsed rules); None clears them."""
        self._faults.configure(spec, seed)

    @property
    def counters(self) -> Dict[str, int]:
        """Snapshot: requests served per category (upload, mkblk, bput, mkfile, mgr, download) and
        ``faults_injected``."""
        return self._stats.snapshot()

    @property
    def mkblk_log(self) -> List[Tuple[Optional[str], int, int]]:
        """``(UploadBatch header, block order, block size)`` of every mkblk that succeeded."""
        with self._stats._lock:
            return list(self._stats.mkblk_log)

    def reset_counters(self) -> None:
        """Zero :attr:`counters` and empty :attr:`mkblk_log`."""
        self._stats.reset()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (e.g. requests of a killed client still in a
        ``slow`` fault's delay); False if some still run after ``timeout`` seconds."""
        server = self._server
        return server is None or server.app.wait_idle(timeout)

    def config_text(self) -> str:
        """The ``.wcscfg`` content that points a client at this emulator."""
        return ("[default]\naccess_key = %s\nsecret_key = %s\nput_url = %s\nmgr_url = %s\nishttps = %s\n"
                "download_url = %s/{bucket}\n"
                % (self.access_key, self.secret_key, self.url, self.url, self.scheme == "https", self.url))

    def write_config(self, path: str) -> str:
        """Write :meth:`config_text` to ``path`` with mode 0600 (it holds the secret key); returns path."""
        path = os.path.expanduser(path)
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".wcscfg-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fp:
                fp.write(self.config_text())
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
        return path


__all__ = ["Emulator", "EmulatorApp", "DEFAULT_ACCESS_KEY", "DEFAULT_SECRET_KEY", "DEFAULT_PORT",
           "validate_bucket_name", "status_line"]
