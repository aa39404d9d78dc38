"""One client connection as the server keeps it from accept to close, across its requests.

The selector thread (:mod:`~wcs.emulator.httpd.gate`) and the workers hand a :class:`Conn` to each other;
only the holder touches it. :attr:`Conn.buffer` holds what was received but not consumed yet: the rest
of a head, the first bytes of a body, the next pipelined request.
"""

import socket
from typing import Any, Optional, Tuple

from wcs.emulator.httpd.chunked import ChunkedParser
from wcs.emulator.httpd.head import Head
from wcs.emulator.httpd.limits import Pace

HANDSHAKE, HEAD, BODY, BUSY, WRITE, LINGER, CLOSED = "handshake", "head", "body", "busy", "write", "linger", "closed"
"""Where a connection is: its TLS handshake, waiting for a head or for the first bytes of a body (all
three in the selector), running in a worker, its answer's rest written by the selector, lingering
(written side shut, reading and discarding until the client closes), closed."""

KEEP, WRITE_REST, LINGER_THEN_CLOSE, CLOSE = "keep", "write-rest", "linger-then-close", "close"
"""What a worker hands a connection back for: its next request; the rest of its answer written by the
selector (:attr:`Conn.answer`); the written side shut and what the client still sends discarded, then
closed; closed now."""


class Conn:
    """A client connection and what the server knows about it."""

    __slots__ = ("sock", "address", "tls", "buffer", "state", "deadline", "served", "idle", "head",
                 "pace", "parser", "scanned", "answer", "peer_closed", "events")

    def __init__(self, sock: socket.socket, address: Tuple, tls: bool, deadline: float) -> None:
        self.sock = sock
        self.address = address
        self.tls = tls
        self.buffer = bytearray()
        self.state = HANDSHAKE if tls else HEAD
        self.deadline = deadline
        """When the selector gives up on it in its current state (time.monotonic())."""
        self.served = 0
        """Requests answered on it."""
        self.idle = False
        """Kept alive after an answer and nothing of the next request received yet."""
        self.head: Optional[Head] = None
        self.pace: Optional[Pace] = None
        """Of the current body, while the selector gathers its first bytes."""
        self.parser: Optional[ChunkedParser] = None
        self.scanned = 0
        """How far into :attr:`buffer` the selector has followed a chunked body's framing."""
        self.answer: Any = None
        """The rest of an answer the selector writes (:class:`~wcs.emulator.httpd.answer.Answer`)."""
        self.peer_closed = False
        self.events = 0
        """Selector events it is registered for (0: not registered)."""

    def start_request(self, head: Head, pace: Pace) -> None:
        self.head = head
        self.pace = pace
        self.parser = ChunkedParser() if head.chunked else None
        self.scanned = 0

    def __repr__(self) -> str:
        return "<Conn %s %s>" % (self.address, self.state)


def close_quietly(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
