"""One HTTP/1.1 exchange of a body held in memory on a connected socket: the request's bytes out,
the answer read whole.

This is what :func:`wcs.commons.http._exchange_on` speaks on a connection of urllib3's pool (which
makes, verifies and keeps the connections) for listings, ``stat``, management calls and small
uploads. ``http.client`` does the same but reads every answer's headers with the ``email``
package's parser: a quarter of a small upload's CPU (0.1 ms of 0.4 on this project's measurements).
Here the headers are read into a dict in one pass, with ``http.client``'s limits and exceptions
(``RemoteDisconnected``, ``BadStatusLine``, ``LineTooLong``, ``IncompleteRead``...), so a failure is
typed and retried exactly as before.

The framing follows RFC 9112, section 6.3, and errs on the side of closing: a connection is kept
only when the answer's end was certain (a valid ``Content-Length`` or chunked coding, nothing read
past it, HTTP/1.1 without ``Connection: close`` or HTTP/1.0 with keep-alive), so a misframed answer
can never be taken for the start of the next one.
"""

import http.client
import re
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

MAX_LINE = 65536  # http.client's limits
MAX_HEADERS = 100

_NO_BODY = frozenset({204, 304})
_BAD_TARGET = re.compile("[\x00-\x20\x7f]")  # as http.client refuses a request target


class Answer(NamedTuple):
    """An answer read whole.

    ``headers``: lower-case names, repeated ones joined with ", " (as urllib3 joins them);
    ``raw``: the header lines as sent, for what needs each one apart (``Set-Cookie``);
    ``reusable``: the connection may carry another request.
    """

    status: int
    reason: str
    headers: Dict[str, str]
    raw: List[Tuple[str, str]]
    body: bytes
    reusable: bool

    @property
    def msg(self) -> "Answer":
        """Itself: requests' cookie helpers read ``response._original_response.msg.get_all``."""
        return self

    def get_all(self, name: str, failobj: Optional[List[str]] = None) -> Optional[List[str]]:
        """Every value of header ``name`` (``email.message.Message.get_all``, which requests' cookie
        helpers call)."""
        name = name.lower()
        found = [value for key, value in self.raw if key.lower() == name]
        return found or failobj


def request_bytes(method: str, target: str, host: str, headers: Sequence[Tuple[str, str]]) -> bytes:
    """The request line and header block: ``Host`` first, then ``headers`` in order, as ``http.client``
    lays them out (the caller has checked names and values: no line breaks in either).

    Raises:
        http.client.InvalidURL: ``target`` holds a space or a control character.
        UnicodeEncodeError: a value is not Latin-1 (as ``http.client`` refuses it).
    """
    if _BAD_TARGET.search(target):
        raise http.client.InvalidURL("URL can't contain control characters. %r" % target)
    lines = ["%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, target, host)]
    lines.extend("%s: %s\r\n" % item for item in headers)
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


class SocketReader:
    """Reads a socket through one buffer of its own, so that bytes received past an answer are known
    (:attr:`pending`) instead of lost in a buffered file's read-ahead."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = bytearray()
        self._pos = 0

    @property
    def pending(self) -> int:
        """Bytes received and not read yet."""
        return len(self._buf) - self._pos

    def _fill(self, want: int = 65536) -> bool:
        data = self._sock.recv(min(max(want, 65536), 1 << 20))
        if not data:
            return False
        if self._pos:
            del self._buf[:self._pos]
            self._pos = 0
        self._buf += data
        return True

    def readline(self, limit: int) -> bytes:
        """A line with its ending; at most ``limit`` bytes (a longer one is cut there), or what was left
        when the connection closed."""
        while True:
            end = self._buf.find(b"\n", self._pos, self._pos + limit)
            if end >= 0:
                return self._take(end + 1 - self._pos)
            if self.pending >= limit or not self._fill():
                return self._take(min(self.pending, limit))

    def read_head(self) -> bytes:
        """The bytes up to the empty line that ends a status line and its headers (CRLF or LF line
        ends), in one piece; what came when the connection closed first, or when a line or the line
        count passed :data:`MAX_LINE` or :data:`MAX_HEADERS` (for the parser to refuse)."""
        scanned = 0
        while True:
            end = _head_end(self._buf, self._pos + max(scanned - 2, 0))
            if end >= 0:
                return self._take(end - self._pos)
            last = self._buf.rfind(b"\n", self._pos)
            if len(self._buf) - (last + 1 if last >= 0 else self._pos) > MAX_LINE \
                    or self._buf.count(b"\n", self._pos) > MAX_HEADERS + 1:
                return self._take(self.pending)
            scanned = self.pending
            if not self._fill():
                return self._take(self.pending)

    def read(self, size: int) -> bytes:
        """``size`` bytes, or fewer when the connection closed first."""
        while self.pending < size and self._fill(size - self.pending):
            pass
        return self._take(min(size, self.pending))

    def read_all(self) -> bytes:
        """Everything up to the end of the connection."""
        while self._fill():
            pass
        return self._take(self.pending)

    def _take(self, count: int) -> bytes:
        with memoryview(self._buf) as view:  # one copy, not two
            data = bytes(view[self._pos:self._pos + count])
        self._pos += count
        return data


def read_answer(fp: SocketReader, method: str) -> Answer:
    """Read one answer from the connection: interim 1xx answers skipped, the body by its framing.
    Not ``reusable`` also when bytes came after the answer (the connection is out of step).

    Raises:
        http.client.HTTPException: the answer is malformed or ended early (the subclasses
            ``http.client`` raises for the same faults).
        OSError: the connection failed (a timeout is ``socket.timeout``).
    """
    answer = _read(fp, method)
    if answer.reusable and fp.pending:
        return answer._replace(reusable=False)
    return answer


def _read(fp: SocketReader, method: str) -> Answer:
    while True:
        version, status, reason, headers, raw = _head(fp.read_head())
        if status < 100 or status >= 200 or status == 101:
            break
        # An interim answer (100 Continue, 103 Early Hints): the final one follows.
    if version == "HTTP/1.1":
        reusable = "close" not in _tokens(headers.get("connection"))
    else:
        reusable = "keep-alive" in _tokens(headers.get("connection")) or "keep-alive" in headers
    if method == "HEAD" or status in _NO_BODY or status < 200:
        return Answer(status, reason, headers, raw, b"", reusable and status != 101)
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if _tokens(coding)[-1:] != ["chunked"]:  # another coding last: the body ends with the connection
            return Answer(status, reason, headers, raw, fp.read_all(), False)
        # A length beside a chunked coding is ignored, and such a connection is not trusted again.
        body = _chunked(fp)
        return Answer(status, reason, headers, raw, body, reusable and "content-length" not in headers)
    length = _length(headers.get("content-length"))
    if length is None:
        return Answer(status, reason, headers, raw, fp.read_all(), False)
    body = fp.read(length)
    if len(body) < length:
        raise http.client.IncompleteRead(body, length - len(body))
    return Answer(status, reason, headers, raw, body, reusable)


def _head_end(buf: bytearray, start: int) -> int:
    """The index after the empty line ending a header block in ``buf`` from ``start``, or -1."""
    crlf = buf.find(b"\n\r\n", start)
    lf = buf.find(b"\n\n", start)
    if crlf < 0:
        return lf + 2 if lf >= 0 else -1
    return crlf + 3 if lf < 0 or crlf < lf else lf + 2


def _head(block: bytes) -> Tuple[str, int, str, Dict[str, str], List[Tuple[str, str]]]:
    """``(version, status, reason, headers, raw)`` of a status line and its header lines: headers
    joined by lower-case name, and as sent."""
    if not block:
        # As http.client: the server closed the connection without a word (often a kept-alive
        # connection it had closed as this request went out).
        raise http.client.RemoteDisconnected("Remote end closed connection without response")
    lines = block.decode("iso-8859-1").split("\n")
    status_line = lines[0]
    if len(status_line) >= MAX_LINE:
        raise http.client.LineTooLong("status line")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise http.client.BadStatusLine(status_line + "\n")
    version, code = parts[0], parts[1]
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise http.client.UnknownProtocol(version)
    if len(code) != 3 or not code.isdigit():
        raise http.client.BadStatusLine(status_line + "\n")
    reason = parts[2].strip() if len(parts) > 2 else ""
    headers: Dict[str, str] = {}
    raw: List[Tuple[str, str]] = []
    for text in lines[1:]:
        if len(text) >= MAX_LINE:
            raise http.client.LineTooLong("header line")
        if text.endswith("\r"):
            text = text[:-1]
        if not text:
            break  # the empty line (or the end of what came)
        if text[0] in " \t" and raw:  # an obsolete folded line continues the header before it
            name, value = raw[-1]
            raw[-1] = (name, value + "\r\n" + text)
            headers[name.lower()] = _rejoin(raw, name.lower())
            continue
        name, colon, value = text.partition(":")
        if not colon:
            continue  # not a header line: dropped, as the email parser leaves it out of the headers
        if len(raw) >= MAX_HEADERS:
            raise http.client.HTTPException("got more than %d headers" % MAX_HEADERS)
        value = value.lstrip(" \t")
        raw.append((name, value))
        key = name.lower()
        headers[key] = headers[key] + ", " + value if key in headers else value
    return version, int(code), reason, headers, raw


def _rejoin(raw: List[Tuple[str, str]], key: str) -> str:
    return ", ".join(value for name, value in raw if name.lower() == key)


def _tokens(value: Optional[str]) -> List[str]:
    return [item.strip().lower() for item in value.split(",")] if value else []


def _length(value: Optional[str]) -> Optional[int]:
    """The body's length from ``Content-Length`` (repeated equal values allowed), None when absent or
    not a number: the body then ends with the connection, as ``http.client`` reads it."""
    if value is None:
        return None
    values = {item.strip() for item in value.split(",")}
    if len(values) != 1:
        return None
    text = values.pop()
    return int(text) if text.isdigit() else None


def _chunked(fp: SocketReader) -> bytes:
    pieces: List[bytes] = []
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("chunk size")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise http.client.IncompleteRead(b"".join(pieces)) from None
        if size < 0:
            raise http.client.IncompleteRead(b"".join(pieces))
        if size == 0:
            break
        piece = fp.read(size)
        if len(piece) < size:
            raise http.client.IncompleteRead(b"".join(pieces) + piece, size - len(piece))
        pieces.append(piece)
        if fp.read(2) != b"\r\n":
            raise http.client.IncompleteRead(b"".join(pieces))
    while True:  # trailer lines, up to the empty line
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("trailer line")
        if line in (b"\r\n", b"\n", b""):
            break
    return b"".join(pieces)
