"""Request heads: where one ends in the bytes received (:func:`head_end`) and what it says
(:func:`parse_head`), with the framing of the body that follows decided once, strictly.

Strict where a lenient reading could let two parsers disagree on where a request ends (request
smuggling, RFC 9112 section 11.2): ``Content-Length`` together with ``Transfer-Encoding`` is refused, as
are a transfer coding other than a single ``chunked``, ``Transfer-Encoding`` on HTTP/1.0, a
``Content-Length`` that is not one decimal number, whitespace before a header's colon, folded header
lines and bare CRs. Lines may end with CRLF or LF, as RFC 9112 allows a recipient to accept.
"""

import re
from typing import List, NamedTuple, Optional, Tuple

MAX_FIELDS = 100
"""Header fields per request at most (431 beyond)."""

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])\Z")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_BAD_TARGET = re.compile(rb"[\x00-\x20\x7f]")
_LENGTH = re.compile(r"[0-9]{1,18}\Z")


class HeadError(Exception):
    """A request head that is refused with HTTP status :attr:`code`; the connection is then closed."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Head(NamedTuple):
    """One parsed request head. Text is latin-1, one character per byte received."""

    method: str
    target: str
    version: str
    """``HTTP/1.0`` or ``HTTP/1.1`` (later 1.x minor versions are served as 1.1)."""
    headers: List[Tuple[str, str]]
    length: Optional[int]
    """Body length from ``Content-Length`` (0 without one); None for a chunked body."""
    keep_alive: bool
    """The client allows another request on this connection (HTTP/1.1 without ``Connection: close``)."""
    expect_continue: bool

    @property
    def chunked(self) -> bool:
        return self.length is None


def head_end(buffer: bytearray, limit: int) -> int:
    """The offset just past the blank line that ends the head at the start of ``buffer``; -1 if it has
    not arrived within the first ``limit`` bytes."""
    stop = min(len(buffer), limit + 4)
    crlf = buffer.find(b"\n\r\n", 0, stop)
    lf = buffer.find(b"\n\n", 0, stop)
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf + 2
    return crlf + 3 if crlf >= 0 else -1


def parse_head(block: bytes) -> Head:
    """Parse one head (request line, fields, blank line).

    Raises:
        HeadError: 400 malformed, 431 too many fields, 501 transfer coding not supported, 505 version.
    """
    lines = block.split(b"\n")
    while lines and lines[-1] in (b"", b"\r"):
        lines.pop()
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    if not lines:
        raise HeadError(400, "malformed request line")
    method, target, version = _request_line(lines[0])
    if len(lines) - 1 > MAX_FIELDS:
        raise HeadError(431, "more than %d header fields" % MAX_FIELDS)
    headers = [_field(line) for line in lines[1:]]
    length = _framing(headers, version)
    connection = _tokens(headers, "connection")
    keep_alive = version == "HTTP/1.1" and "close" not in connection
    expect = version == "HTTP/1.1" and _tokens(headers, "expect") == ["100-continue"]
    return Head(method, target, version, headers, length, keep_alive, expect)


def _request_line(line: bytes) -> Tuple[str, str, str]:
    parts = line.split(b" ")
    if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1] or _BAD_TARGET.search(parts[1]):
        raise HeadError(400, "malformed request line")
    method, target, version = parts
    match = _VERSION.match(version)
    if match is None:
        raise HeadError(400, "malformed HTTP version")
    if match.group(1) != b"1":
        raise HeadError(505, "only HTTP/1.0 and HTTP/1.1 are served")
    if not (target.startswith(b"/") or target == b"*" or b"://" in target):
        raise HeadError(400, "malformed request target")
    return (method.decode("ascii"), target.decode("latin-1"),
            "HTTP/1.0" if match.group(2) == b"0" else "HTTP/1.1")


def _field(line: bytes) -> Tuple[str, str]:
    if line[:1] in (b" ", b"\t"):
        raise HeadError(400, "folded header line")
    name, colon, value = line.partition(b":")
    if not colon or not _TOKEN.match(name):
        raise HeadError(400, "malformed header line")
    value = value.strip(b" \t")
    if _BAD_VALUE.search(value):
        raise HeadError(400, "control character in header %s" % name.decode("ascii"))
    return name.decode("ascii"), value.decode("latin-1")


def _tokens(headers: List[Tuple[str, str]], name: str) -> List[str]:
    return [token.strip().lower() for key, value in headers if key.lower() == name
            for token in value.split(",") if token.strip()]


def _framing(headers: List[Tuple[str, str]], version: str) -> Optional[int]:
    """The body length (None: chunked) by RFC 9112 section 6, refusing what could be read two ways."""
    codings = _tokens(headers, "transfer-encoding")
    lengths = [item.strip() for key, value in headers if key.lower() == "content-length"
               for item in value.split(",")]
    if any(key.lower() == "transfer-encoding" for key, _ in headers):
        if lengths:
            raise HeadError(400, "both Content-Length and Transfer-Encoding")
        if version == "HTTP/1.0":
            raise HeadError(400, "Transfer-Encoding in an HTTP/1.0 request")
        if codings != ["chunked"]:
            if codings.count("chunked") == 1 and codings[-1] == "chunked":
                raise HeadError(501, "transfer coding not supported: %s" % ", ".join(codings))
            raise HeadError(400, "malformed Transfer-Encoding")
        return None
    if not lengths:
        return 0
    if len(set(lengths)) != 1 or not _LENGTH.match(lengths[0]):
        raise HeadError(400, "malformed Content-Length")
    return int(lengths[0])
