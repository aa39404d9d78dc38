"""The front end of the emulator's HTTP server: one selector thread that does every wait on a client, so
that an idle, slow or stalled client costs a file descriptor and a few bytes, never a worker.

It accepts connections (``TCP_NODELAY`` on each: small answers must not wait on Nagle and delayed
ACKs), completes TLS handshakes, gathers a request's head and the first bytes of its body, and hands the
connection to a worker (the ``dispatch`` callback) only when the worker will not wait
(:mod:`~wcs.emulator.httpd.intake`). Workers hand connections back
(:meth:`Gate.resume`): kept alive (they wait here for their next request, in order, pipelined ones
included), with the rest of an answer to write (a slow reader), to linger, or to close. Which
connection is where, and registered for what, is :class:`~wcs.emulator.httpd.connections.Connections`.

Limits (:class:`~wcs.emulator.httpd.limits.Limits`):

* at most ``max_connections`` open: at the cap the connection waiting longest here (for a head, for body
  bytes, idle between requests, or lingering) is closed to make room; when every connection is busy in
  a worker, a new one gets ``503``;
* ``header_timeout`` from accept (TLS handshake included), or from the first byte of a later request,
  to the end of the head; ``keepalive_timeout`` for an idle kept-alive connection; a body's first bytes
  and an answer's rest keep the request's pace (``io_timeout``, ``min_rate`` after ``rate_grace``);
  a head larger than ``max_header_bytes`` gets ``431``;
* running out of file descriptors (``EMFILE``) makes room the same way, or pauses accepting briefly,
  instead of spinning on a listening socket that stays readable.

Requests refused here (a malformed head or framing, a body that stalls before it reaches a worker) get
the emulator's JSON error; the connection is then closed after lingering (the written side shut, what
the client still sends read and discarded for up to :data:`LINGER_TIME`), so the client reads the answer
instead of a reset.
"""

import errno
import logging
import selectors
import socket
import ssl
import threading
import time
from typing import Callable, List, Optional, Tuple

from wcs.emulator.httpd.answer import Answer, unacknowledged
from wcs.emulator.httpd.conn import (
    BODY,
    CLOSE,
    HANDSHAKE,
    HEAD,
    KEEP,
    LINGER,
    LINGER_THEN_CLOSE,
    WRITE,
    WRITE_REST,
    Conn,
    close_quietly,
)
from wcs.emulator.httpd.connections import Connections
from wcs.emulator.httpd.intake import READY, Refusal, examine
from wcs.emulator.httpd.limits import Limits

logger = logging.getLogger(__name__)

LINGER_TIME = 2.0
_LINGER_BYTES = 64 * 1024 * 1024
_ACCEPT_PAUSE = 0.1
"""Seconds the listener is left alone after accept() failed for lack of file descriptors."""
_TICK = 0.25
"""Longest select() wait: how soon timeouts and a shutdown are noticed."""
_READ = 65536
_WRITES_PER_EVENT = 16
"""Writes for one answer per readiness event, so one fast reader does not starve the others."""
_WAKE = object()

Dispatch = Callable[[Conn], None]
"""Called with a connection whose request (``conn.head``) is ready for a worker."""
Refuse = Callable[[int, str], bytes]
"""Builds the complete answer (status ``code``, a message) sent to a request refused here."""
_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


class Gate:
    """The selector loop of one listening socket; :meth:`run` until :meth:`stop`."""

    def __init__(self, listener: socket.socket, limits: Limits, dispatch: Dispatch, refuse: Refuse,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self.listener = listener
        self.limits = limits
        self.accepted = 0
        """Connections accepted so far."""
        self._dispatch_to = dispatch
        self._refuse_with = refuse
        self._ssl = ssl_context
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self.connections = Connections(self._selector)
        """Where each open connection is (waiting here, written to, in a worker)."""
        self._paused_until = 0.0
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, None)
        self._selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)

    # -- what other threads call -------------------------------------------------------------------------

    @property
    def open_connections(self) -> int:
        return len(self.connections)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def resume(self, conn: Conn, outcome: str) -> None:
        """A worker is done with ``conn``; ``outcome`` says what next (:data:`~wcs.emulator.httpd.conn.KEEP`,
        ``WRITE_REST``, ``LINGER_THEN_CLOSE``, ``CLOSE``)."""
        if not self.connections.hand_back(conn, outcome):  # the loop has ended
            if conn.answer is not None:
                conn.answer.close()
            close_quietly(conn.sock)
            return
        self._wake()

    def busy_sockets(self) -> List[socket.socket]:
        """Sockets of the connections in workers now."""
        return self.connections.busy_sockets()

    def stop(self) -> None:
        self._stop.set()
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:  # full: a wake-up is pending anyway; closed: the loop has ended
            pass

    # -- the loop ------------------------------------------------------------------------------------------

    def run(self) -> None:
        next_check = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if self._paused_until and now >= self._paused_until:
                    self._paused_until = 0.0
                    self._selector.register(self.listener, selectors.EVENT_READ, None)
                for key, _ in self._selector.select(_TICK):
                    if key.data is None:
                        self._accept()
                    elif key.data is _WAKE:
                        self._take_returned()
                    else:
                        self._event(key.data)
                now = time.monotonic()
                if now >= next_check:
                    self._expire(now)
                    next_check = now + _TICK
        finally:
            self.connections.close_all()
            self._selector.close()
            close_quietly(self._wake_r)
            close_quietly(self._wake_w)

    def _accept(self) -> None:
        for _ in range(64):  # a burst at a time, then timeouts and reads get their turn
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    if not self.connections.evict_oldest():
                        self._pause_accepting()
                    return
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                raise
            self.accepted += 1
            if self.open_connections >= self.limits.max_connections:
                self._take_returned()  # connections workers are done with, not seen yet, count as busy
            if self.open_connections >= self.limits.max_connections and not self.connections.evict_oldest():
                try:
                    sock.setblocking(False)
                    sock.send(self._refuse_with(503, "too many connections"))
                except OSError:
                    pass
                close_quietly(sock)
                continue
            self._add(sock, address)

    def _pause_accepting(self) -> None:
        logger.warning("out of file descriptors: not accepting for %.1f s", _ACCEPT_PAUSE)
        self._selector.unregister(self.listener)
        self._paused_until = time.monotonic() + _ACCEPT_PAUSE

    def _add(self, sock: socket.socket, address: Tuple) -> None:
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not TCP (a test's socketpair): nothing to tune
            pass
        if self._ssl is not None:
            try:
                sock = self._ssl.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            except (OSError, ValueError):
                close_quietly(sock)
                return
        conn = Conn(sock, address, self._ssl is not None, time.monotonic() + self.limits.header_timeout)
        self.connections.wait(conn, selectors.EVENT_READ)
        self._event(conn)  # the request often came with the connection

    def _event(self, conn: Conn) -> None:
        try:
            if conn.state == HANDSHAKE:
                self._handshake(conn)
            elif conn.state in (HEAD, BODY):
                self._read(conn)
            elif conn.state == WRITE:
                self._write(conn)
            elif conn.state == LINGER:
                self._linger(conn)
        except (OSError, ValueError) as exc:  # a reset, a failed handshake: nothing to answer
            logger.debug("connection from %s dropped (%s): %r", conn.address, conn.state, exc)
            self.connections.close(conn)

    # -- requests coming in ------------------------------------------------------------------------------

    def _handshake(self, conn: Conn) -> None:
        try:
            conn.sock.do_handshake()  # type: ignore[attr-defined]
        except ssl.SSLWantReadError:
            self.connections.register(conn, selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self.connections.register(conn, selectors.EVENT_WRITE)
            return
        conn.state = HEAD
        self.connections.register(conn, selectors.EVENT_READ)
        self._read(conn)

    def _read(self, conn: Conn) -> None:
        """Read what is there (TLS keeps decrypted bytes select() does not see) until the request can go
        to a worker or was refused."""
        while conn.state in (HEAD, BODY):
            try:
                data = conn.sock.recv(_READ)
            except _WOULD_BLOCK:
                return
            if not data:
                conn.peer_closed = True
                if conn.state == BODY:
                    self._refuse(conn, 400, "the request body ended early (the client closed its side)")
                else:
                    self.connections.close(conn)
                return
            if conn.state == BODY:
                assert conn.pace is not None
                conn.pace.moved(len(data))
            elif conn.idle:
                conn.idle = False
                conn.deadline = time.monotonic() + self.limits.header_timeout
            conn.buffer += data
            self._step(conn)

    def _step(self, conn: Conn) -> None:
        """Act on what the buffer holds: wait, dispatch, or refuse."""
        verdict = examine(conn, self.limits)
        if verdict == READY:
            self._dispatch(conn)
        elif isinstance(verdict, Refusal):
            self._refuse(conn, verdict.code, verdict.message)

    def _dispatch(self, conn: Conn) -> None:
        self.connections.to_worker(conn)
        try:
            self._dispatch_to(conn)
        except BaseException:
            self.connections.not_dispatched(conn)
            raise

    def _refuse(self, conn: Conn, code: int, message: str) -> None:
        logger.debug("refused a request from %s: %d %s", conn.address, code, message)
        try:
            conn.sock.send(self._refuse_with(code, message))  # best effort: a full buffer means nobody reads
        except (OSError, ValueError):
            self.connections.close(conn)
            return
        self._linger_start(conn)

    # -- connections coming back from workers ----------------------------------------------------------

    def _take_returned(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass
        for conn, outcome in self.connections.returned():
            try:
                conn.sock.setblocking(False)  # workers leave a timeout, which would make recv() wait here
                if outcome == KEEP:
                    self._keep(conn)
                elif outcome == WRITE_REST:
                    conn.state = WRITE
                    self.connections.writing.add(conn)
                    self.connections.register(conn, selectors.EVENT_WRITE)
                    self._write(conn)
                elif outcome == LINGER_THEN_CLOSE:
                    self._linger_start(conn)
                else:
                    assert outcome == CLOSE, outcome
                    self.connections.close(conn)
            except (OSError, ValueError) as exc:
                logger.debug("connection from %s dropped: %r", conn.address, exc)
                self.connections.close(conn)

    def _keep(self, conn: Conn) -> None:
        """Wait for the next request on ``conn`` (maybe already buffered: pipelined)."""
        conn.served += 1
        conn.head = conn.pace = conn.parser = conn.answer = None
        conn.state = HEAD
        conn.idle = not conn.buffer
        timeout = self.limits.keepalive_timeout if conn.idle else self.limits.header_timeout
        conn.deadline = time.monotonic() + timeout
        self.connections.wait(conn, selectors.EVENT_READ)
        self._step(conn)
        self._read(conn)

    def _write(self, conn: Conn) -> None:
        answer: Answer = conn.answer
        for _ in range(_WRITES_PER_EVENT):
            if not answer.pending:
                try:
                    more = answer.refill()
                except OSError as exc:  # e.g. a fault that cuts the answer on purpose
                    logger.debug("answer to %s cut: %r", conn.address, exc)
                    self.connections.close(conn)
                    return
                except Exception:
                    logger.exception("answer to %s failed", conn.address)
                    self.connections.close(conn)
                    return
                if not more:
                    answer.close()
                    self.connections.writing.discard(conn)
                    if answer.keep:
                        self._keep(conn)
                    else:
                        self._linger_start(conn)
                    return
            try:
                count = conn.sock.send(answer.pending)
            except ssl.SSLWantReadError:
                self.connections.register(conn, selectors.EVENT_READ)
                break
            except (BlockingIOError, ssl.SSLWantWriteError):
                self.connections.register(conn, selectors.EVENT_WRITE)
                break
            answer.pace.moved(count)
            answer.pending = answer.pending[count:]
        conn.deadline = answer.pace.deadline()

    def _linger_start(self, conn: Conn) -> None:
        self.connections.writing.discard(conn)
        if conn.peer_closed:
            self.connections.close(conn)
            return
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.connections.close(conn)
            return
        conn.state = LINGER
        conn.scanned = 0
        conn.deadline = time.monotonic() + LINGER_TIME
        self.connections.wait(conn, selectors.EVENT_READ)
        self._linger(conn)

    def _linger(self, conn: Conn) -> None:
        while True:
            try:
                data = conn.sock.recv(_READ)
            except _WOULD_BLOCK:
                return
            conn.scanned += len(data)
            if not data or conn.scanned > _LINGER_BYTES:
                self.connections.close(conn)
                return

    # -- bookkeeping ---------------------------------------------------------------------------------------

    def _expire(self, now: float) -> None:
        for conn in self.connections.writing:  # the bytes a slow reader has not taken yet do not count for its pace
            conn.deadline = conn.answer.pace.deadline(unacknowledged(conn.sock))
        for conn in self.connections.overdue(now):
            if conn.state == BODY:
                self._refuse(conn, 408, "the request body did not arrive in time")
            else:
                logger.debug("connection from %s: timed out (%s)", conn.address, conn.state)
                self.connections.close(conn)
