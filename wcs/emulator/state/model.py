"""What the store hands out: an object, a multipart block, and the rules every key and time obeys; and
what the parts of the store (blocks, appends) need of the object store that owns them
(:class:`ObjectFiles`)."""

import mimetypes
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, NamedTuple, Optional, Protocol

from wcs.emulator.errors import InvalidKey

DAY_MS = 86400 * 1000
MAX_RETENTION_DAYS = 1000000
"""Largest retention (about 2700 years): keeps an expiry a 64-bit number of ms and a 4-digit year."""
BLOCK_TTL_MS = 30 * DAY_MS
"""Unmerged multipart blocks are purged after this long (the service says "roughly monthly")."""

_GENERIC_TYPES = ("", "application/octet-stream", "text/plain")


def now_ms() -> int:
    return int(time.time() * 1000)


def format_expiration(expires_at: Optional[int]) -> str:
    """``expirationDate`` text. [INFERRED] the format is undocumented: UTC ISO 8601, empty when none."""
    if expires_at is None:
        return ""
    return datetime.fromtimestamp(expires_at / 1000.0, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate_key(key: str) -> None:
    """Object key rules of the reference (1.3), and no control characters; raises
    :class:`~wcs.emulator.errors.InvalidKey` (400)."""
    if not key:
        raise InvalidKey("key is empty")
    if len(key.encode("utf-8")) > 1000:
        raise InvalidKey("key is longer than 1000 bytes")
    if key.startswith("/") or key.endswith("/"):
        raise InvalidKey("key must not start or end with '/'")
    if "/../" in key or "/./" in key or key.startswith(("../", "./")) or key in ("..", "."):
        raise InvalidKey("key must not contain '/../' or '/./'")
    if any(ch < " " or ch == "\x7f" for ch in key):
        # [INFERRED] the reference is silent; such a key could not be downloaded by URL or listed
        # sanely, so it is refused where it would be created (the SDK refuses it before sending).
        raise InvalidKey("key must not contain control characters (U+0000-U+001F, U+007F)")


def guess_mime(key: str, explicit: Optional[str] = None, part_type: Optional[str] = None) -> str:
    """The ``mimeType`` of a new object: ``explicit`` > a guess from the key's extension > the
    uploaded part's Content-Type unless it is generic > ``application/octet-stream``."""
    if explicit:
        return explicit
    guessed = mimetypes.guess_type(key)[0]
    if guessed:
        return guessed
    part_type = (part_type or "").split(";")[0].strip().lower()
    if part_type not in _GENERIC_TYPES:
        return part_type
    return "application/octet-stream"


class ObjectInfo(NamedTuple):
    """One stored object (immutable). A named tuple: a listing builds one per row, and a frozen
    dataclass costs several times as much to construct."""

    bucket: str
    key: str
    fsize: int
    hash: str
    mime_type: str
    put_time: int
    expires_at: Optional[int]
    path: str

    @property
    def expiration_date(self) -> str:
        return format_expiration(self.expires_at)


@dataclass(frozen=True)
class Block:
    """A multipart block. ``digests``: hex SHA-1 of its complete 4 MiB pieces, in order, as received
    (40 characters each; the partial last piece too once the block is complete). It may hold fewer
    than ``received`` covers (a block from an older data dir): the receiver re-hashes what is missing."""

    id: str
    batch: Optional[str]
    size: int
    order: int
    received: int
    path: str
    digests: str = ""
    base: int = 0
    """Where the block starts in the file at ``path`` (0 unless it is in its upload's batch file)."""
    shared: bool = False
    """The file at ``path`` is its upload's batch file (never truncated, removed with its last block)."""
    scope: Optional[str] = None
    """The scope of the upload token that made it (None: a block of an older data dir, bound to none)."""


class ObjectFiles(Protocol):
    """What the block and append stores call on the object store that owns them (and whose database
    connection and lock they share): :class:`~wcs.emulator.state.objects.Objects`."""

    def get(self, bucket: str, key: str) -> Optional[ObjectInfo]:
        """The live object at ``bucket``/``key``, or None."""

    def new_temp_path(self, suffix: str = ".part") -> str:
        """A fresh path on the file system of the object files."""

    def put_file(self, bucket: str, key: str, temp_path: str, fsize: int, etag: str, mime_type: str,
                 expires_at: Optional[int] = None, overwrite: bool = True,
                 put_time: Optional[int] = None, also: Optional[Callable[[sqlite3.Connection], None]] = None,
                 undo_to: Optional[str] = None) -> ObjectInfo:
        """Move ``temp_path`` into place as ``bucket``/``key`` and commit its row (``also(conn)`` in that
        transaction)."""
