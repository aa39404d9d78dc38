"""A request body as the WSGI app reads it (``wsgi.input``): :class:`LengthBody` for ``Content-Length``,
:class:`ChunkedBody` for ``Transfer-Encoding: chunked``.

Neither ever reads a byte past the body's end: what the selector already received comes first from the
connection's buffer, then the socket is read for at most the bytes still due (data goes straight into
the caller's buffer, no copy), and whatever follows the body stays in the buffer for the next request
on the connection. Every wait on the socket is bounded by the body's :class:`~wcs.emulator.httpd.limits.Pace`.

Failures reach the app as werkzeug's request exceptions, which it answers like any other: malformed
chunked framing -> ``BadRequest`` (400), a body that ends early -> ``ClientDisconnected`` (400), a
stalled or too slow body -> ``socket.timeout`` (408). After one, the body is :attr:`Body.failed`: where
it ends is unknown, so the connection is closed after the answer.
"""

import abc
import io
import socket
from typing import Any, Optional

from werkzeug.exceptions import BadRequest, ClientDisconnected

from wcs.emulator.httpd.chunked import ChunkedParser, FramingError, skip
from wcs.emulator.httpd.conn import Conn
from wcs.emulator.httpd.limits import Pace

_READ = 65536
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Source:
    """Where one body's bytes come from: the connection's buffer, then its socket at the body's pace.

    With ``send_continue`` (the client sent ``Expect: 100-continue``) an interim ``100 Continue`` goes out
    before the first read that has to wait on the socket: a request answered without reading its body
    never asks for it.
    """

    def __init__(self, conn: Conn, pace: Pace, send_continue: bool) -> None:
        self.conn = conn
        self.buffer = conn.buffer
        self.pace = pace
        self._continue = send_continue

    def recv_into(self, out: memoryview) -> int:
        """Copy at least one byte into ``out`` (not empty); raises ClientDisconnected at end of stream."""
        buffer = self.buffer
        if buffer:
            count = min(len(out), len(buffer))
            out[:count] = buffer[:count]
            del buffer[:count]
            return count
        sock = self._ready()
        count = sock.recv_into(out)
        if not count:
            self._ended()
        self.pace.moved(count)
        return count

    def fill(self) -> None:
        """Append at least one byte from the socket to the buffer (maybe more than this body holds)."""
        data = self._ready().recv(_READ)
        if not data:
            self._ended()
        self.pace.moved(len(data))
        self.buffer += data

    def _ready(self) -> socket.socket:
        sock = self.conn.sock
        sock.settimeout(self.pace.wait())
        if self._continue:
            self._continue = False
            sock.sendall(_CONTINUE)
            sock.settimeout(self.pace.wait())
        return sock

    def _ended(self) -> None:
        self.conn.peer_closed = True
        raise ClientDisconnected()


class Body(io.RawIOBase):
    """A request body: :attr:`complete` once read to its end, :attr:`failed` after an error."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self._source = source
        self.complete = False
        self.failed: Optional[BaseException] = None

    def readable(self) -> bool:
        return True

    def readinto(self, out: Any) -> int:
        if self.complete:
            return 0
        if self.failed is not None:
            raise self.failed
        view = memoryview(out).cast("B")
        if not len(view):
            return 0
        try:
            return self._readinto(view)
        except FramingError as exc:
            self.failed = BadRequest("malformed chunked request body: %s" % exc)
            raise self.failed from None
        except BaseException as exc:
            self.failed = exc
            raise

    @abc.abstractmethod
    def settle(self) -> bool:
        """Consume the rest of the body if the buffer already holds it (never waits); True if the body
        has then been read to its end, so the connection's next bytes are the next request."""

    @abc.abstractmethod
    def _readinto(self, view: memoryview) -> int:
        """Read at least one byte of a body not complete into ``view`` (not empty)."""


class LengthBody(Body):
    """A body of ``Content-Length`` bytes."""

    def __init__(self, source: Source, length: int) -> None:
        super().__init__(source)
        self.left = length
        self.complete = not length

    def _readinto(self, view: memoryview) -> int:
        count = self._source.recv_into(view[:self.left])
        self.left -= count
        self.complete = not self.left
        return count

    def settle(self) -> bool:
        buffer = self._source.buffer
        if not self.complete and self.failed is None and len(buffer) >= self.left:
            del buffer[:self.left]
            self.left = 0
            self.complete = True
        return self.complete


class ChunkedBody(Body):
    """A ``Transfer-Encoding: chunked`` body, decoded (:mod:`~wcs.emulator.httpd.chunked`)."""

    def __init__(self, source: Source) -> None:
        super().__init__(source)
        self._parser = ChunkedParser()

    def _readinto(self, view: memoryview) -> int:
        parser = self._parser
        source = self._source
        while True:
            if parser.left:
                count = source.recv_into(view[:parser.left])
                parser.take(count)
                return count
            del source.buffer[:parser.framing(source.buffer, 0)]
            if parser.done:
                self.complete = True
                return 0
            if not parser.left:
                source.fill()

    def settle(self) -> bool:
        if self.complete or self.failed is not None:
            return self.complete
        buffer = self._source.buffer
        try:
            del buffer[:skip(self._parser, buffer, 0)]
        except FramingError as exc:
            self.failed = BadRequest("malformed chunked request body: %s" % exc)
            return False
        self.complete = self._parser.done
        return self.complete


def body_for(conn: Conn, pace: Pace) -> Body:
    """The body of the request whose head is ``conn.head``."""
    head = conn.head
    assert head is not None
    source = Source(conn, pace, head.expect_continue)
    if head.length is None:
        return ChunkedBody(source)
    return LengthBody(source, head.length)
