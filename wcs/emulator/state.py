"""Emulator state without HTTP: buckets and metadata in sqlite, object bytes as files.

Layout of a data dir::

    meta.sqlite3          buckets, objects, multipart blocks, async jobs, settings (WAL journal)
    objects/<ab>/<id>     one immutable file per stored object; a new upload gets a new id
    blocks/<id>           bytes received so far for one multipart (mkblk/bput) block; its row keeps the
                          SHA-1 of every complete 4 MiB piece, so mkfile needs no second pass
    blocks/u-<hash>       the blocks of one upload (``UploadBatch``), each at its place in the file
    tmp/                  spools of uploads in flight; emptied at start

Consistency rules: bytes are written to ``tmp/`` first, ``os.replace``d into ``objects/`` and only then is
the metadata row committed, so a reader never sees a row without its complete file. Files are never
modified in place, so a download that opened an old version keeps reading it while the key is
overwritten. One sqlite connection serialised by a lock is plenty for an emulator and sidesteps
``SQLITE_BUSY`` between threads. At start the store removes spools, object files that no row points to
(a crash between rename and commit) and blocks older than :data:`BLOCK_TTL_MS`.

Multipart blocks of an upload that names its batch (``UploadBatch``) and uses blocks of whole 4 MiB
pieces are written straight at their place in one sparse file per batch (block ``n`` of size ``s`` at
``n * s``), so ``mkfile`` usually has no bytes to copy: it appends what is not in place (the short
last block), cuts the file to the object size and renames it into ``objects/``. A block whose place
is taken (a block sent again while the first copy is still live, a last block whose place overlaps
another) gets a file of its own, and ``mkfile`` falls back to copying whenever the batch file holds
blocks that are not part of the object. Until then the file lives in ``blocks/``: nothing is visible
before it is complete.
"""

import base64
import hashlib
import os
import secrets
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple

from wcs.commons.util import BLOCK_SIZE, EtagHasher, etag_from_block_digests
from wcs.emulator.errors import BUCKET_NOT_FOUND, FILE_EXISTS, FILE_NOT_FOUND, ApiError

DAY_MS = 86400 * 1000
MAX_RETENTION_DAYS = 1000000
"""Largest retention (about 2700 years): keeps an expiry a 64-bit number of ms and a 4-digit year."""
BLOCK_TTL_MS = 30 * DAY_MS
"""Unmerged multipart blocks are purged after this long (the service says "roughly monthly")."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, fsize INTEGER NOT NULL, hash TEXT NOT NULL,
    mime TEXT NOT NULL, put_time INTEGER NOT NULL, expires_at INTEGER, file_id TEXT NOT NULL,
    PRIMARY KEY (bucket, key));
CREATE TABLE IF NOT EXISTS blocks (
    id TEXT PRIMARY KEY, batch TEXT, size INTEGER NOT NULL, ord INTEGER NOT NULL,
    received INTEGER NOT NULL, created INTEGER NOT NULL, digests TEXT NOT NULL DEFAULT '',
    file TEXT, base INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, created INTEGER NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS objects_expiring ON objects (expires_at) WHERE expires_at IS NOT NULL;
"""


def now_ms() -> int:
    return int(time.time() * 1000)


def format_expiration(expires_at: Optional[int]) -> str:
    """``expirationDate`` text. [INFERRED] the format is undocumented: UTC ISO 8601, empty when none."""
    if expires_at is None:
        return ""
    return datetime.fromtimestamp(expires_at / 1000.0, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate_key(key: str) -> None:
    """Object key rules of the reference (1.3); raises a 400 ApiError."""
    if not key:
        raise ApiError(400, "key is empty")
    if len(key.encode("utf-8")) > 1000:
        raise ApiError(400, "key is longer than 1000 bytes")
    if key.startswith("/") or key.endswith("/"):
        raise ApiError(400, "key must not start or end with '/'")
    if "/../" in key or "/./" in key or key.startswith(("../", "./")) or key in ("..", "."):
        raise ApiError(400, "key must not contain '/../' or '/./'")


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


def _encode_marker(kind: str, name: str) -> str:
    # Markers travel unescaped in query strings and signatures: only [A-Za-z0-9_=-] is safe.
    return base64.urlsafe_b64encode(("%s:%s" % (kind, name)).encode("utf-8")).decode("ascii")


def _decode_marker(marker: str) -> Tuple[str, str]:
    try:
        text = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)).decode("utf-8")
        kind, name = text.split(":", 1)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Invalid Marker") from None
    if kind not in ("f", "d"):
        raise ApiError(400, "Invalid Marker")
    return kind, name


class Store:
    """All durable state of one emulator instance, rooted at ``data_dir``."""

    def __init__(self, data_dir: str) -> None:
        self.data_dir = os.path.abspath(data_dir)
        self.objects_dir = os.path.join(self.data_dir, "objects")
        self.blocks_dir = os.path.join(self.data_dir, "blocks")
        self.tmp_dir = os.path.join(self.data_dir, "tmp")
        for path in (self.data_dir, self.objects_dir, self.blocks_dir, self.tmp_dir):
            os.makedirs(path, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(os.path.join(self.data_dir, "meta.sqlite3"), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(blocks)")}
        # A data dir of an older emulator: its blocks have files of their own and get re-hashed when needed.
        if "digests" not in columns:
            self._db.execute("ALTER TABLE blocks ADD COLUMN digests TEXT NOT NULL DEFAULT ''")
        if "file" not in columns:
            self._db.execute("ALTER TABLE blocks ADD COLUMN file TEXT")
            self._db.execute("ALTER TABLE blocks ADD COLUMN base INTEGER NOT NULL DEFAULT 0")
        self._db.execute("CREATE INDEX IF NOT EXISTS blocks_file ON blocks (file) WHERE file IS NOT NULL")
        self._db.commit()
        self.secret = self._load_secret()
        self._recover()

    # -- housekeeping -------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _load_secret(self) -> bytes:
        # Persisted so that multipart ctx values stay valid across restarts (resumable uploads).
        row = self._db.execute("SELECT value FROM settings WHERE name='secret'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        value = secrets.token_bytes(32)
        with self._db:
            self._db.execute("INSERT INTO settings VALUES ('secret', ?)", (value.hex(),))
        return value

    def _recover(self) -> None:
        for name in os.listdir(self.tmp_dir):
            _unlink(os.path.join(self.tmp_dir, name))
        known = {row[0] for row in self._db.execute("SELECT file_id FROM objects")}
        for sub in os.listdir(self.objects_dir):
            subdir = os.path.join(self.objects_dir, sub)
            if not os.path.isdir(subdir):
                continue
            for name in os.listdir(subdir):
                if name not in known:
                    _unlink(os.path.join(subdir, name))
        cutoff = now_ms() - BLOCK_TTL_MS
        stale = [row[0] for row in self._db.execute("SELECT id FROM blocks WHERE created < ?", (cutoff,))]
        self.drop_blocks(stale)
        live = {row[0] for row in self._db.execute("SELECT COALESCE(file, id) FROM blocks")}
        for name in os.listdir(self.blocks_dir):
            if name not in live:
                _unlink(os.path.join(self.blocks_dir, name))
        self.purge_expired()

    def new_temp_path(self, suffix: str = ".part") -> str:
        """A fresh path under ``tmp/`` (same filesystem as ``objects/``, so ``os.replace`` is atomic)."""
        return os.path.join(self.tmp_dir, uuid.uuid4().hex + suffix)

    def _object_path(self, file_id: str) -> str:
        # Plain concatenation: a listing builds one path per row and os.path.join costs 3x as much.
        return "%s%s%s%s%s" % (self.objects_dir, os.sep, file_id[:2], os.sep, file_id)

    # -- buckets ------------------------------------------------------------------------------------

    def create_bucket(self, name: str) -> bool:
        """Create bucket ``name``; False when it already existed."""
        with self._lock, self._db:
            cur = self._db.execute("INSERT OR IGNORE INTO buckets VALUES (?, ?)", (name, now_ms()))
            return cur.rowcount == 1

    def bucket_exists(self, name: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM buckets WHERE name=?", (name,)).fetchone() is not None

    def require_bucket(self, name: str, code: int = 404) -> None:
        if not self.bucket_exists(name):
            raise ApiError(code, BUCKET_NOT_FOUND)

    def buckets(self) -> List[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT name FROM buckets ORDER BY name")]

    def bucket_size(self, name: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(fsize), 0) FROM objects WHERE bucket=? AND "
                "(expires_at IS NULL OR expires_at > ?)", (name, now_ms())).fetchone()
            return int(row[0])

    # -- objects ------------------------------------------------------------------------------------

    def _info(self, row: tuple) -> ObjectInfo:
        return ObjectInfo(row[0], row[1], row[2], row[3], row[4], row[5], row[6], self._object_path(row[7]))

    _COLUMNS = "bucket, key, fsize, hash, mime, put_time, expires_at, file_id"

    def _row(self, bucket: str, key: str) -> Optional[tuple]:
        return self._db.execute("SELECT %s FROM objects WHERE bucket=? AND key=?" % self._COLUMNS,
                                (bucket, key)).fetchone()

    def get(self, bucket: str, key: str) -> Optional[ObjectInfo]:
        """The live object at ``bucket``/``key``; an expired one is deleted on sight and reported missing."""
        with self._lock:
            row = self._row(bucket, key)
            if row is None:
                return None
            if row[6] is not None and row[6] <= now_ms():
                self._delete_row(bucket, key, row[7])
                return None
            return self._info(row)

    def require(self, bucket: str, key: str) -> ObjectInfo:
        """Like :meth:`get` but raises the management API's 404 errors."""
        self.require_bucket(bucket)
        info = self.get(bucket, key)
        if info is None:
            raise ApiError(404, FILE_NOT_FOUND)
        return info

    def _delete_row(self, bucket: str, key: str, file_id: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))
        _unlink(self._object_path(file_id))

    def put_file(self, bucket: str, key: str, temp_path: str, fsize: int, etag: str, mime_type: str,
                 expires_at: Optional[int] = None, overwrite: bool = True,
                 put_time: Optional[int] = None) -> ObjectInfo:
        """Move the complete file ``temp_path`` into place as ``bucket``/``key`` and commit its row.

        Raises:
            ApiError: 406 when the key holds a live object and ``overwrite`` is false (``temp_path`` is
                left for the caller to remove).
        """
        file_id = uuid.uuid4().hex
        final = self._object_path(file_id)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        with self._lock:
            now = now_ms()
            old = self._row(bucket, key)
            if old is not None and not overwrite and (old[6] is None or old[6] > now):
                raise ApiError(406, FILE_EXISTS)
            os.replace(temp_path, final)
            try:
                with self._db:
                    self._db.execute(
                        "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (bucket, key, fsize, etag, mime_type, put_time or now, expires_at, file_id))
            except BaseException:
                _unlink(final)
                raise
        if old is not None:
            _unlink(self._object_path(old[7]))
        return ObjectInfo(bucket, key, fsize, etag, mime_type, put_time or now, expires_at, final)

    def exists(self, bucket: str, key: str) -> bool:
        return self.get(bucket, key) is not None

    def delete(self, bucket: str, key: str) -> bool:
        """Delete one object; False when there was none."""
        with self._lock:
            row = self._row(bucket, key)
            if row is None:
                return False
            self._delete_row(bucket, key, row[7])
            return row[6] is None or row[6] > now_ms()

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
             overwrite: bool = True, move: bool = False) -> ObjectInfo:
        """Copy (or move) one object; the destination is replaced unless ``overwrite`` is false (406)."""
        src = self.require(src_bucket, src_key)
        self.require_bucket(dst_bucket)
        if (src_bucket, src_key) == (dst_bucket, dst_key):
            return src
        if move:
            with self._lock:
                src = self.require(src_bucket, src_key)
                old = self._row(dst_bucket, dst_key)
                if old is not None and not overwrite and (old[6] is None or old[6] > now_ms()):
                    raise ApiError(406, FILE_EXISTS)
                with self._db:
                    self._db.execute("DELETE FROM objects WHERE bucket=? AND key=?", (dst_bucket, dst_key))
                    self._db.execute("UPDATE objects SET bucket=?, key=? WHERE bucket=? AND key=?",
                                     (dst_bucket, dst_key, src_bucket, src_key))
            if old is not None:
                _unlink(self._object_path(old[7]))
            return self.require(dst_bucket, dst_key)
        temp = self.new_temp_path()
        try:
            # Stored files are immutable, so a hard link is a safe and free copy.
            os.link(src.path, temp)
        except FileNotFoundError:
            raise ApiError(404, FILE_NOT_FOUND) from None
        except OSError:
            shutil.copyfile(src.path, temp)
        try:
            return self.put_file(dst_bucket, dst_key, temp, src.fsize, src.hash, src.mime_type,
                                 src.expires_at, overwrite=overwrite)
        finally:
            _unlink(temp)

    def set_expiry(self, bucket: str, key: str, expires_at: Optional[int]) -> bool:
        with self._lock:
            if self.get(bucket, key) is None:
                return False
            with self._db:
                self._db.execute("UPDATE objects SET expires_at=? WHERE bucket=? AND key=?",
                                 (expires_at, bucket, key))
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

    def _under(self, bucket: str, prefix: str, after: Optional[str] = None, page: int = 1000
               ) -> Iterator[ObjectInfo]:
        """Live objects whose key starts with ``prefix`` (and sorts after ``after``), in key order.

        Read ``page`` rows at a time so the lock is never held while the caller works and memory stays
        flat; a caller that needs exactly N rows asks for pages of N.
        """
        while True:
            sql = ("SELECT %s FROM objects WHERE bucket=? AND (expires_at IS NULL OR expires_at > ?)"
                   % self._COLUMNS)
            args: list = [bucket, now_ms()]
            if prefix:
                sql += " AND key >= ? AND substr(key, 1, ?) = ?"
                args += [prefix, len(prefix), prefix]
            if after is not None:
                sql += " AND key > ?"
                args.append(after)
            sql += " ORDER BY key LIMIT %d" % page
            with self._lock:
                rows = self._db.execute(sql, args).fetchall()
            for row in rows:
                yield self._info(row)
            if len(rows) < page:
                return
            after = rows[-1][1]

    def keys_under(self, bucket: str, prefix: str) -> List[ObjectInfo]:
        """Snapshot of the live objects whose key starts with ``prefix``, in key order."""
        return list(self._under(bucket, prefix))

    def list_objects(self, bucket: str, prefix: str = "", marker: str = "", limit: int = 1000,
                     mode: Optional[int] = None, start_time: Optional[int] = None,
                     end_time: Optional[int] = None) -> Tuple[List[ObjectInfo], List[str], str]:
        """One page of ``/list``: ``(items, commonPrefixes, next_marker)``.

        Without ``mode`` it is a flat prefix listing in key order. With ``mode`` 0 (files first) or 1
        (directories first) ``prefix`` names a directory and its sub-directories come back as common
        prefixes; the limit counts both kinds of entry. ``start_time``/``end_time`` (ms, inclusive)
        filter files by upload time.
        """

        def in_time(info: ObjectInfo) -> bool:
            return ((start_time is None or info.put_time >= start_time)
                    and (end_time is None or info.put_time <= end_time))

        self.purge_expired()
        if mode is None:
            after = None
            if marker:
                kind, after = _decode_marker(marker)
            items = []
            more = False
            # limit + 1 rows: the extra one says whether there is a next page, in the same query.
            for info in self._under(bucket, prefix, after, page=limit + 1):
                if not in_time(info):
                    continue
                if len(items) == limit:
                    more = True
                    break
                items.append(info)
            return items, [], _encode_marker("f", items[-1].key) if more and items else ""

        directory = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        files: List[ObjectInfo] = []
        dirs = set()
        for info in self._under(bucket, directory):
            rest = info.key[len(directory):]
            if "/" in rest:
                dirs.add(directory + rest.split("/", 1)[0] + "/")
            elif in_time(info):
                files.append(info)
        groups = [("f", files), ("d", sorted(dirs))] if mode == 0 else [("d", sorted(dirs)), ("f", files)]
        order = {kind: index for index, (kind, _) in enumerate(groups)}
        entries = [(kind, entry) for kind, group in groups for entry in group]

        def sort_key(kind: str, name: str) -> tuple:
            return (order[kind], name)

        if marker:
            mkind, mname = _decode_marker(marker)
            last = sort_key(mkind, mname)
            entries = [(kind, entry) for kind, entry in entries
                       if sort_key(kind, entry.key if kind == "f" else entry) > last]
        page, more = entries[:limit], len(entries) > limit
        items = [entry for kind, entry in page if kind == "f"]
        common = [entry for kind, entry in page if kind == "d"]
        next_marker = ""
        if more and page:
            kind, entry = page[-1]
            next_marker = _encode_marker(kind, entry.key if kind == "f" else entry)
        return items, common, next_marker

    # -- multipart blocks ---------------------------------------------------------------------------

    _BLOCK_COLUMNS = "id, batch, size, ord, received, digests, file, base"
    MAX_IN_PLACE_END = 1 << 40
    """Blocks are placed in a batch file only below this offset (a huge block order stays sane)."""

    def _block(self, row: tuple) -> Block:
        block_id, batch, size, order, received, digests, file, base = row
        return Block(block_id, batch, size, order, received, os.path.join(self.blocks_dir, file or block_id),
                     digests, base, file is not None)

    def new_block(self, batch: Optional[str], size: int, order: int) -> Block:
        """A new, empty block: at its place in the batch file when it can be, else in a file of its own."""
        block_id = uuid.uuid4().hex
        file, base = None, 0
        with self._lock, self._db:
            start = order * size
            if batch and size % BLOCK_SIZE == 0 and start + size <= self.MAX_IN_PLACE_END:
                name = "u-" + hashlib.sha1(batch.encode("utf-8", "surrogateescape")).hexdigest()
                taken = self._db.execute("SELECT 1 FROM blocks WHERE file=? AND base < ? AND base + size > ? "
                                         "LIMIT 1", (name, start + size, start)).fetchone()
                if taken is None:
                    file, base = name, start
            path = os.path.join(self.blocks_dir, file or block_id)
            # Created under the lock: mkfile renames a batch file away under the same lock.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | (0 if file else os.O_TRUNC), 0o644)
            os.close(fd)
            self._db.execute("INSERT INTO blocks VALUES (?, ?, ?, ?, 0, ?, '', ?, ?)",
                             (block_id, batch, size, order, now_ms(), file, base))
        return Block(block_id, batch, size, order, 0, path, "", base, file is not None)

    def get_block(self, block_id: str) -> Optional[Block]:
        with self._lock:
            row = self._db.execute("SELECT %s FROM blocks WHERE id=?" % self._BLOCK_COLUMNS,
                                   (block_id,)).fetchone()
        return None if row is None else self._block(row)

    def set_block_received(self, block_id: str, received: int, digests: str = "") -> None:
        """Record how many bytes of the block are stored, and the hex SHA-1 of its complete pieces."""
        with self._lock, self._db:
            self._db.execute("UPDATE blocks SET received=?, digests=? WHERE id=?", (received, digests, block_id))

    def drop_blocks(self, block_ids: List[str]) -> None:
        """Forget blocks; a file goes with the last block that lives in it."""
        with self._lock:
            files = set()
            for block_id in block_ids:
                row = self._db.execute("SELECT COALESCE(file, id) FROM blocks WHERE id=?", (block_id,)).fetchone()
                if row is not None:
                    files.add(row[0])
            with self._db:
                self._db.executemany("DELETE FROM blocks WHERE id=?", [(b,) for b in block_ids])
            for name in files:
                if self._db.execute("SELECT 1 FROM blocks WHERE id=? OR file=? LIMIT 1",
                                    (name, name)).fetchone() is None:
                    _unlink(os.path.join(self.blocks_dir, name))

    def merge_blocks(self, blocks: List[Block], bucket: str, key: str, fsize: int, mime_type: str,
                     expires_at: Optional[int] = None, overwrite: bool = True) -> ObjectInfo:
        """Store the blocks, joined in this order, as ``bucket``/``key`` and forget them (``mkfile``).

        The etag comes from the piece digests kept with the blocks when they give it. When the first
        blocks are the only content of their batch file, at their places from offset 0, that file
        becomes the object (the rest is appended to it); otherwise the blocks are copied into a new file.

        Raises:
            ApiError: 701 when a block is unknown or already merged, 412 when its data is short, 406
                as :meth:`put_file`.
        """
        etag = stored_etag(blocks)
        with self._lock:
            if etag is not None:
                info = self._merge_in_place(blocks, bucket, key, fsize, etag, mime_type, expires_at, overwrite)
                if info is not None:
                    return info
        temp = self.new_temp_path()
        try:
            etag = assemble(blocks, temp, 0, etag)
            info = self.put_file(bucket, key, temp, fsize, etag, mime_type, expires_at, overwrite=overwrite)
        finally:
            _unlink(temp)
        self.drop_blocks([block.id for block in blocks])
        return info

    def _merge_in_place(self, blocks: List[Block], bucket: str, key: str, fsize: int, etag: str, mime_type: str,
                        expires_at: Optional[int], overwrite: bool) -> Optional[ObjectInfo]:
        # Called with the lock held: no block can be added to the batch file or merged meanwhile.
        first = blocks[0]
        if not first.shared:
            return None
        placed = 0
        end = 0
        for block in blocks:
            if not block.shared or block.path != first.path or block.base != end:
                break
            placed += 1
            end += block.size
        if not placed:
            return None
        ids = [block.id for block in blocks[:placed]]
        name = os.path.basename(first.path)
        live = [row[0] for row in self._db.execute("SELECT id FROM blocks WHERE file=?", (name,))]
        if sorted(live) != sorted(ids):
            return None  # the file holds other blocks (or these were merged meanwhile): copy instead
        assemble(blocks[placed:], first.path, end, etag)
        os.truncate(first.path, fsize)
        info = self.put_file(bucket, key, first.path, fsize, etag, mime_type, expires_at, overwrite=overwrite)
        self.drop_blocks([block.id for block in blocks])
        return info

    # -- async jobs ---------------------------------------------------------------------------------

    def save_job(self, job_id: str, kind: str, status_json: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?)",
                             (job_id, kind, now_ms(), status_json))

    def load_job(self, job_id: str) -> Optional[Tuple[str, str]]:
        """``(kind, status_json)`` of a job, or None."""
        with self._lock:
            row = self._db.execute("SELECT kind, status FROM jobs WHERE id=?", (job_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def all_jobs(self) -> Dict[str, Tuple[str, str]]:
        with self._lock:
            return {row[0]: (row[1], row[2]) for row in self._db.execute("SELECT id, kind, status FROM jobs")}


def stored_etag(blocks: List[Block]) -> Optional[str]:
    """The etag of the blocks joined in this order, from the piece digests kept while they arrived;
    None when they do not give it (a block before the last is not made of whole 4 MiB pieces, so the
    pieces of the file straddle blocks, or a block lacks digests)."""
    digests: List[bytes] = []
    for i, block in enumerate(blocks):
        if i + 1 < len(blocks) and block.size % BLOCK_SIZE:
            return None
        pieces = -(-block.size // BLOCK_SIZE)
        if len(block.digests) != pieces * 40:
            return None
        digests.extend(bytes.fromhex(block.digests[j * 40:j * 40 + 40]) for j in range(pieces))
    return etag_from_block_digests(digests) if digests else None


_COPY_BUFFER = 1024 * 1024


def assemble(blocks: List[Block], target: str, offset: int = 0, etag: Optional[str] = None) -> str:
    """Write the blocks one after the other into ``target`` from ``offset``; returns the etag of
    ``target`` when it is ``etag`` (known from the digests) or the blocks from offset 0.

    With a known etag the bytes are copied by the kernel (``os.copy_file_range``) where it can;
    otherwise they are read, and hashed on the way.

    Raises:
        ApiError: 701 when a block file is gone (merged meanwhile), 412 when it is short.
    """
    hasher = None if etag is not None else EtagHasher()
    buffer: Optional[memoryview] = None
    with open(target, "r+b" if offset else "wb", buffering=0) as out:
        out.seek(offset)
        for block in blocks:
            try:
                src = open(block.path, "rb", buffering=0)
            except FileNotFoundError:
                raise ApiError(701, "ctx invalid: block already merged") from None
            with src:
                src.seek(block.base)
                left = block.size
                if hasher is None:
                    left -= _kernel_copy(src, out, left)
                while left:
                    if buffer is None:
                        buffer = memoryview(bytearray(_COPY_BUFFER))
                    count = src.readinto(buffer[:min(len(buffer), left)])
                    if not count:
                        raise ApiError(412, "block %d data is short" % block.order)
                    data = buffer[:count]
                    if hasher is not None:
                        hasher.update(data)
                    while len(data):
                        data = data[out.write(data):]
                    left -= count
    return etag if hasher is None else hasher.etag()  # type: ignore[return-value]


def _kernel_copy(src: object, out: object, length: int) -> int:
    """Copy up to ``length`` bytes from ``src``'s position to ``out``'s in the kernel; returns how many
    were copied (0 when the platform or file system cannot: the caller copies the rest itself)."""
    copy = getattr(os, "copy_file_range", None)  # Linux, Python 3.8+
    done = 0
    if copy is None:
        return 0
    try:
        while done < length:
            count = copy(src.fileno(), out.fileno(), length - done)  # type: ignore[attr-defined]
            if not count:
                break
            done += count
    except OSError:
        pass  # e.g. ENOSYS or EXDEV: both file positions stand after what was copied
    return done


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
