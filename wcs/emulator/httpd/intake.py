"""What the bytes a connection has sent call for, decided without any I/O: wait for more, hand the request
to a worker, or refuse it (:func:`examine`).

A request goes to a worker when its head is complete and its body is complete or has
:data:`PREBUFFER` bytes buffered (at once when the client waits for ``100 Continue``): a client that
trickles its body costs no worker until then, and the small bodies of most requests are never waited
for by one.
"""

from typing import NamedTuple, Union

from wcs.emulator.httpd.chunked import FramingError, skip
from wcs.emulator.httpd.conn import BODY, HEAD, Conn
from wcs.emulator.httpd.head import HeadError, head_end, parse_head
from wcs.emulator.httpd.limits import Limits, Pace

PREBUFFER = 64 * 1024
"""Body bytes gathered before a request goes to a worker (the whole body when it is smaller)."""

WAIT, READY = "wait", "ready"


class Refusal(NamedTuple):
    """Answer ``code`` with ``message``, then close the connection."""

    code: int
    message: str


def examine(conn: Conn, limits: Limits) -> Union[str, Refusal]:
    """Advance ``conn`` (state ``HEAD`` or ``BODY``) over its buffer: a complete head is parsed and
    consumed, which starts the request (``conn.head``, ``conn.pace``; state ``BODY`` while its body's
    first bytes are awaited). Returns :data:`WAIT`, :data:`READY` or a :class:`Refusal`."""
    buffer = conn.buffer
    if conn.state == HEAD:
        while buffer[:2] == b"\r\n" or buffer[:1] == b"\n":  # empty lines before a request: ignored
            del buffer[:2 if buffer[:1] == b"\r" else 1]
        if not buffer or buffer == b"\r":
            return WAIT
        if not buffer[:1].isalpha():
            # Not HTTP at all (a TLS ClientHello starts with 0x16): answer at once, as a server would,
            # instead of waiting for a head that never comes. A TLS client then reports a plain-HTTP
            # server ("wrong version number"), not a silent timeout.
            return Refusal(400, "malformed request line")
        end = head_end(buffer, limits.max_header_bytes)
        if end < 0:
            if len(buffer) > limits.max_header_bytes:
                return Refusal(431, "request header block too large")
            return WAIT
        try:
            head = parse_head(bytes(buffer[:end]))
        except HeadError as exc:
            return Refusal(exc.code, exc.message)
        del buffer[:end]
        pace = Pace(limits)
        pace.moved(len(buffer))  # body bytes that came with the head (or the next request's)
        conn.start_request(head, pace)
        if head.expect_continue or head.length == 0:
            return READY
        conn.state = BODY
    assert conn.state == BODY and conn.head is not None and conn.pace is not None
    if conn.parser is None:
        ready = len(buffer) >= min(conn.head.length or 0, PREBUFFER)
    else:
        try:
            conn.scanned = skip(conn.parser, buffer, conn.scanned)
        except FramingError as exc:
            return Refusal(400, "malformed chunked request body: %s" % exc)
        ready = conn.parser.done or len(buffer) >= PREBUFFER
    if ready:
        return READY
    conn.deadline = conn.pace.deadline()
    return WAIT
