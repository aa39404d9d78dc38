"""Encoding and hashing helpers shared by the SDK and the emulator, and the official ``wcs.commons.util``.

Each function here is pinned by the vectors of the protocol reference (tests/unit), because a bug in
this module would otherwise pass every test on both sides of the wire. The official module's names
are here with the official values: ``crc64``/``file_crc64`` return decimal strings, ``crc32`` takes
text too, ``etag(path, block_size)`` hashes with the given block size. The SDK's own code uses the
integer forms (:func:`crc64_int`, :func:`file_crc64_int`).
"""

import base64
import binascii
import datetime
import hashlib
import random
import re
import string
import time
import zlib
from typing import Any, BinaryIO, Iterable, List, Optional, Union

from wcs.commons.errors import InvalidArgument, ParameterError

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
    if not key.isprintable() and any(ch < " " or ch == "\x7f" for ch in key):  # (printable: none of them)
        raise InvalidArgument("invalid object key %r: control characters (such as a newline) are not allowed"
                              % (key,))
    return key


def entry(bucket: str, key: Optional[str] = None) -> str:
    """EncodeEntryURI: ``urlsafe_b64("bucket:key")``, or of the bare bucket when ``key`` is None."""
    if key is None:
        return urlsafe_base64_encode(str(bucket))
    return urlsafe_base64_encode("%s:%s" % (bucket, key))


def etag_from_block_digests(digests: Iterable[bytes]) -> str:
    """The etag of content whose blocks (4 MiB for WCS) have the given raw SHA-1 digests, in order."""
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
    ``block_size`` other than 4 MiB gives the official ``etag(path, block_size)`` value (not a WCS etag).
    """

    def __init__(self, digests: Optional[List[bytes]] = None, block_size: int = BLOCK_SIZE) -> None:
        if int(block_size) <= 0:
            raise ValueError("block_size must be positive, got %r" % (block_size,))
        self.block_size = int(block_size)
        self.digests: List[bytes] = list(digests or [])
        self._block = hashlib.sha1()
        self.filled = 0
        self.size = len(self.digests) * self.block_size

    def update(self, data: BytesLike) -> None:
        view = memoryview(data).cast("B")
        self.size += len(view)
        while len(view):
            take = min(self.block_size - self.filled, len(view))
            self._block.update(view[:take])
            self.filled += take
            view = view[take:]
            if self.filled == self.block_size:
                self.digests.append(self._block.digest())
                self._block = hashlib.sha1()
                self.filled = 0

    def copy(self) -> "EtagHasher":
        """An independent hasher in the same state (to try bytes that may have to be taken back)."""
        twin = EtagHasher(self.digests, self.block_size)
        twin._block = self._block.copy()
        twin.filled = self.filled
        twin.size = self.size
        return twin

    def block_digests(self) -> List[bytes]:
        """Raw SHA-1 of each block seen so far, the partial last block included."""
        if self.filled or not self.digests:
            return self.digests + [self._block.digest()]
        return list(self.digests)

    def etag(self) -> str:
        return etag_from_block_digests(self.block_digests())


def etag_stream(input_stream: BinaryIO, block_size: int = BLOCK_SIZE) -> str:
    """Etag of everything left in a binary stream, read in bounded chunks (flat memory).

    The WCS etag uses 4 MiB blocks (the default); another ``block_size`` gives the value the official
    function computes for it, which the service never reports.
    """
    hasher = EtagHasher(block_size=block_size)
    # 1 MiB reads: the hasher takes any slicing, and many files hashed in parallel (a sync) then cost
    # 1 MiB each rather than a whole 4 MiB block.
    buf = bytearray(_READ_SIZE)
    view = memoryview(buf)
    readinto = getattr(input_stream, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(view)
            if not n:
                break
            hasher.update(view[:n])
        else:
            chunk = input_stream.read(_READ_SIZE)
            if not chunk:
                break
            hasher.update(chunk)
    return hasher.etag()


def etag(path: str, block_size: int = BLOCK_SIZE) -> str:
    """Etag of the file at ``path``."""
    with open(path, "rb", buffering=0) as fp:
        return etag_stream(fp, block_size)


def crc32(data: Union[str, BytesLike], value: int = 0) -> int:
    """zlib CRC-32 as an unsigned int, as mkblk/bput report per chunk (text is UTF-8 encoded)."""
    return zlib.crc32(_to_bytes(data) if isinstance(data, str) else data, value) & 0xFFFFFFFF


def crc64_int(data: BytesLike, value: int = 0) -> int:
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


def file_crc64_int(path: str) -> int:
    """CRC-64/ECMA of a file, read in bounded chunks into one reused buffer.

    Raises:
        OSError: the file cannot be read.
    """
    value = 0
    view = memoryview(bytearray(_READ_SIZE))
    with open(path, "rb", buffering=0) as stream:
        while True:
            n = stream.readinto(view)
            if not n:
                return value
            value = crc64_int(view[:n], value)


# -- the official wcs.commons.util names -------------------------------------------------------------

def crc64(data: BytesLike) -> str:
    """CRC-64/ECMA of ``data`` in decimal, as the official function returns it.

    Raises:
        ParameterError: ``data`` is not bytes-like (text included, as in the official SDK).
    """
    try:
        return str(crc64_int(data))
    except (TypeError, ValueError, OverflowError) as exc:
        raise ParameterError("calculation failed. %s" % exc) from None


def file_crc64(file: Any, block_size: int = 16 * 1024, is_path: bool = True) -> str:
    """CRC-64/ECMA in decimal of the file at ``file``, or of the bytes ``file`` when ``is_path`` is
    false (``block_size``: how the official reads it; the value does not depend on it).

    Raises:
        ParameterError: the file cannot be read, or ``file`` is not bytes-like.
    """
    if not is_path:
        return crc64(file)
    try:
        return str(file_crc64_int(file))
    except OSError:
        raise ParameterError("file does not exist") from None
    except (TypeError, ValueError) as exc:
        raise ParameterError("calculation failed. %s" % exc) from None


def file_crc32(filePath: str) -> int:
    """zlib CRC-32 (unsigned) of a whole file.

    Raises:
        OSError: the file cannot be read.
    """
    value = 0
    with open(filePath, "rb") as fp:
        for chunk in iter(lambda: fp.read(_READ_SIZE), b""):
            value = zlib.crc32(chunk, value)
    return value & 0xFFFFFFFF


def readfile(input: BinaryIO, offset: int, size: int) -> Optional[bytes]:
    """``size`` bytes of ``input`` from ``offset``, or None at the end of the file."""
    input.seek(offset)
    return input.read(size) or None


def file_to_stream(path: str) -> BinaryIO:
    """The file at ``path`` opened for binary reading (the caller closes it)."""
    return open(path, "rb")


def GetUuid() -> str:
    """32 random letters and digits (the official multipart upload id shape)."""
    chars = string.ascii_letters + string.digits
    rng = random.SystemRandom()
    return "".join(rng.choice(chars) for _ in range(32))


def https_check(url: str, https: bool = False) -> str:
    """``url`` with a scheme: kept when it has one, else ``https://`` when ``https``, else ``http://``.

    The official function reads ``ishttps`` from its global config; there is none here, so the
    scheme of a bare host is given by the caller.
    """
    if re.match(r"^https?://", url, re.IGNORECASE):
        return url
    return ("https://" if https else "http://") + url


def get_afterdate(days: int = 1) -> str:
    """The local date ``days`` from today, ``yyyy-mm-dd``."""
    return (datetime.date.today() + datetime.timedelta(days=days)).strftime("%Y-%m-%d")


def datetime_timestamp(seconds: Any) -> int:
    """Epoch milliseconds ``seconds`` from now (whole seconds), as upload tokens carry their deadline."""
    return int(time.time()) * 1000 + int(seconds) * 1000
