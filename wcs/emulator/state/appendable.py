"""Appendable objects (``POST /append/<position>``): the bytes of each append join the end of the object.

An append runs under the store lock from the position check to the commit, so appends to one key are
serialized and none can interleave with a copy's hard link or an overwrite. The new bytes are written
in place after the object's current end (files of appendable objects are the one exception to "files
are never modified in place": their first ``fsize`` bytes never change, and every reader reads a version
only up to its ``fsize``), then the row's size, etag and time are committed. A crash in between leaves
bytes past the committed end, which the next append overwrites and the next start cuts off. A file that
another object shares (a copy made by hard link) is copied first, so the copy never changes.

The etag comes from the SHA-1 of each 4 MiB piece kept with the object: an append re-hashes only the
last, partial piece and the new bytes.
"""

import os
import sqlite3
from typing import Any, ContextManager, List, NamedTuple, Optional

from wcs.commons.fsutil import discard
from wcs.commons.util import BLOCK_SIZE, EtagHasher, etag_from_block_digests
from wcs.emulator.errors import ObjectNotAppendable, PositionNotEqualToLength
from wcs.emulator.state.extras import ARCHIVE, Extra, ObjectExtras, file_id_of
from wcs.emulator.state.model import ObjectFiles, ObjectInfo, now_ms

_COPY = 1024 * 1024


class Piece(NamedTuple):
    """The bytes of one append, spooled: where, how many, and the SHA-1 of each 4 MiB piece of them."""

    path: str
    size: int
    digests: List[bytes]
    mime_type: Optional[str]
    """The form's ``mimeType``; None keeps the object's (or, for a new object, ``default_mime``)."""
    default_mime: str
    expires_at: Optional[int]
    """The retention the form asks for; None keeps the object's."""


def _hex(digests: List[bytes]) -> str:
    return "".join(digest.hex() for digest in digests)


class AppendStore:
    """The appends of one data dir, committed through ``objects`` (whose connection and lock they share)."""

    def __init__(self, db: sqlite3.Connection, lock: ContextManager[Any], objects: ObjectFiles,
                 extras: ObjectExtras) -> None:
        self._db = db
        self._lock = lock
        self._objects = objects
        self._extras = extras

    def append(self, bucket: str, key: str, position: int, piece: Piece) -> ObjectInfo:
        """Append ``piece`` to ``bucket``/``key`` at ``position``; a missing key is created at position 0.

        Raises:
            PositionNotEqualToLength: ``position`` is not the object's length (409; the length is in it).
            ObjectNotAppendable: the key holds a normal object, or an Archive one (409).
        """
        with self._lock:
            info = self._objects.get(bucket, key)
            if info is None:
                if position != 0:
                    raise PositionNotEqualToLength(0)
                return self._create(bucket, key, piece)
            extra = self._extras.get(info)
            if not extra.appendable:
                raise ObjectNotAppendable()
            if extra.storage_class == ARCHIVE:
                raise ObjectNotAppendable("an Archive object takes no appends")
            if position != info.fsize:
                raise PositionNotEqualToLength(info.fsize)
            return self._extend(info, extra, piece)

    def _create(self, bucket: str, key: str, piece: Piece) -> ObjectInfo:
        extra = Extra(appendable=True, digests=_hex(piece.digests))

        def remember(conn: sqlite3.Connection) -> None:  # in the commit of the new row
            row = conn.execute("SELECT file_id FROM objects WHERE bucket=? AND key=?", (bucket, key)).fetchone()
            self._extras.write(conn, row[0], extra)

        return self._objects.put_file(bucket, key, piece.path, piece.size, etag_from_block_digests(piece.digests),
                                      piece.mime_type or piece.default_mime, piece.expires_at, also=remember)

    def _extend(self, info: ObjectInfo, extra: Extra, piece: Piece) -> ObjectInfo:
        whole = info.fsize // BLOCK_SIZE
        known = extra.digests[:whole * 40]
        hasher = EtagHasher([bytes.fromhex(known[i:i + 40]) for i in range(0, len(known), 40)])
        # Pieces whose digest is missing (none, in practice) are re-hashed from the file with the tail.
        rehash_from = len(hasher.digests) * BLOCK_SIZE
        shared = os.stat(info.path).st_nlink > 1
        target = self._objects.new_temp_path() if shared else info.path
        try:
            if shared:
                _copy_range(info.path, target, info.fsize)
            with open(target, "r+b") as out:
                out.seek(rehash_from)
                _feed(out, hasher, info.fsize - rehash_from, None)
                out.seek(info.fsize)
                with open(piece.path, "rb") as src:
                    _feed(src, hasher, piece.size, out)
                out.truncate(info.fsize + piece.size)
            size = info.fsize + piece.size
            etag = hasher.etag()
            new_extra = extra._replace(digests=_hex(hasher.block_digests()))
            mime = piece.mime_type or info.mime_type
            expires_at = info.expires_at if piece.expires_at is None else piece.expires_at
            if shared:
                return self._objects.put_file(
                    info.bucket, info.key, target, size, etag, mime, expires_at,
                    also=lambda conn: self._extras.write(conn, self._file_id(conn, info), new_extra))
            now = now_ms()
            with self._db as conn:
                conn.execute("UPDATE objects SET fsize=?, hash=?, mime=?, put_time=?, expires_at=? "
                             "WHERE bucket=? AND key=? AND file_id=?",
                             (size, etag, mime, now, expires_at, info.bucket, info.key, file_id_of(info)))
                self._extras.write(conn, file_id_of(info), new_extra)
            return info._replace(fsize=size, hash=etag, mime_type=mime, put_time=now, expires_at=expires_at)
        finally:
            if shared:
                discard(target)

    @staticmethod
    def _file_id(conn: sqlite3.Connection, info: ObjectInfo) -> str:
        return conn.execute("SELECT file_id FROM objects WHERE bucket=? AND key=?",
                            (info.bucket, info.key)).fetchone()[0]

    def recover(self) -> int:
        """At start: cut the bytes an interrupted append left past the end of appendable objects;
        returns how many files were cut."""
        with self._lock:
            rows = self._db.execute("SELECT o.bucket, o.key FROM objects o JOIN object_ext e "
                                    "ON e.file_id = o.file_id WHERE e.appendable = 1").fetchall()
            cut = 0
            for bucket, key in rows:
                info = self._objects.get(bucket, key)
                if info is not None and os.path.getsize(info.path) > info.fsize:
                    os.truncate(info.path, info.fsize)
                    cut += 1
            return cut


def _feed(src: Any, hasher: EtagHasher, length: int, out: Any) -> None:
    """Read ``length`` bytes of ``src`` into ``hasher`` (and write them to ``out`` when given)."""
    left = length
    while left > 0:
        data = src.read(min(_COPY, left))
        if not data:
            raise OSError("%s ended %d bytes early" % (getattr(src, "name", "file"), left))
        hasher.update(data)
        if out is not None:
            out.write(data)
        left -= len(data)


def _copy_range(source: str, target: str, length: int) -> None:
    with open(source, "rb") as src, open(target, "wb") as out:
        left = length
        while left > 0:
            data = src.read(min(_COPY, left))
            if not data:
                raise OSError("%s is shorter than %d bytes" % (source, length))
            out.write(data)
            left -= len(data)
