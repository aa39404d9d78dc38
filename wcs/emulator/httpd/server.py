""":class:`Server`: the selector front end (:mod:`~wcs.emulator.httpd.gate`) and a fixed pool of worker
threads that run one request each (:mod:`~wcs.emulator.httpd.exchange`) and hand the connection back;
plus :func:`listen` and :func:`tls_context`.
"""

import logging
import queue
import socket
import ssl
import threading
import time
from typing import Any, Callable, List, Optional

from wcs.emulator.httpd.answer import error_bytes
from wcs.emulator.httpd.conn import CLOSE, Conn
from wcs.emulator.httpd.exchange import Exchange
from wcs.emulator.httpd.gate import Gate
from wcs.emulator.httpd.limits import Limits

logger = logging.getLogger(__name__)


class Server:
    """Serves a WSGI app (:attr:`app`, which has ``new_reqid()`` for the ``X-Reqid`` of answers the server
    makes itself) on :attr:`port` within :attr:`limits`; :meth:`serve_forever` in a thread,
    :meth:`shutdown` from another."""

    def __init__(self, listener: socket.socket, app: Any, limits: Limits,
                 ssl_context: Optional[ssl.SSLContext]) -> None:
        self.socket = listener
        self.app = app
        self.new_reqid: Callable[[], str] = app.new_reqid
        self.limits = limits
        self.keepalive = limits.keepalive_timeout > 0
        self.server_address = listener.getsockname()[:2]
        self.port: int = self.server_address[1]
        self._jobs: queue.Queue[Optional[Conn]] = queue.Queue()
        self._stopped = threading.Event()
        self.gate = Gate(listener, limits, self._jobs.put, self._refusal, ssl_context)
        self._workers = [threading.Thread(target=self._work, name="wcs-emulator-worker-%d" % i, daemon=True)
                         for i in range(limits.workers)]
        for worker in self._workers:
            worker.start()

    @property
    def stopping(self) -> bool:
        return self.gate.stopping

    @property
    def connections_accepted(self) -> int:
        return self.gate.accepted

    def _refusal(self, code: int, message: str) -> bytes:
        return error_bytes(code, message, self.new_reqid())

    def serve_forever(self) -> None:
        try:
            self.gate.run()
        finally:
            self._stopped.set()

    def _work(self) -> None:
        while True:
            conn = self._jobs.get()
            if conn is None:
                return
            try:
                outcome = Exchange(conn, self).run()
            except Exception:  # a bug here must cost one connection, not the worker
                logger.exception("request from %s failed", conn.address)
                outcome = CLOSE
            self.gate.resume(conn, outcome)

    def shutdown(self, grace: float = 2.0) -> None:
        """Stop accepting and close every connection the selector holds (idle, waiting, lingering, slow
        readers), let running requests finish for up to ``grace`` seconds, then cut the connections of
        those still running and end the workers."""
        self.gate.stop()
        self._stopped.wait(grace)
        deadline = time.monotonic() + grace
        while self.gate.open_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        for sock in self.gate.busy_sockets():
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a worker blocked on a stalled client
            except OSError:
                pass
        while True:  # connections dispatched but not started: nobody will serve them now
            try:
                conn = self._jobs.get_nowait()
            except queue.Empty:
                break
            if conn is not None:
                self.gate.resume(conn, CLOSE)
        for _ in self._workers:
            self._jobs.put(None)
        for worker in self._workers:
            worker.join(grace)

    def server_close(self) -> None:
        try:
            self.socket.close()
        except OSError:
            pass


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


__all__: List[str] = ["Server", "listen", "tls_context"]
