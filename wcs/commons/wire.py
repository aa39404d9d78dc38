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

import functools
import http.client
import re
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, cast

MAX_LINE = 65536  # http.client's limits
MAX_HEADERS = 100

_NO_BODY = frozenset({204, 304})
_IN_PLACE = 1 << 20  # a body with more than this still to come is received in place


_BAD_TARGET = re.compile("[\x00-\x20\x7f]")  # as http.client refuses a request target


class ConflictingLength(http.client.HTTPException):
    """An answer with ``Content-Length`` values that differ: its end cannot be known (urllib3 refuses
    it as an ``InvalidHeader``)."""


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


def request_bytes(method: str, target: str, host: str, headers: Sequence[Tuple[str, Any]]) -> bytes:
    """The request line and header block as ``http.client`` lays them out: ``Host`` first (unless
    ``headers`` has one: then only that one), then ``headers`` in order; a name in ASCII, a text value
    in Latin-1, a bytes value as it is, a number as digits. The caller has checked names and values
    (no line breaks in either).

    Raises:
        http.client.InvalidURL: ``target`` holds a space or a control character.
        UnicodeEncodeError: a name is not ASCII or a text value not Latin-1 (as ``http.client``).
    """
    if _BAD_TARGET.search(target):
        raise http.client.InvalidURL("URL can't contain control characters. %r" % target)
    own_host = not any(name.lower() == "host" for name, _ in headers)
    if all(type(value) is str for _, value in headers) and all(name.isascii() for name, _ in headers):
        lines = ["%s %s HTTP/1.1\r\n" % (method, target)]
        if own_host:
            lines.append("Host: %s\r\n" % host)
        lines.extend("%s: %s\r\n" % item for item in headers)
        lines.append("\r\n")
        return "".join(lines).encode("latin-1")
    out = [("%s %s HTTP/1.1\r\n" % (method, target)).encode("latin-1")]
    if own_host:
        out.append(("Host: %s\r\n" % host).encode("latin-1"))
    for name, value in headers:
        if isinstance(value, str):
            value = value.encode("latin-1")
        elif isinstance(value, int):
            value = str(value).encode("ascii")
        out.append(b"%s: %s\r\n" % (name.encode("ascii"), bytes(value)))
    out.append(b"\r\n")
    return b"".join(out)


@functools.lru_cache(maxsize=64)
def host_header(scheme: str, host: str, port: int) -> str:
    """The ``Host`` value ``http.client`` sends to an origin (the port only when not the scheme's);
    worked out once per origin."""
    host = host.rstrip(".")
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        host = host.encode("idna").decode("ascii")
    if ":" in host:
        host = "[%s]" % host  # an IPv6 address
    return host if port == {"http": 80, "https": 443}.get(scheme) else "%s:%s" % (host, port)


def redirected_method(status: int, method: str, payload: Optional[bytes]) -> Tuple[str, Optional[bytes]]:
    """The method and body after a redirect, by requests' (and browsers') rule: a 303, a 302 and a POST's
    301 become a body-less GET (HEAD stays HEAD); 307 and 308 repeat the request as it was."""
    if status in (307, 308):
        return method, payload
    if (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST"):
        method = "GET"
    return method, None


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
                if self.pending:  # the connection ended inside the headers: no answer to trust
                    raise http.client.IncompleteRead(self._take(self.pending))
                return b""

    def read(self, size: int) -> bytes:
        """``size`` bytes, or fewer when the connection closed first."""
        if size - self.pending > _IN_PLACE:
            return self._read_in_place(size)
        while self.pending < size and self._fill(size - self.pending):
            pass
        return self._take(min(size, self.pending))

    def _read_in_place(self, size: int) -> bytes:
        """A large body received straight into its final buffer (a bytearray: a copy into ``bytes``
        would hold it twice)."""
        out = bytearray(size)
        got = self.pending
        out[:got] = self._buf[self._pos:]
        self._buf.clear()
        self._pos = 0
        with memoryview(out) as view:
            while got < size:
                count = self._sock.recv_into(view[got:], min(size - got, 1 << 20))
                if not count:
                    break
                got += count
        if got < size:
            del out[got:]
        return cast(bytes, out)

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
    if version != "HTTP/1.0":
        reusable = "close" not in _tokens(headers.get("connection"))
    else:
        reusable = "keep-alive" in _tokens(headers.get("connection")) or "keep-alive" in headers
    if method == "HEAD" or status in _NO_BODY or status < 200:
        return Answer(status, reason, headers, raw, b"", reusable and status != 101)
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if _tokens(coding)[-1:] == ["chunked"]:
            # A length beside a chunked coding is ignored, and such a connection is not trusted again.
            body = _chunked(fp)
            return Answer(status, reason, headers, raw, body, reusable and "content-length" not in headers)
        # Another coding (or none) named: read by the length when there is one, as http.client does,
        # but never trust the connection after such an answer.
        reusable = False
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
    if not version.startswith("HTTP/1."):  # HTTP/1.2 and on read as 1.1, as http.client reads them
        raise http.client.UnknownProtocol(version)
    if len(code) != 3 or not (code.isascii() and code.isdigit()) or code[0] == "0":
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
    """The body's length from ``Content-Length`` (the value, or repeated equal values), read as
    urllib3 reads it; None when absent, not a number or negative: the body then ends with the
    connection.

    Raises:
        ConflictingLength: values that differ.
    """
    if value is None:
        return None
    try:
        lengths = {int(item) for item in value.split(",")}
    except ValueError:
        return None
    if len(lengths) > 1:
        raise ConflictingLength("Content-Length contained multiple unmatching values (%s)" % value)
    length = lengths.pop()
    return length if length >= 0 else None


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
