"""Request bodies: file-like views that are bounded, rewindable and report progress as they are read.

A :class:`ChunkReader` is what requests (or the multipart form encoder) reads a file body from. It
never holds more than what one ``read()`` asks for, reports every byte it hands out to a progress
callback, lets an observer (a hasher) see the bytes on the way, and on ``seek(0)`` takes back the
progress it reported so a retried request does not count twice. A :class:`BufferReader` does the
same for a chunk already in memory, handing it out in slices (no copy) so progress moves as the
bytes go out and a cancelled transfer stops within one slice. A small file's form is built whole
(:func:`form_in_memory`).
"""

import io
import itertools
import os
import threading
from typing import BinaryIO, Callable, Dict, Optional, Sequence, Tuple, Union

from wcs.commons.errors import Cancelled, LocalFileError

Progress = Callable[[int], None]
SLICE = 256 * 1024


class SourceReadError(Exception):
    """The local file failed while a request was reading it; ``error`` is the ``LocalFileError`` to raise.

    Deliberately not an ``OSError``: urllib3 would take an ``OSError`` raised by a body for a broken
    connection and the request would be retried, then reported as a network failure.
    """

    def __init__(self, error: LocalFileError) -> None:
        super().__init__(str(error))
        self.error = error


class ChunkReader:
    """A read-only view of ``length`` bytes of ``fp`` starting at ``offset``.

    Args:
        fp: a seekable binary file (the view seeks it before every read, so one file object must not
            be shared between threads).
        offset: where the view starts in ``fp``.
        length: bytes in the view.
        progress: called with the number of bytes handed out by each ``read``; with a negative
            number when ``seek`` rewinds over bytes already reported.
        observer: called with every block of bytes handed out, in order (e.g. a hasher's
            ``update``). It is not called again for bytes re-read after a rewind: rewinding is only
            allowed back to the start, and the owner resets its observer then (see ``on_rewind``).
        on_rewind: called when the view is rewound to the start after bytes were read.

    Raises (from ``read``):
        SourceReadError: the file cannot be read, or ended before ``length`` bytes (it shrank while
            being sent); its ``error`` is the ``LocalFileError`` for the caller.
    """

    def __init__(self, fp: BinaryIO, offset: int, length: int, progress: Optional[Progress] = None,
                 observer: Optional[Callable[[bytes], None]] = None,
                 on_rewind: Optional[Callable[[], None]] = None) -> None:
        if offset < 0 or length < 0:
            raise ValueError("offset and length must not be negative")
        self._fp = fp
        self._offset = offset
        self._length = length
        self._pos = 0
        self._progress = progress
        self._observer = observer
        self._on_rewind = on_rewind

    def __len__(self) -> int:
        # The bytes still to read: what the form encoder expects (requests subtracts ``tell()``
        # itself, so bodies are handed to requests at position 0). No ``fileno()`` on purpose:
        # the encoder would then size the whole file instead of this view.
        return self._length - self._pos

    @property
    def len(self) -> int:
        return len(self)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def read(self, size: Optional[int] = -1) -> bytes:
        remaining = self._length - self._pos
        if size is None or size < 0 or size > remaining:
            size = remaining
        if size == 0:
            return b""
        try:
            self._fp.seek(self._offset + self._pos)
            data = self._fp.read(size)
        except OSError as exc:
            raise SourceReadError(LocalFileError("cannot read the file being sent: %s" % (exc.strerror or exc))) \
                from exc
        if not data:
            raise SourceReadError(LocalFileError("file ended %d bytes early (was it truncated while uploading?)"
                                                 % remaining))
        self._pos += len(data)
        if self._observer is not None:
            self._observer(data)
        if self._progress is not None:
            self._progress(len(data))
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self._length
        if offset == self._pos:
            return self._pos
        if offset != 0:
            # Only a full rewind keeps the observer's view of the bytes consistent.
            raise io.UnsupportedOperation("a ChunkReader can only be rewound to its start")
        if self._progress is not None and self._pos:
            self._progress(-self._pos)
        self._pos = 0
        if self._on_rewind is not None:
            self._on_rewind()
        return 0


class BufferReader:
    """A request body over a buffer: ``read`` hands out slices of it (memoryviews, not copies).

    Args:
        buffer: the bytes to send.
        progress: called with the size of each slice handed out; negative on a rewind.
        cancel: when set, the next ``read`` raises :class:`Cancelled` (the request is abandoned).

    No ``__iter__`` on purpose: requests then sends it with a ``Content-Length`` (``__len__``), not chunked.
    """

    def __init__(self, buffer: Union[bytes, bytearray, memoryview], progress: Optional[Progress] = None,
                 cancel: Optional[threading.Event] = None, slice_size: int = SLICE) -> None:
        self._view = memoryview(buffer).cast("B")
        self._pos = 0
        self._progress = progress
        self._cancel = cancel
        self._slice = slice_size

    def __len__(self) -> int:
        return len(self._view) - self._pos

    @property
    def len(self) -> int:
        return len(self)

    def tell(self) -> int:
        return self._pos

    def read(self, size: Optional[int] = -1) -> memoryview:
        if self._cancel is not None and self._cancel.is_set():
            raise Cancelled("stopped while sending")
        # Slices larger than asked for are fine for http.client/urllib3 (they send what read returns)
        # and cost fewer system calls than their 8-16 KiB default.
        take = len(self._view) if size is None or size < 0 else max(size, self._slice)
        piece = self._view[self._pos:self._pos + take]
        self._pos += len(piece)
        if self._progress is not None and len(piece):
            self._progress(len(piece))
        return piece

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += len(self._view)
        if offset != self._pos:
            if offset != 0:
                raise io.UnsupportedOperation("a BufferReader can only be rewound to its start")
            self.rewind()
        return self._pos

    def rewind(self) -> None:
        """Back to the start, taking back the progress reported (the request is sent again)."""
        if self._progress is not None and self._pos:
            self._progress(-self._pos)
        self._pos = 0


# Form boundaries: a random part drawn once (content cannot be made to contain it) and a count,
# instead of a system call for random bytes per form.
_BOUNDARY_BASE = os.urandom(12).hex()
_BOUNDARIES = itertools.count()


def form_in_memory(fields: Sequence[Tuple[str, str]], file_name: str, data: bytes,
                   content_type: str) -> Tuple[bytes, Dict[str, str]]:
    """A whole ``multipart/form-data`` body (the ``fields``, then ``data`` as the part ``file``) and its
    ``Content-Type``: what the streaming encoder sends for a small file, built in one piece, so that it
    goes out in one ``sendall`` without the encoder's per-read bookkeeping."""
    boundary = "%s%08x" % (_BOUNDARY_BASE, next(_BOUNDARIES))
    mark = boundary.encode()
    parts = []
    for name, value in fields:
        parts.append(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                     % (mark, name.encode("utf-8"), value.encode("utf-8")))
    parts.append(b'--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\nContent-Type: %s\r\n\r\n'
                 % (mark, file_name.encode("utf-8"), content_type.encode("utf-8")))
    parts.append(data)
    parts.append(b"\r\n--%s--\r\n" % mark)
    return b"".join(parts), {"Content-Type": "multipart/form-data; boundary=%s" % boundary}


def read_exactly(fp: BinaryIO, size: int, name: str) -> bytes:
    """The first ``size`` bytes of ``fp`` (from its start).

    Raises:
        LocalFileError: the file cannot be read, or holds fewer bytes (it shrank).
    """
    try:
        fp.seek(0)
        data = fp.read(size)
        while data and len(data) < size:  # an unbuffered file may give fewer bytes than asked
            more = fp.read(size - len(data))
            if not more:
                break
            data += more
    except OSError as exc:
        raise LocalFileError("cannot read %s: %s" % (name, exc.strerror or exc)) from None
    if len(data) != size:
        raise LocalFileError("%s shrank while being read: %d bytes, %d expected" % (name, len(data), size))
    return data
