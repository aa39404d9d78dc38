"""The form reader finds the same fields and the same file bytes wherever the reads of the body end.

Every split of a form (one read boundary at each offset, and every read size) is fed to the reader
without HTTP; the forms hold the token before and after the file, content that looks like a
delimiter, CRs and LFs at the edges of the file, and files whose length puts the closing
delimiter across a 64 KiB read at each of its offsets (what stored a stray byte with werkzeug's
decoder). The same sizes go over HTTP in ``test_upload.py``.
"""

import io
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

from wcs.emulator.api.form import read_form
from wcs.emulator.api.multipart import PART_END, FormError, MultipartDecoder, Part
from wcs.emulator.errors import AuthRequired, BadRequest, BodyTooLarge

BOUNDARY = "b0undary-XyZ"
READ = 64 * 1024
Fields = Sequence[Tuple[str, Optional[str], bytes]]


def form_body(fields: Fields, boundary: str = BOUNDARY) -> bytes:
    """A form as requests/requests_toolbelt write it: ``(name, filename or None, value)`` parts."""
    out = []
    for name, filename, value in fields:
        disposition = 'form-data; name="%s"' % name
        if filename is not None:
            disposition += '; filename="%s"' % filename
        out.append(("--%s\r\nContent-Disposition: %s\r\n" % (boundary, disposition)).encode())
        if filename is not None:
            out.append(b"Content-Type: application/octet-stream\r\n")
        out.append(b"\r\n" + value + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out)


class Reads(io.RawIOBase):
    """A body handed out in reads that end at the given offsets (then at most ``size`` bytes a read)."""

    def __init__(self, data: bytes, cuts: Sequence[int] = (), size: int = READ) -> None:
        super().__init__()
        self._data, self._pos, self._size = data, 0, size
        self._cuts = sorted(set(cut for cut in cuts if 0 < cut < len(data)))
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        stop = min(len(self._data), self._pos + min(self._size, size if size >= 0 else self._size))
        for cut in self._cuts:
            if self._pos < cut < stop:
                stop = cut
                break
        data = self._data[self._pos:stop]
        self._pos = stop
        self.consumed += len(data)
        return data


class Spools:
    def __init__(self) -> None:
        self.made: List[io.BytesIO] = []

    def __call__(self) -> io.BytesIO:
        self.made.append(io.BytesIO())
        return self.made[-1]


def check_token(value: Optional[str]) -> Dict[str, Any]:
    if value != "good-token":
        raise AuthRequired()
    return {"scope": "b"}


def parse(body: bytes, cuts: Sequence[int] = (), size: int = READ, boundary: str = BOUNDARY):
    spools = Spools()
    form = read_form(Reads(body, cuts, size), boundary, check_token, spools)
    data = form.file.spool.getvalue() if form.file is not None else None
    return form.fields, data, len(spools.made)


FILE = b"\r\n--b0undary-Xy\r\r\n-\n--" + bytes(range(256)) + b"--b0undary-XyZ-\r\n--b0undary-XyZ!\r\n\r"
FORMS = {
    "token first": [("token", None, b"good-token"), ("key", None, b"k"), ("file", "f.bin", FILE)],
    "file first": [("file", "f.bin", FILE), ("x:n", None, b"\r\n--"), ("token", None, b"good-token")],
    "empty file": [("token", None, b"good-token"), ("file", "f.bin", b"")],
    "file of CRs": [("token", None, b"good-token"), ("file", "f.bin", b"\r\r\r\n\r")],
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_single_split_gives_the_same_form(name):
    fields = FORMS[name]
    body = form_body(fields)
    expected_file = [value for field, filename, value in fields if filename is not None][0]
    expected_fields = {field: value.decode() for field, filename, value in fields if filename is None}
    for cut in range(len(body) + 1):
        got_fields, got_file, spools = parse(body, [cut])
        assert (got_fields, got_file, spools) == (expected_fields, expected_file, 1), "read ends at %d" % cut


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_read_size_gives_the_same_form(name):
    fields = FORMS[name]
    body = form_body(fields)
    expected_file = [value for field, filename, value in fields if filename is not None][0]
    for size in range(1, len(body) + 1):
        assert parse(body, size=size)[1] == expected_file, "reads of %d bytes" % size


def _delimiter_across_a_read(file_size: int) -> bytes:
    return form_body([("token", None, b"good-token"), ("key", None, b"k"), ("file", "f.bin", b"\xa5" * file_size)])


def test_the_closing_delimiter_across_a_64k_read_at_each_of_its_offsets():
    overhead = len(_delimiter_across_a_read(0))
    closing = len("\r\n--%s--\r\n" % BOUNDARY)
    for k in (1, 2):
        # body length READ*k + tail: the k-th read ends `tail` bytes before the end of the body
        for tail in range(0, closing + 2):
            size = READ * k + tail - overhead
            body = _delimiter_across_a_read(size)
            assert len(body) == READ * k + tail
            fields, data, _ = parse(body)
            assert data == b"\xa5" * size, "body of 64 KiB x %d + %d bytes: %d bytes stored instead of %d" % (
                k, tail, len(data or b""), size)
            assert fields == {"token": "good-token", "key": "k"}


def _events(body: bytes, cuts: Sequence[int]) -> List[Any]:
    decoder = MultipartDecoder(BOUNDARY.encode())
    events: List[Any] = []
    last = 0
    for cut in list(cuts) + [len(body)]:
        events.extend(decoder.feed(body[last:cut]))
        last = cut
    decoder.finish()
    merged: List[Any] = []
    for event in events:  # content may come in several pieces: join them
        if isinstance(event, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += event
        else:
            merged.append(event)
    return merged


@pytest.mark.slow
def test_decoder_events_do_not_depend_on_two_read_boundaries():
    body = form_body(FORMS["file first"])
    whole = _events(body, [])
    assert [type(event) for event in whole] == [Part, bytes, type(PART_END)] * 3
    assert whole[0].filename == "f.bin" and whole[1] == FILE and whole[3].filename is None
    step = 3
    for first in range(0, len(body), step):
        for second in range(first, len(body), step):
            assert _events(body, [first, second]) == whole, (first, second)


def test_preamble_padding_epilogue_and_empty_form():
    body = (b"junk before\r\n--B \t\r\nContent-Disposition: form-data; name=token\r\n\r\ngood-token"
            b"\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nxyz"
            b"\r\n--B--   epilogue\r\n--B\r\nmore")
    for cut in range(len(body) + 1):
        assert parse(body, [cut], boundary="B") == ({"token": "good-token"}, b"xyz", 1)
    with pytest.raises(AuthRequired):  # no part at all: no token
        parse(b"--B--\r\n", boundary="B")


@pytest.mark.parametrize("body", [
    b"--B\r\nContent-Disposition: form-data; name=token\r\n\r\ngood-token\r\n--B",  # no closing delimiter
    b"--B\r\nContent-Disposition: form-data; name=token\r\n\r\ngood-token",
    b"--B\r\nX-No-Disposition: 1\r\n\r\nx\r\n--B--\r\n",
    b"--B\r\nContent-Disposition: form-data; name=token\r\nno colon here\r\n\r\nx\r\n--B--\r\n",
    b"no delimiter at all",
    b"",
])
def test_malformed_bodies_are_400(body):
    with pytest.raises(BadRequest):
        parse(body, boundary="B")


def test_a_header_block_without_end_is_bounded():
    body = b"--B\r\nContent-Disposition: form-data; name=token\r\nX: " + b"y" * 100000
    with pytest.raises(BodyTooLarge):
        parse(body, boundary="B")
    with pytest.raises(FormError):
        MultipartDecoder(b"a\r\nb")


def test_memory_holds_one_read_plus_a_delimiter():
    decoder = MultipartDecoder(b"B")
    decoder.feed(b"--B\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\n")
    for _ in range(200):
        pieces = decoder.feed(b"\r" * 1000 + b"\r\n--")
        assert sum(len(piece) for piece in pieces if isinstance(piece, bytes)) >= 1000
        assert len(decoder._buffer) <= len(b"\r\n--B")


class LazyForm(io.RawIOBase):
    """A form whose file part (``size`` bytes, before the token) is made as it is read."""

    def __init__(self, size: int, token: str = "good-token", boundary: str = BOUNDARY) -> None:
        super().__init__()
        head = ('--%s\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n' % boundary).encode()
        tail = ('\r\n--%s\r\nContent-Disposition: form-data; name="token"\r\n\r\n%s\r\n--%s--\r\n'
                % (boundary, token, boundary)).encode()
        self._pieces = [head, None, tail]
        self._size = size
        self.length = len(head) + size + len(tail)
        self.consumed = 0

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        size = READ if size < 0 else size
        pos, out = self.consumed, b""
        for piece_size, piece in ((len(self._pieces[0]), self._pieces[0]), (self._size, None),
                                  (len(self._pieces[2]), self._pieces[2])):
            if pos < piece_size and len(out) < size:
                count = min(piece_size - pos, size - len(out))
                out += (b"\x5a" * count) if piece is None else piece[pos:pos + count]
                pos = 0
            else:
                pos = max(0, pos - piece_size)
        self.consumed += len(out)
        return out


def test_a_file_before_the_token_is_spooled_up_to_the_cap():
    cap = 8 * 1024 * 1024
    small = LazyForm(5 * 1024 * 1024)
    spools = Spools()
    form = read_form(small, BOUNDARY, check_token, spools, cap)
    assert form.policy == {"scope": "b"} and len(form.file.spool.getvalue()) == 5 * 1024 * 1024

    big = LazyForm(64 * 1024 * 1024)
    spools = Spools()
    with pytest.raises(BodyTooLarge, match="before a valid token"):
        read_form(big, BOUNDARY, check_token, spools, cap)
    assert len(spools.made[0].getvalue()) <= cap
    assert big.consumed <= cap + 2 * READ
    # with the token first there is no such cap
    body = form_body([("token", None, b"good-token"), ("file", "f", b"z" * (cap + 1))])
    assert len(parse(body)[1]) == cap + 1
