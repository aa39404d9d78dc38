"""The front end of the emulator's HTTP server: one selector thread that accepts connections, completes
TLS handshakes and gathers request headers without blocking, so an idle or slow client costs a file
descriptor and a few bytes, never a thread.

A connection whose header block (up to the blank line) has arrived is handed, with the bytes read so
far, to :meth:`Gate.dispatch` (the server's bounded worker pool). The limits (:class:`Limits`):

* at most ``max_connections`` open at once: at the cap, the connection that has waited longest for its
  headers is closed to make room (an idle flood cannot lock a real client out); when every connection is
  busy in a request, a new one gets ``503`` and is closed;
* a connection has ``header_timeout`` seconds from accept to the end of its headers (TLS handshake
  included), and at most ``max_header_bytes`` of headers (``431`` past that);
* running out of file descriptors (``EMFILE``) makes room the same way, or pauses accepting briefly,
  instead of spinning on a listening socket that stays readable.
"""

import errno
import logging
import selectors
import socket
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

logger = logging.getLogger(__name__)

_ACCEPT_PAUSE = 0.1
"""Seconds the listener is left alone after accept() failed for lack of file descriptors."""
_TICK = 0.25
"""Longest select() wait: how soon timeouts and a shutdown are noticed."""
_READ = 65536


@dataclass(frozen=True)
class Limits:
    """What one emulator server allows (see the module docstring)."""

    max_connections: int = 1024
    workers: int = 32
    """Threads that run requests; requests beyond them wait, their connections count as open."""
    header_timeout: float = 10.0
    io_timeout: float = 30.0
    """Longest wait for one read or write of a request's body or answer; a stalled client is dropped."""
    max_header_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.workers < 1:
            raise ValueError("max_connections and workers must be at least 1")
        if self.header_timeout <= 0 or self.io_timeout <= 0:
            raise ValueError("timeouts must be positive")


class _Pending:
    """A connection waiting for its headers (or its TLS handshake)."""

    __slots__ = ("sock", "address", "since", "buffer", "handshaking")

    def __init__(self, sock: socket.socket, address: Tuple, since: float, handshaking: bool) -> None:
        self.sock = sock
        self.address = address
        self.since = since
        self.buffer = bytearray()
        self.handshaking = handshaking


Dispatch = Callable[[socket.socket, Tuple, bytes], None]
"""Called with ``(socket, client address, bytes already read)`` once a header block is complete."""
Refuse = Callable[[int, str], bytes]
"""Builds the complete response (status ``code``, a message) sent to a connection refused here."""


def close_quietly(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


class Gate:
    """The selector loop of one listening socket; :meth:`run` until :meth:`stop`."""

    def __init__(self, listener: socket.socket, limits: Limits, dispatch: Dispatch, refuse: Refuse,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self.listener = listener
        self.limits = limits
        self._dispatch = dispatch
        self._refuse = refuse
        self._ssl = ssl_context
        self._pending: OrderedDict[int, _Pending] = OrderedDict()  # oldest first
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._paused_until = 0.0
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, None)

    # -- what the workers tell -------------------------------------------------------------------------

    def done(self) -> None:
        """A dispatched connection was closed by its worker."""
        with self._busy_lock:
            self._busy -= 1

    @property
    def open_connections(self) -> int:
        with self._busy_lock:
            return self._busy + len(self._pending)

    # -- the loop --------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if self._paused_until and now >= self._paused_until:
                    self._paused_until = 0.0
                    self._selector.register(self.listener, selectors.EVENT_READ, None)
                for key, _ in self._selector.select(_TICK):
                    if key.data is None:
                        self._accept()
                    else:
                        self._advance(key.data)
                self._expire(time.monotonic())
        finally:
            for pending in list(self._pending.values()):
                self._drop(pending)
            self._selector.close()

    def _accept(self) -> None:
        for _ in range(64):  # a burst at a time, then timeouts and reads get their turn
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    if not self._evict_oldest():
                        self._pause_accepting()
                    return
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                raise
            if self.open_connections >= self.limits.max_connections and not self._evict_oldest():
                self._send_and_close(sock, self._refuse(503, "too many connections"))
                continue
            self._add(sock, address)

    def _pause_accepting(self) -> None:
        logger.warning("out of file descriptors: not accepting for %.1f s", _ACCEPT_PAUSE)
        self._selector.unregister(self.listener)
        self._paused_until = time.monotonic() + _ACCEPT_PAUSE

    def _add(self, sock: socket.socket, address: Tuple) -> None:
        sock.setblocking(False)
        handshaking = self._ssl is not None
        if handshaking:
            try:
                sock = self._ssl.wrap_socket(sock, server_side=True,  # type: ignore[union-attr]
                                             do_handshake_on_connect=False)
            except (OSError, ValueError):
                close_quietly(sock)
                return
        pending = _Pending(sock, address, time.monotonic(), handshaking)
        self._pending[sock.fileno()] = pending
        self._selector.register(sock, selectors.EVENT_READ, pending)
        if not handshaking:
            self._advance(pending)  # the request often came with the connection

    def _advance(self, pending: _Pending) -> None:
        sock = pending.sock
        try:
            if pending.handshaking:
                try:
                    sock.do_handshake()  # type: ignore[attr-defined]
                except ssl.SSLWantReadError:
                    self._selector.modify(sock, selectors.EVENT_READ, pending)
                    return
                except ssl.SSLWantWriteError:
                    self._selector.modify(sock, selectors.EVENT_WRITE, pending)
                    return
                pending.handshaking = False
                self._selector.modify(sock, selectors.EVENT_READ, pending)
            while True:  # drain what is there: TLS keeps decrypted bytes select() does not see
                try:
                    data = sock.recv(_READ)
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    return
                if not data:
                    self._drop(pending)
                    return
                pending.buffer += data
                first = pending.buffer.lstrip(b"\r\n")[:1]
                if first and not first.isalpha():
                    # Not HTTP at all (a TLS ClientHello starts with 0x16): answer at once, as a server
                    # would, instead of waiting for a header block that never comes. A TLS client then
                    # reports a plain-HTTP server ("wrong version number"), not a silent timeout.
                    self._forget(pending)
                    self._send_and_close(sock, self._refuse(400, "malformed request line"))
                    return
                if b"\r\n\r\n" in pending.buffer or b"\n\n" in pending.buffer:
                    self._hand_over(pending)
                    return
                if len(pending.buffer) > self.limits.max_header_bytes:
                    self._forget(pending)
                    self._send_and_close(sock, self._refuse(431, "request header block too large"))
                    return
        except (OSError, ValueError) as exc:  # a reset, a failed handshake: nothing to answer
            logger.debug("connection from %s dropped before its request: %r", pending.address, exc)
            self._drop(pending)

    def _hand_over(self, pending: _Pending) -> None:
        self._forget(pending)
        with self._busy_lock:
            self._busy += 1
        try:
            self._dispatch(pending.sock, pending.address, bytes(pending.buffer))
        except BaseException:
            self.done()
            close_quietly(pending.sock)
            raise

    def _expire(self, now: float) -> None:
        deadline = now - self.limits.header_timeout
        while self._pending:
            oldest = next(iter(self._pending.values()))
            if oldest.since > deadline:
                break
            logger.debug("connection from %s: no request within %.1f s", oldest.address,
                         self.limits.header_timeout)
            self._drop(oldest)

    def _evict_oldest(self) -> bool:
        if not self._pending:
            return False
        self._drop(next(iter(self._pending.values())))
        return True

    def _forget(self, pending: _Pending) -> None:
        self._pending.pop(pending.sock.fileno(), None)
        try:
            self._selector.unregister(pending.sock)
        except (KeyError, ValueError):
            pass

    def _drop(self, pending: _Pending) -> None:
        self._forget(pending)
        close_quietly(pending.sock)

    @staticmethod
    def _send_and_close(sock: socket.socket, data: bytes) -> None:
        try:
            sock.setblocking(False)
            sock.send(data)  # best effort: a full buffer means nobody is reading anyway
        except (OSError, ValueError):
            pass
        close_quietly(sock)
