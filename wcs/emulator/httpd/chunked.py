"""The framing of a chunked request body (RFC 9112 section 7.1), parsed incrementally and strictly.

:class:`ChunkedParser` never holds data: it reads the framing (size lines, the CRLF after each chunk's
data, trailer fields) and says how many data bytes follow, so the reader can copy exactly those and
nothing beyond the body's end, whatever the declared sizes and wherever the reads split the stream.
Lines end with CRLF; a size is 1 to 16 hex digits; extensions and trailer fields are skipped; a line is at
most :data:`MAX_LINE` bytes and the trailer section at most :data:`MAX_TRAILER` bytes.
"""

import re
from typing import Union

MAX_LINE = 4096
"""A size line with its extensions, or one trailer field, at most (bytes, CRLF excluded)."""
MAX_TRAILER = 64 * 1024

_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})([ \t]*;[^\x00-\x08\x0a-\x1f\x7f]*)?\Z")
_FIELD = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\x00-\x08\x0a-\x1f\x7f]*\Z")

Buffer = Union[bytes, bytearray]

_SIZE_LINE, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class FramingError(ValueError):
    """The chunked framing is malformed; where the body ends is unknown."""


class ChunkedParser:
    """Where one chunked body's data lies; :attr:`left` data bytes come next, :attr:`done` at its end."""

    __slots__ = ("left", "_state", "_trailer")

    def __init__(self) -> None:
        self.left = 0
        self._state = _SIZE_LINE
        self._trailer = 0

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def take(self, count: int) -> None:
        """``count`` of the :attr:`left` data bytes were consumed."""
        if not 0 <= count <= self.left:
            raise ValueError("take(%d) with %d data bytes left" % (count, self.left))
        self.left -= count
        if not self.left:
            self._state = _DATA_END

    def framing(self, buffer: Buffer, pos: int) -> int:
        """Parse the framing in ``buffer`` from ``pos``; returns where it stopped: at chunk data
        (:attr:`left` > 0), at the end of the body (:attr:`done`) or at a line not complete yet.

        Raises:
            FramingError: malformed framing (nothing after it can be trusted).
        """
        while self._state not in (_DATA, _DONE):
            if self._state == _DATA_END:
                end = buffer[pos:pos + 2]
                if end == b"\r\n":
                    pos += 2
                    self._state = _SIZE_LINE
                    continue
                if end in (b"", b"\r"):
                    return pos
                raise FramingError("chunk data not followed by CRLF")
            newline = buffer.find(b"\n", pos, pos + MAX_LINE + 2)
            if newline < 0:
                if len(buffer) - pos > MAX_LINE + 1:
                    raise FramingError("line longer than %d bytes" % MAX_LINE)
                return pos
            if newline == pos or buffer[newline - 1] != 13:
                raise FramingError("line not ended by CRLF")
            line = bytes(buffer[pos:newline - 1])
            pos = newline + 1
            if self._state == _SIZE_LINE:
                self._size_line(line)
            else:
                self._trailer_line(line)
        return pos

    def _size_line(self, line: bytes) -> None:
        match = _SIZE.match(line)
        if match is None:
            raise FramingError("malformed chunk size line %r" % line[:40])
        self.left = int(match.group(1), 16)
        self._state = _DATA if self.left else _TRAILER

    def _trailer_line(self, line: bytes) -> None:
        if not line:
            self._state = _DONE
            return
        self._trailer += len(line) + 2
        if self._trailer > MAX_TRAILER:
            raise FramingError("trailer section larger than %d bytes" % MAX_TRAILER)
        if not _FIELD.match(line):
            raise FramingError("malformed trailer field %r" % line[:40])


def skip(parser: ChunkedParser, buffer: Buffer, pos: int) -> int:
    """Advance ``parser`` over everything in ``buffer`` from ``pos`` (framing and data alike); returns
    where it stopped (the body's end when :attr:`ChunkedParser.done`)."""
    while not parser.done:
        pos = parser.framing(buffer, pos)
        count = min(parser.left, len(buffer) - pos)
        if count <= 0:
            break
        parser.take(count)
        pos += count
    return pos
