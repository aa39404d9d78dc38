"""Answers on the wire: the head of a WSGI app's answer, the framing of its body (:class:`Answer`), and
the complete JSON error sent for requests refused before the app (:func:`error_bytes`).

An answer's body is framed by the app's ``Content-Length`` when it gives one (a body that ends short
closes the connection, so the client sees it cut; bytes past the length are not sent), chunked for an
HTTP/1.1 client otherwise, and delimited by closing the connection for an HTTP/1.0 one. HEAD answers and
1xx/204/304 have no body whatever the app yields.
"""

import json
import logging
import socket
import struct
import time
from typing import Any, Callable, Iterator, Optional

from wcs.emulator.errors import error_body, status_line
from wcs.emulator.httpd.limits import Pace

try:
    import fcntl
    import termios

    _OUTQ: Optional[int] = termios.TIOCOUTQ
except (ImportError, AttributeError):  # not on Windows; an answer's pace then counts what the kernel took
    _OUTQ = None

logger = logging.getLogger(__name__)

SERVER = "wcs-emulator"
_COALESCE = 256 * 1024
"""A first body piece up to this size goes out in the same write as the head."""

LENGTH, CHUNKED, UNTIL_CLOSE, NO_BODY = "length", "chunked", "until-close", "no-body"

_date = [0, ""]


def http_date() -> str:
    """The ``Date`` header value for now (computed once a second)."""
    now = int(time.time())
    if _date[0] != now:
        _date[1] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now))
        _date[0] = now
    return str(_date[1])


def error_bytes(code: int, message: str, reqid: str, head_only: bool = False) -> bytes:
    """A complete ``Connection: close`` answer carrying the emulator's JSON error."""
    body = b"" if head_only else json.dumps(error_body(code, message)).encode("utf-8")
    head = ["HTTP/1.1 %s" % status_line(code), "Server: %s" % SERVER, "Date: %s" % http_date(),
            "Content-Type: application/json", "Content-Length: %d" % len(body),
            "X-Reqid: %s" % reqid, "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class Answer:
    """What is left to send of one answer: :attr:`pending` bytes, then what the app's iterator yields.

    Args:
        head: the status line and headers, blank line included.
        first: the body's first piece (already taken from ``rest``, to go out with the head).
        rest: the app's iterator for the remaining pieces.
        close: the app iterable's ``close`` (called once by :meth:`close`), or None.
        framing: :data:`LENGTH` (``length`` bytes), :data:`CHUNKED`, :data:`UNTIL_CLOSE` or :data:`NO_BODY`.
        keep: the connection serves another request once this answer is complete.
        pace: the answer's clock; senders count bytes on it.
    """

    def __init__(self, head: bytes, first: bytes, rest: Iterator[bytes], close: Optional[Callable[[], Any]],
                 framing: str, length: Optional[int], keep: bool, pace: Pace) -> None:
        self._rest: Optional[Iterator[bytes]] = rest
        self._close = close
        self._framing = framing
        self._left = length or 0
        self.keep = keep and framing != UNTIL_CLOSE
        self.pace = pace
        piece = self._frame(first)
        if len(piece) <= _COALESCE:
            self.pending = memoryview(head + piece)
            self._held = b""
        else:
            self.pending = memoryview(head)
            self._held = piece

    def refill(self) -> bool:
        """Put the next bytes to send in :attr:`pending`; False when the answer is complete.

        Exceptions of the app's iterator propagate (the caller drops the connection).
        """
        if self._held:
            self.pending, self._held = memoryview(self._held), b""
            return True
        while self._rest is not None:
            try:
                data = next(self._rest)
            except StopIteration:
                self._rest = None
                if self._framing == CHUNKED:
                    self.pending = memoryview(b"0\r\n\r\n")
                    return True
                if self._framing == LENGTH and self._left:
                    logger.debug("answer body ended %d bytes short of its Content-Length", self._left)
                    self.keep = False
                return False
            piece = self._frame(data)
            if piece:
                self.pending = memoryview(piece)
                return True
        return False

    def _frame(self, data: bytes) -> bytes:
        if not data or self._framing == NO_BODY:
            return b""
        if self._framing == CHUNKED:
            return b"%x\r\n%s\r\n" % (len(data), data)
        if self._framing == LENGTH:
            if len(data) > self._left:
                logger.debug("answer body longer than its Content-Length: the rest is not sent")
                data = data[:self._left]
            self._left -= len(data)
        return data

    def close(self) -> None:
        """Close the app's iterable (files it holds); idempotent, never raises."""
        close, self._close = self._close, None
        self._rest = None
        if close is not None:
            try:
                close()
            except Exception:  # an app's cleanup failing must not take the server's thread with it
                logger.exception("closing an answer's body failed")


def unacknowledged(sock: socket.socket) -> int:
    """Bytes written to ``sock`` that the peer has not acknowledged (Linux ``SIOCOUTQ``; 0 elsewhere)."""
    if _OUTQ is None:
        return 0
    try:
        return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), _OUTQ, b"\0\0\0\0"))[0])
    except (OSError, ValueError):
        return 0
