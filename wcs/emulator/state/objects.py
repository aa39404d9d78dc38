"""The objects of a data dir: their rows and immutable files, looked up, committed, copied, listed.

Consistency rules: bytes are written to ``tmp/`` first, ``os.replace``d into ``objects/`` (the same
file system, so the rename is atomic) and only then is the metadata row committed, so a reader never
sees a row without its complete file. Files are never modified in place, so a download that opened
an old version keeps reading it while the key is overwritten. An upload's batch file that ``mkfile``
moved into ``objects/`` is written down before the move (the ``moves`` table), so that the store's
recovery can move it back after a crash before the commit (:mod:`~wcs.emulator.state.store`).

Buckets may be added and removed by another process while the store is open
(:mod:`~wcs.emulator.state.buckets`): bucket names are read from the database on every call, and an
object row is written only while its bucket exists, checked in the statement that writes it.
"""

import os
import shutil
import sqlite3
import uuid
from typing import Any, BinaryIO, Callable, ContextManager, Iterable, Iterator, List, Optional, Tuple

from wcs.commons.fsutil import discard
from wcs.emulator.crashpoints import crash_point
from wcs.emulator.errors import BucketNotFound, FileExists, FileNotFound
from wcs.emulator.state.buckets import object_file
from wcs.emulator.state.listing import Page, list_page, prefix_end
from wcs.emulator.state.model import ObjectInfo, now_ms

_COLUMNS = "bucket, key, fsize, hash, mime, put_time, expires_at, file_id"


class Objects:
    """The object rows of the database ``db`` (changed under ``lock``) and their files under
    ``objects_dir``; ``tmp_dir`` (on the same file system) takes files being written, ``blocks_dir`` the
    batch files a failed commit gives back."""

    def __init__(self, db: sqlite3.Connection, lock: ContextManager[Any], objects_dir: str, tmp_dir: str,
                 blocks_dir: str) -> None:
        self._db = db
        self._lock = lock
        self.objects_dir = objects_dir
        self.tmp_dir = tmp_dir
        self.blocks_dir = blocks_dir

    def new_temp_path(self, suffix: str = ".part") -> str:
        """A fresh path under ``tmp/`` (same filesystem as ``objects/``, so ``os.replace`` is atomic)."""
        return os.path.join(self.tmp_dir, uuid.uuid4().hex + suffix)

    def _object_path(self, file_id: str) -> str:
        return object_file(self.objects_dir, file_id)

    def bucket_exists(self, name: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM buckets WHERE name=?", (name,)).fetchone() is not None

    def require_bucket(self, name: str) -> None:
        """Raise :class:`~wcs.emulator.errors.BucketNotFound` (404) unless bucket ``name`` exists."""
        if not self.bucket_exists(name):
            raise BucketNotFound()

    # -- objects ------------------------------------------------------------------------------------

    def _info(self, row: tuple) -> ObjectInfo:
        return ObjectInfo(row[0], row[1], row[2], row[3], row[4], row[5], row[6], self._object_path(row[7]))

    def _row(self, bucket: str, key: str) -> Optional[tuple]:
        return self._db.execute("SELECT %s FROM objects WHERE bucket=? AND key=?" % _COLUMNS,
                                     (bucket, key)).fetchone()

    @staticmethod
    def _is_live(row: Optional[tuple], now: int) -> bool:
        return row is not None and (row[6] is None or row[6] > now)

    def get(self, bucket: str, key: str) -> Optional[ObjectInfo]:
        """The live object at ``bucket``/``key``; an expired one is deleted on sight and reported missing."""
        with self._lock:
            row = self._row(bucket, key)
            if row is None:
                return None
            if not self._is_live(row, now_ms()):
                self._delete_row(bucket, key, row[7])
                return None
            return self._info(row)

    def open(self, bucket: str, key: str) -> Optional[Tuple[ObjectInfo, BinaryIO]]:
        """The live object at ``bucket``/``key`` and its file opened for reading, or None.

        Looked up and opened under the lock every replacement commits under, so the file cannot be
        removed in between: a reader gets the old or the new version whole while the key is
        overwritten, never a missing file (an open file outlives its unlinking).
        """
        with self._lock:
            info = self.get(bucket, key)
            if info is None:
                return None
            try:
                return info, open(info.path, "rb")
            except FileNotFoundError:  # its bucket was removed by another process meanwhile
                return None

    def require(self, bucket: str, key: str) -> ObjectInfo:
        """Like :meth:`get` but raises the management API's 404 errors."""
        self.require_bucket(bucket)
        info = self.get(bucket, key)
        if info is None:
            raise FileNotFound()
        return info

    def exists(self, bucket: str, key: str) -> bool:
        return self.get(bucket, key) is not None

    def _delete_row(self, bucket: str, key: str, file_id: str) -> None:
        with self._db as conn:
            conn.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))
        discard(self._object_path(file_id))

    def put_file(self, bucket: str, key: str, temp_path: str, fsize: int, etag: str, mime_type: str,
                 expires_at: Optional[int] = None, overwrite: bool = True,
                 put_time: Optional[int] = None, also: Optional[Callable[[sqlite3.Connection], None]] = None,
                 undo_to: Optional[str] = None) -> ObjectInfo:
        """Move the complete file ``temp_path`` into place as ``bucket``/``key`` and commit its row.

        ``also(conn)`` runs in the transaction that commits the row (mkfile forgets its blocks there). The
        row is written only if the bucket exists then (another process may have removed it).
        ``undo_to``: the name under ``blocks/`` that ``temp_path`` is (an upload's batch file): the move
        is written down first, so that a crash before the commit moves the file back at the next start
        and the blocks stay usable; without it a crash leaves an orphan that the next start removes.

        Raises:
            FileExists: the key holds a live object and ``overwrite`` is false (406; ``temp_path`` is
                left for the caller to remove).
            BucketNotFound: the bucket was removed meanwhile (404; nothing is stored).
        """
        file_id = uuid.uuid4().hex
        final = self._object_path(file_id)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        with self._lock:
            now = now_ms()
            old = self._row(bucket, key)
            if not overwrite and self._is_live(old, now):
                raise FileExists()
            if undo_to is not None:
                with self._db as conn:
                    conn.execute("INSERT INTO moves VALUES (?, ?)", (file_id, undo_to))
            # The rename is what makes the object whole; the row follows, so no row lacks its file.
            os.replace(temp_path, final)
            crash_point("after-rename")
            try:
                with self._db as conn:
                    written = conn.execute(
                        "INSERT OR REPLACE INTO objects SELECT ?, ?, ?, ?, ?, ?, ?, ? "
                        "WHERE EXISTS (SELECT 1 FROM buckets WHERE name=?)",
                        (bucket, key, fsize, etag, mime_type, put_time or now, expires_at, file_id, bucket))
                    if written.rowcount != 1:
                        raise BucketNotFound()
                    if also is not None:
                        also(conn)
                    if undo_to is not None:
                        conn.execute("DELETE FROM moves WHERE file_id=?", (file_id,))
            except BaseException:
                if undo_to is None:
                    discard(final)
                else:
                    self._undo_move(file_id, undo_to)
                raise
        if old is not None:
            discard(self._object_path(old[7]))
        return ObjectInfo(bucket, key, fsize, etag, mime_type, put_time or now, expires_at, final)

    def _undo_move(self, file_id: str, source: str) -> None:
        """Put a batch file moved by an uncommitted :meth:`put_file` back under ``blocks/``."""
        path = self._object_path(file_id)
        if os.path.exists(path):
            os.replace(path, os.path.join(self.blocks_dir, os.path.basename(source)))
        with self._db as conn:
            conn.execute("DELETE FROM moves WHERE file_id=?", (file_id,))

    def put_files(self, bucket: str, items: Iterable[Tuple[str, str, int, str, str]]) -> int:
        """Bulk import (seeding a bucket of 100,000 objects for tests and benchmarks): move each
        ``(key, temp_path, fsize, etag, mime_type)`` file into place and commit all their rows in one
        transaction instead of one per object. Existing keys are replaced. Returns how many.

        The files are renamed before the rows are committed, as in :meth:`put_file`; a failure in
        between leaves object files without rows, which the next start removes.
        """
        rows, replaced = [], []
        with self._lock:
            now = now_ms()
            for key, temp_path, fsize, etag, mime_type in items:
                old = self._row(bucket, key)
                if old is not None:
                    replaced.append(old[7])
                file_id = uuid.uuid4().hex
                final = self._object_path(file_id)
                os.makedirs(os.path.dirname(final), exist_ok=True)
                os.replace(temp_path, final)
                rows.append((bucket, key, fsize, etag, mime_type, now, None, file_id))
            with self._db as conn:
                conn.executemany("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        for file_id in replaced:
            discard(self._object_path(file_id))
        return len(rows)

    def delete(self, bucket: str, key: str) -> bool:
        """Delete one object; False when there was none."""
        with self._lock:
            row = self._row(bucket, key)
            if row is None:
                return False
            self._delete_row(bucket, key, row[7])
            return self._is_live(row, now_ms())

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
             overwrite: bool = True, move: bool = False) -> ObjectInfo:
        """Copy (or move) one object; the destination is replaced unless ``overwrite`` is false (406)."""
        src = self.require(src_bucket, src_key)
        self.require_bucket(dst_bucket)
        if (src_bucket, src_key) == (dst_bucket, dst_key):
            return src
        if move:
            return self._move(src_bucket, src_key, dst_bucket, dst_key, overwrite)
        temp = self.new_temp_path()
        try:
            src = self._copy_file(src_bucket, src_key, temp)
            return self.put_file(dst_bucket, dst_key, temp, src.fsize, src.hash, src.mime_type,
                                 src.expires_at, overwrite=overwrite)
        finally:
            discard(temp)

    def _copy_file(self, bucket: str, key: str, temp: str) -> ObjectInfo:
        """Copy the current version of an object to ``temp``; returns that version (404 when gone)."""
        with self._lock:  # as in open(): the version looked up is the one copied
            src = self.require(bucket, key)
            try:
                # Stored files are immutable, so a hard link is a safe and free copy.
                os.link(src.path, temp)
                return src
            except FileNotFoundError:  # its bucket was removed by another process meanwhile
                raise FileNotFound() from None
            except OSError:
                try:
                    source = open(src.path, "rb")
                except FileNotFoundError:
                    raise FileNotFound() from None
        with source, open(temp, "wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        return src

    def _move(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str, overwrite: bool) -> ObjectInfo:
        with self._lock:
            self.require(src_bucket, src_key)
            old = self._row(dst_bucket, dst_key)
            if not overwrite and self._is_live(old, now_ms()):
                raise FileExists()
            with self._db as conn:
                conn.execute("DELETE FROM objects WHERE bucket=? AND key=?", (dst_bucket, dst_key))
                moved = conn.execute("UPDATE objects SET bucket=?, key=? WHERE bucket=? AND key=? AND "
                                     "EXISTS (SELECT 1 FROM buckets WHERE name=?)",
                                     (dst_bucket, dst_key, src_bucket, src_key, dst_bucket))
                if moved.rowcount != 1:  # a bucket was removed by another process meanwhile
                    raise BucketNotFound()
        if old is not None:
            discard(self._object_path(old[7]))
        return self.require(dst_bucket, dst_key)

    def set_expiry(self, bucket: str, key: str, expires_at: Optional[int]) -> bool:
        with self._lock:
            if self.get(bucket, key) is None:
                return False
            with self._db as conn:
                conn.execute("UPDATE objects SET expires_at=? WHERE bucket=? AND key=?", (expires_at, bucket, key))
            return True

    def purge_expired(self) -> int:
        """Delete every expired object now; returns how many."""
        with self._lock:
            rows = self._db.execute(
                "SELECT bucket, key, file_id FROM objects WHERE expires_at IS NOT NULL AND expires_at <= ?",
                (now_ms(),)).fetchall()
            for bucket, key, file_id in rows:
                self._delete_row(bucket, key, file_id)
            return len(rows)

    # -- listing ------------------------------------------------------------------------------------

    def scan(self, bucket: str, lower: str, inclusive: bool, upper: Optional[str], count: int) -> List[ObjectInfo]:
        """At most ``count`` live objects of ``bucket`` whose key lies above ``lower`` (or at it) and below
        ``upper`` (None: no bound), in key order: one range of the primary key index."""
        sql = "SELECT %s FROM objects WHERE bucket=? AND key %s ?" % (_COLUMNS, ">=" if inclusive else ">")
        args: list = [bucket, lower]
        if upper is not None:
            sql += " AND key < ?"
            args.append(upper)
        sql += " AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?"
        args += [now_ms(), count]
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [self._info(row) for row in rows]

    def under(self, bucket: str, prefix: str, after: Optional[str] = None, page: int = 1000
              ) -> Iterator[ObjectInfo]:
        """Live objects whose key starts with ``prefix`` (and sorts after ``after``), in key order.

        Read ``page`` rows at a time so the lock is never held while the caller works and memory stays
        flat; a caller that needs exactly N rows asks for pages of N.
        """
        lower, inclusive = (after, False) if after is not None and after >= prefix else (prefix, True)
        upper = prefix_end(prefix)
        while True:
            rows = self.scan(bucket, lower, inclusive, upper, page)
            yield from rows
            if len(rows) < page:
                return
            lower, inclusive = rows[-1].key, False

    def keys_under(self, bucket: str, prefix: str) -> List[ObjectInfo]:
        """Snapshot of the live objects whose key starts with ``prefix``, in key order."""
        return list(self.under(bucket, prefix))

    def list_objects(self, bucket: str, prefix: str = "", marker: str = "", limit: int = 1000,
                     mode: Optional[int] = None, start_time: Optional[int] = None,
                     end_time: Optional[int] = None) -> Page:
        """One page of ``/list``: ``(items, commonPrefixes, next_marker)`` (see
        :func:`~wcs.emulator.state.listing.list_page`)."""
        self.purge_expired()

        def scan(lower: str, inclusive: bool, upper: Optional[str], count: int) -> List[ObjectInfo]:
            return self.scan(bucket, lower, inclusive, upper, count)

        return list_page(scan, prefix, marker, limit, mode, start_time, end_time)
