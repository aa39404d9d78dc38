"""Encoding and hashing helpers shared by the SDK and the emulator.

Each function here is pinned by the vectors of the protocol reference (tests/unit), because a bug in
this module would otherwise pass every test on both sides of the wire.
"""

import base64
import binascii
import hashlib
import zlib
from typing import BinaryIO, Iterable, List, Optional, Union

from wcs.commons.errors import InvalidArgument

BLOCK_SIZE = 4 * 1024 * 1024
"""The WCS etag block: 4 MiB. Multipart block sizes must be a multiple of it."""

_READ_SIZE = 1024 * 1024

BytesLike = Union[bytes, bytearray, memoryview]


def _to_bytes(data: Union[str, BytesLike]) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def urlsafe_base64_encode(data: Union[str, BytesLike]) -> str:
    """URL-safe Base64 of ``data`` (str is UTF-8 encoded), padding kept as every official SDK does."""
    return base64.urlsafe_b64encode(_to_bytes(data)).decode("ascii")


def urlsafe_base64_decode(data: Union[str, BytesLike]) -> bytes:
    """Decode URL-safe Base64 leniently: missing padding is restored, ``+``/``/`` also accepted.

    Raises:
        ValueError: ``data`` is not Base64.
    """
    text = bytes(data).decode("ascii") if isinstance(data, (bytes, bytearray, memoryview)) else str(data)
    text = text.strip().replace("+", "-").replace("/", "_")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, altchars=b"-_", validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ValueError("invalid URL-safe Base64: %r" % (text[:40],)) from exc


def check_object_key(key: str) -> str:
    """``key`` if it can be a stored object's key, else raise: control characters (U+0000-U+001F and
    U+007F, a newline among them) are refused before anything is sent, as the emulator refuses them
    (an object under such a key could never be downloaded by URL).

    Raises:
        InvalidArgument: the key holds a control character.
    """
    if any(ch < " " or ch == "\x7f" for ch in key):
        raise InvalidArgument("invalid object key %r: control characters (such as a newline) are not allowed"
                              % (key,))
    return key


def entry(bucket: str, key: Optional[str] = None) -> str:
    """EncodeEntryURI: ``urlsafe_b64("bucket:key")``, or of the bare bucket when ``key`` is None."""
    if key is None:
        return urlsafe_base64_encode(str(bucket))
    return urlsafe_base64_encode("%s:%s" % (bucket, key))


def etag_from_block_digests(digests: Iterable[bytes]) -> str:
    """The etag of content whose 4 MiB blocks have the given raw SHA-1 digests, in order."""
    digests = list(digests)
    if not digests:
        digests = [hashlib.sha1(b"").digest()]
    if len(digests) == 1:
        return urlsafe_base64_encode(b"\x16" + digests[0])
    return urlsafe_base64_encode(b"\x96" + hashlib.sha1(b"".join(digests)).digest())


class EtagHasher:
    """Incremental WCS etag: feed bytes in any slicing with :meth:`update`, read :meth:`etag`.

    Lets a transfer hash the bytes while it sends or receives them, with no second pass. ``digests``
    (the raw SHA-1 of each complete 4 MiB piece) may be given to continue after those pieces.
    """

    def __init__(self, digests: Optional[List[bytes]] = None) -> None:
        self.digests: List[bytes] = list(digests or [])
        self._block = hashlib.sha1()
        self.filled = 0
        self.size = len(self.digests) * BLOCK_SIZE

    def update(self, data: BytesLike) -> None:
        view = memoryview(data).cast("B")
        self.size += len(view)
        while len(view):
            take = min(BLOCK_SIZE - self.filled, len(view))
            self._block.update(view[:take])
            self.filled += take
            view = view[take:]
            if self.filled == BLOCK_SIZE:
                self.digests.append(self._block.digest())
                self._block = hashlib.sha1()
                self.filled = 0

    def block_digests(self) -> List[bytes]:
        """Raw SHA-1 of each block seen so far, the partial last block included."""
        if self.filled or not self.digests:
            return self.digests + [self._block.digest()]
        return list(self.digests)

    def etag(self) -> str:
        return etag_from_block_digests(self.block_digests())


def etag_stream(input_stream: BinaryIO, block_size: int = BLOCK_SIZE) -> str:
    """Etag of everything left in a binary stream, read in bounded chunks (flat memory)."""
    if int(block_size) != BLOCK_SIZE:
        # The service's etag is defined on 4 MiB blocks; any other size gives a different, useless value.
        raise ValueError("the WCS etag is defined on %d-byte blocks" % BLOCK_SIZE)
    hasher = EtagHasher()
    buf = bytearray(BLOCK_SIZE)
    view = memoryview(buf)
    readinto = getattr(input_stream, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(view)
            if not n:
                break
            hasher.update(view[:n])
        else:
            chunk = input_stream.read(BLOCK_SIZE)
            if not chunk:
                break
            hasher.update(chunk)
    return hasher.etag()


def etag(path: str, block_size: int = BLOCK_SIZE) -> str:
    """Etag of the file at ``path``."""
    with open(path, "rb", buffering=0) as fp:
        return etag_stream(fp, block_size)


def crc32(data: BytesLike, value: int = 0) -> int:
    """zlib CRC-32 as an unsigned int, as mkblk/bput report per chunk."""
    return zlib.crc32(data, value) & 0xFFFFFFFF


def crc64(data: BytesLike, value: int = 0) -> int:
    """CRC-64/XZ (``crc64ecma``) of ``data``, continuing from a previous ``value`` (0 to start).

    Computed by ``fastcrc`` (SIMD carry-less multiply, tens of GB/s; any bytes-like object is read
    in place, and the GIL is released for large inputs), so a file hashes as fast as it can be read.

    Raises:
        TypeError: ``data`` is not a bytes-like object.
        OverflowError: ``value`` is not a 64-bit unsigned int.
    """
    # Imported on first use: loading the extension costs ~10 ms that `wcscmd --help` need not pay.
    from fastcrc.crc64 import xz

    return xz(data, value)
