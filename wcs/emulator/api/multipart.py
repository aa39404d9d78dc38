"""A push decoder of ``multipart/form-data`` bodies (RFC 7578, RFC 2046 section 5.1) that finds the same
parts and the same bytes whatever the sizes of the reads that feed it.

Why not werkzeug's decoder: it decides on whatever its buffer holds, and in 3.1.x a read that ends
between the two dashes closing the body (``...\\r\\n--BOUNDARY-`` then ``-\\r\\n``) makes it hand back
the CR before the delimiter as content: every form of 64 KiB x k + 3 bytes was stored one byte too
long. Here nothing that could still be the start of a delimiter is handed back: such a tail stays
in the buffer until the next read settles it, so a decision is only ever taken on a complete
delimiter and the bytes that tell its kind.

Accepted: an optional preamble (ignored; the first delimiter may open the body without a line break
before it), delimiters ``CRLF--boundary`` followed by ``--`` (the end) or by spaces/tabs and CRLF (the
next part), header blocks ended by an empty line, an epilogue (ignored). A delimiter followed by
anything else is content, as RFC 2046 reads it. Memory: one read plus a delimiter's length, and a
header block of at most :data:`MAX_HEADER_BLOCK` bytes.
"""

from typing import Dict, List, NamedTuple, Optional, Tuple, Union

from werkzeug.http import parse_options_header

MAX_HEADER_BLOCK = 16 * 1024
"""Bound on the header lines of one part (a few hundred bytes in practice)."""
MAX_BOUNDARY = 200
"""RFC 2046 allows 70 characters; a little slack for clients that exceed it."""
_MAX_PADDING = 256
_CRLF = b"\r\n"
_BLANK_LINE = b"\r\n\r\n"


class FormError(ValueError):
    """The body is not a well-formed ``multipart/form-data`` body."""


class FormTooLarge(FormError):
    """A part's header block exceeds :data:`MAX_HEADER_BLOCK`."""


class Part(NamedTuple):
    """The start of a part: its field name, its filename (None for a text field) and its headers
    (lower-case names, first value of each)."""

    name: str
    filename: Optional[str]
    headers: Dict[str, str]


class PartEnd:
    """The current part is complete (its delimiter was seen)."""


PART_END = PartEnd()

Event = Union[Part, bytes, PartEnd]
"""What :meth:`MultipartDecoder.feed` hands back, in body order: a :class:`Part` opens a part, ``bytes``
are its content (possibly in several pieces), :data:`PART_END` closes it."""

_PREAMBLE, _HEADERS, _CONTENT, _EPILOGUE = range(4)
_NEED_DATA, _NOT_A_DELIMITER, _NEXT_PART, _CLOSE = range(4)


class MultipartDecoder:
    """Feed it the body in reads of any size; it returns the events each read completes.

    Raises:
        FormError: a malformed boundary parameter or body (``feed``), or a body that ends before
            its closing delimiter (``finish``).
    """

    def __init__(self, boundary: bytes) -> None:
        if not 0 < len(boundary) <= MAX_BOUNDARY or b"\r" in boundary or b"\n" in boundary:
            raise FormError("unusable boundary %r" % boundary[:MAX_BOUNDARY])
        self._delimiter = _CRLF + b"--" + boundary
        # As if a line break came first: the body usually opens with the first delimiter's dashes.
        self._buffer = bytearray(_CRLF)
        self._state = _PREAMBLE

    @property
    def done(self) -> bool:
        """True once the closing delimiter was seen (what follows is the ignored epilogue)."""
        return self._state == _EPILOGUE

    def feed(self, data: bytes) -> List[Event]:
        """Take the next bytes of the body; returns the events they complete."""
        if self._state == _EPILOGUE:
            return []
        self._buffer += data
        events: List[Event] = []
        while self._step(events):
            pass
        return events

    def finish(self) -> None:
        """The body ended; raises :class:`FormError` unless its closing delimiter was seen."""
        if self._state != _EPILOGUE:
            raise FormError("the body ends before its closing boundary")

    # -- states -------------------------------------------------------------------------------------

    def _step(self, events: List[Event]) -> bool:
        """Decode what the buffer allows; False when more data is needed."""
        if self._state == _HEADERS:
            return self._headers(events)
        if self._state == _EPILOGUE:
            self._buffer.clear()
            return False
        return self._content(events)

    def _content(self, events: List[Event]) -> bool:
        buffer, delimiter = self._buffer, self._delimiter
        start = 0
        while True:
            found = buffer.find(delimiter, start)
            if found < 0:
                self._emit(events, len(buffer) - self._partial_delimiter())
                return False
            verdict, end = self._after_delimiter(found + len(delimiter))
            if verdict == _NOT_A_DELIMITER:
                start = found + 1
                continue
            self._emit(events, found)
            if verdict == _NEED_DATA:
                return False
            if self._state == _CONTENT:
                events.append(PART_END)
            del buffer[:end - found]
            self._state = _EPILOGUE if verdict == _CLOSE else _HEADERS
            return True

    def _after_delimiter(self, at: int) -> Tuple[int, int]:
        """What follows a delimiter ending at ``at``: ``(verdict, where the delimiter line ends)``; for
        the next part the line's CRLF stays (it opens the header block)."""
        buffer = self._buffer
        if len(buffer) < at + 2:
            return _NEED_DATA, 0
        if buffer[at:at + 2] == b"--":
            return _CLOSE, at + 2
        end = at
        while end < len(buffer) and buffer[end] in b" \t":
            end += 1
        if end - at > _MAX_PADDING:
            raise FormError("a boundary is followed by too much white space")
        if len(buffer) < end + 2:
            return (_NEED_DATA if end == len(buffer) or buffer[end] == 13 else _NOT_A_DELIMITER), 0
        if buffer[end:end + 2] == _CRLF:
            return _NEXT_PART, end
        return _NOT_A_DELIMITER, 0

    def _partial_delimiter(self) -> int:
        """Length of the longest end of the buffer that a delimiter could begin with."""
        buffer, delimiter = self._buffer, self._delimiter
        size = len(buffer)
        at = buffer.find(b"\r", max(0, size - len(delimiter) + 1))
        while at >= 0:
            if delimiter.startswith(bytes(buffer[at:])):
                return size - at
            at = buffer.find(b"\r", at + 1)
        return 0

    def _emit(self, events: List[Event], count: int) -> None:
        """Hand back (as content) or drop (preamble) the first ``count`` bytes of the buffer."""
        if count <= 0:
            return
        if self._state == _CONTENT:
            events.append(bytes(self._buffer[:count]))
        del self._buffer[:count]

    def _headers(self, events: List[Event]) -> bool:
        buffer = self._buffer
        # The buffer starts with the CRLF that ended the delimiter line: an empty block is CRLF CRLF.
        end = buffer.find(_BLANK_LINE)
        if end < 0:
            if len(buffer) > MAX_HEADER_BLOCK:
                raise FormTooLarge("a part's header lines exceed %d bytes" % MAX_HEADER_BLOCK)
            return False
        if end > MAX_HEADER_BLOCK:
            raise FormTooLarge("a part's header lines exceed %d bytes" % MAX_HEADER_BLOCK)
        events.append(_part(bytes(buffer[2:end])))
        del buffer[:end + len(_BLANK_LINE)]
        self._state = _CONTENT
        return True


def _part(block: bytes) -> Part:
    headers: Dict[str, str] = {}
    lines: List[bytes] = []
    for line in block.split(_CRLF) if block else []:
        if line[:1] in (b" ", b"\t") and lines:  # a folded header line continues the one before
            lines[-1] += b" " + line.strip()
        else:
            lines.append(line)
    for line in lines:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise FormError("a part's header is not UTF-8") from None
        name, colon, value = text.partition(":")
        if not colon or not name.strip():
            raise FormError("malformed part header %r" % text[:100])
        headers.setdefault(name.strip().lower(), value.strip())
    if "content-disposition" not in headers:
        raise FormError("a part has no Content-Disposition header")
    _, params = parse_options_header(headers["content-disposition"])
    return Part(params.get("name", ""), params.get("filename"), headers)
