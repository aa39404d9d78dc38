"""The emulator's HTTP server: a selector front end (:mod:`wcs.emulator.connections`) that waits for
complete request headers without a thread per connection, and a fixed pool of worker threads that run
each request through werkzeug's WSGI request handler, streaming the body to the app as it arrives.

Why not werkzeug's development server: one thread per connection and no timeouts, so idle connections
exhaust threads and file descriptors. Why not cheroot or waitress: cheroot hands every new connection
to a worker that blocks reading its request line (measured: 100 silent connections delayed a request by
14 s with 10 workers and a 3 s timeout, and TLS handshakes run in its one selector thread); waitress reads
each whole request body before calling the app (no hashing as the bytes arrive, 1 GiB default cap) and
has no TLS.

Every request gets ``Connection: close`` (werkzeug's handler does not keep connections alive), so a
worker serves exactly one request per connection. Requests refused before they reach the app (malformed
request line, headers too large, too many connections) get the emulator's JSON error and an ``X-Reqid``.
"""

import io
import json
import logging
import queue
import socket
import ssl
import threading
import time
from typing import Any, List, Optional, Tuple

from werkzeug.serving import WSGIRequestHandler

from wcs.emulator.app import EmulatorApp
from wcs.emulator.connections import Gate, Limits, close_quietly
from wcs.emulator.errors import error_body, reason_phrase, status_line

logger = logging.getLogger(__name__)

_PROTOCOL = "HTTP/1.1"
_SERVER = "wcs-emulator"


def error_bytes(code: int, message: str, reqid: str, head_only: bool = False) -> bytes:
    """A complete ``Connection: close`` response carrying the emulator's JSON error."""
    body = b"" if head_only else json.dumps(error_body(code, message)).encode("utf-8")
    head = ["%s %s" % (_PROTOCOL, status_line(code)), "Server: %s" % _SERVER,
            "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
            "Content-Type: application/json", "Content-Length: %d" % len(body),
            "X-Reqid: %s" % reqid, "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class _Prefixed(io.RawIOBase):
    """A socket's input with the bytes the front end already read put back in front."""

    def __init__(self, prefix: bytes, sock: socket.socket) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            count = min(len(buffer), len(self._prefix))
            buffer[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        return self._sock.recv_into(buffer)


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, reading from the bytes the front end gathered, then from the socket with the
    server's io timeout; its request log goes to our logger (quiet unless configured)."""

    server_version = _SERVER
    sys_version = ""
    protocol_version = _PROTOCOL
    server: "Server"  # type: ignore[assignment]

    def __init__(self, sock: socket.socket, address: Tuple, server: "Server", prefix: bytes) -> None:
        self._prefix = prefix
        super().__init__(sock, address, server)  # type: ignore[arg-type]

    def setup(self) -> None:
        self.timeout = self.server.limits.io_timeout  # type: ignore[misc]  # per server, not per class
        super().setup()
        self.rfile = io.BufferedReader(_Prefixed(self._prefix, self.connection), 64 * 1024)

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.INFO if type == "info" else logging.WARNING
        logger.log(level, "%s - " + message, self.address_string(), *args)

    def log_error(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """The emulator's JSON error instead of the standard library's HTML page (which, for an
        unparsable request line, even comes without a status line)."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        head_only = getattr(self, "command", None) == "HEAD" or code < 200 or code in (204, 304)
        try:
            self.wfile.write(error_bytes(code, message or reason_phrase(code), self.server.app.new_reqid(),
                                         head_only))
            self.wfile.flush()
        except OSError:
            pass


class Server:
    """Serves one :class:`~wcs.emulator.app.EmulatorApp` (:attr:`app`) on :attr:`port` within
    :attr:`limits`; :meth:`serve_forever` in a thread, :meth:`shutdown` from another."""

    multithread = True
    multiprocess = False
    passthrough_errors = False

    def __init__(self, listener: socket.socket, app: EmulatorApp, limits: Limits,
                 ssl_context: Optional[ssl.SSLContext]) -> None:
        self.socket = listener
        self.app = app
        self.limits = limits
        self.ssl_context = ssl_context
        self.server_address = listener.getsockname()[:2]
        self.port: int = self.server_address[1]
        self._jobs: queue.Queue[Optional[Tuple[socket.socket, Tuple, bytes]]] = queue.Queue()
        self._active: List[socket.socket] = []
        self._active_lock = threading.Lock()
        self._stopped = threading.Event()
        self.gate = Gate(listener, limits, self._enqueue, self._refusal, ssl_context)
        self._workers = [threading.Thread(target=self._work, name="wcs-emulator-worker-%d" % i, daemon=True)
                         for i in range(limits.workers)]
        for worker in self._workers:
            worker.start()

    def _refusal(self, code: int, message: str) -> bytes:
        return error_bytes(code, message, self.app.new_reqid())

    def _enqueue(self, sock: socket.socket, address: Tuple, prefix: bytes) -> None:
        self._jobs.put((sock, address, prefix))

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.warning(message, *args)

    def serve_forever(self) -> None:
        try:
            self.gate.run()
        finally:
            self._stopped.set()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            sock, address, prefix = job
            with self._active_lock:
                self._active.append(sock)
            try:
                sock.setblocking(True)
                _RequestHandler(sock, address, self, prefix)
                try:
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            except Exception:  # the handler already answered what it could
                logger.debug("connection error from %s", address, exc_info=True)
            finally:
                with self._active_lock:
                    self._active.remove(sock)
                close_quietly(sock)
                self.gate.done()

    def shutdown(self, grace: float = 2.0) -> None:
        """Stop accepting, close connections still waiting for headers, let running requests finish for
        up to ``grace`` seconds, then cut the connections of those still running and end the workers."""
        self.gate.stop()
        self._stopped.wait(grace)
        deadline = time.monotonic() + grace
        while self.gate.open_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._active_lock:
            for sock in self._active:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a worker blocked reading a stalled body
                except OSError:
                    pass
        while True:  # connections dispatched but not started: nobody will serve them now
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                close_quietly(job[0])
                self.gate.done()
        for _ in self._workers:
            self._jobs.put(None)
        for worker in self._workers:
            worker.join(grace)

    def server_close(self) -> None:
        close_quietly(self.socket)


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port).

    Raises:
        OSError: it cannot listen there (the message names the address).
    """
    try:
        return _listen(host, port)
    except OSError as exc:
        raise OSError(exc.errno, "cannot listen on %s:%d: %s" % (host, port, exc.strerror or exc)) from None


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server TLS context for PEM files ``cert`` and ``key`` (OSError or ssl.SSLError if unusable)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except BaseException:
        sock.close()
        raise
    return sock


__all__ = ["Server", "Limits", "listen", "tls_context", "error_bytes"]
