"""Local etags remembered between runs, so that comparing an unchanged tree reads no file content.

Deciding by content needs the etag of every local file whose size equals the remote one. Reading
every file at every run would make a no-op sync as slow as a full upload, so the etag is kept in a
small sqlite database (default ``~/.cache/wcs/etags.sqlite``, under ``$XDG_CACHE_HOME`` when set),
one row per file, keyed by its device and inode and valid only while its size, ``mtime_ns`` and
``ctime_ns`` are those recorded (:attr:`~.localtree.LocalFile.identity`). Any write to the file
changes ``ctime``, even when ``mtime`` is set back afterwards, so a stale etag is never used.

**Racily clean entries** (git's rule, ``Documentation/technical/racy-git.txt``). Times have a
granularity: whole seconds on some file systems (two on FAT), the kernel's clock tick on the
others. A write made in the same tick as the file's last change, after its etag was computed,
leaves size, ``mtime`` and ``ctime`` as they were. So an etag is stored only when its content was
known (the hashing or upload began, the download ended) at least one granule after the file's
times (:func:`is_racy`): 2 s when both times are whole seconds, :data:`FINE_WINDOW_NS` otherwise.
A racy file is simply hashed again at the next run (files written just before a sync, and small
downloads, whose last write and rename fall in one tick).

Known limit: a program that writes a file through ``mmap`` changes its times only when it first
dirties a page that was clean; more writes to that page, even seconds later, change neither time
until the page is written back. If the etag is computed between those writes and more than the
window after the first one, the change is not seen (``size_only`` has the same blind spot; a run
without a cache, ``hash_cache=None``, sees it).

Etags also enter the cache when they are learned for free: after an upload (the service confirmed
the hash of the bytes sent) and after a download (verified before the rename).

The cache is an optimisation and never a reason to fail: a database that cannot be opened or
written (read-only home, a locked or corrupt file) is replaced by an in-memory one, with one
warning. Rows of files not seen for :data:`KEEP_DAYS` days are pruned when the cache is opened.
"""

import functools
import logging
import os
import sqlite3
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from wcs.commons.errors import Cancelled, LocalFileError
from wcs.commons.fsutil import open_regular
from wcs.commons.util import EtagHasher
from wcs.services.tree.localtree import LocalFile

log = logging.getLogger(__name__)

READ_SIZE = 1024 * 1024
WHOLE_SECOND_WINDOW_NS = 2 * 10 ** 9  # 1 s times (ext3, HFS+, small ext4 inodes) and FAT's 2 s
FINE_WINDOW_NS = 20 * 10 ** 6  # finer times come from the kernel's coarse clock (ticks of 1-10 ms)

KEEP_DAYS = 180
_COMMIT_EVERY = 256
_BATCH = 500  # files looked up by one query (sqlite allows 999 parameters at least)
_COMMIT_AFTER_S = 1.0
_TOUCH_AFTER_S = 7 * 86400  # refresh a row's "seen" time at most weekly: no writes on a no-op sync
_SCHEMA = """CREATE TABLE IF NOT EXISTS etags (
    ident TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    etag TEXT NOT NULL, seen INTEGER NOT NULL)"""

Row = Tuple[int, int, int, str, int]


def default_cache_path(environ: Optional[Mapping[str, str]] = None) -> str:
    """``$XDG_CACHE_HOME/wcs/etags.sqlite``, else ``~/.cache/wcs/etags.sqlite`` (``%LOCALAPPDATA%`` on Windows)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or (env.get("LOCALAPPDATA") if os.name == "nt" else None)
    if not base:
        home = env.get("HOME") or os.path.expanduser("~")
        base = os.path.join(home, ".cache")
    return os.path.join(base, "wcs", "etags.sqlite")


def is_racy(f: LocalFile, known_at_ns: int) -> bool:
    """Whether a write after ``known_at_ns`` (when the content was known) could leave ``f``'s size and
    times as they are: its ``mtime`` and ``ctime`` fall in one granule that had not ended by then.

    A write sets both times to the current granule, so times further apart than one granule (an
    ``mtime`` set back by ``touch -d``) would change and nothing is racy.
    """
    both_whole = f.mtime_ns % 10 ** 9 == 0 and f.ctime_ns % 10 ** 9 == 0
    window = WHOLE_SECOND_WINDOW_NS if both_whole else FINE_WINDOW_NS
    return abs(f.ctime_ns - f.mtime_ns) < window and known_at_ns < max(f.mtime_ns, f.ctime_ns) + window


@functools.lru_cache(maxsize=8)
def _select(count: int) -> str:
    """The query of :meth:`EtagCache.known` for ``count`` idents (after the refresh time: rows seen before
    it are flagged, not handed over as times)."""
    return "SELECT ident, size, mtime_ns, ctime_ns, etag, seen < ? FROM etags WHERE ident IN (%s)" \
        % ",".join("?" * count)


def _ident(f: LocalFile) -> str:
    # Text, not two integers: inode numbers may exceed sqlite's signed 64 bits.
    return "%d:%d" % (f.dev, f.ino)


class EtagCache:
    """Etags of local files by identity; thread-safe.

    Args:
        path: the sqlite file (its folder is created), or None for a cache of this run only.
        clock: the wall clock in ns (``time.time_ns``), compared with file times (:func:`is_racy`).

    Attributes:
        bytes_read: bytes of file content read to compute etags (0 when everything was cached).
        files_hashed: files whose etag had to be computed.
    """

    def __init__(self, path: Optional[str], clock: Callable[[], int] = time.time_ns) -> None:
        self.path = path
        self.clock = clock
        self.bytes_read = 0
        self.files_hashed = 0
        self._lock = threading.Lock()
        self._memory: Dict[str, Row] = {}  # rows not in the database yet (all of them, without one)
        self._db: Optional[sqlite3.Connection] = None
        self._pending = 0
        self._committed = time.monotonic()
        if path:
            self._open(path)

    def _open(self, path: str) -> None:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            db = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # a lost row only means hashing a file again
                db.execute(_SCHEMA)
                db.execute("DELETE FROM etags WHERE seen < ?", (int(time.time()) - KEEP_DAYS * 86400,))
                db.execute("BEGIN")
            except BaseException:
                db.close()
                raise
        except (OSError, sqlite3.Error) as exc:
            log.warning("etag cache %s unavailable (%s): etags are kept for this run only", path, exc)
            return
        self._db = db

    def _fail(self, exc: Exception) -> None:
        """Fall back to memory after a database error (called with the lock held)."""
        log.warning("etag cache %s failed (%s): etags are kept for this run only", self.path, exc)
        db, self._db = self._db, None
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass

    def get(self, f: LocalFile) -> Optional[str]:
        """The cached etag of ``f`` if its identity is unchanged, else None."""
        ident = _ident(f)
        with self._lock:
            row = self._memory.get(ident)
            if row is None and self._db is not None:
                try:
                    found = self._db.execute("SELECT size, mtime_ns, ctime_ns, etag, seen FROM etags WHERE ident=?",
                                             (ident,)).fetchone()
                except sqlite3.Error as exc:
                    self._fail(exc)
                    found = None
                if found is not None:
                    row = (found[0], found[1], found[2], found[3], found[4])
                    if row[4] < time.time() - _TOUCH_AFTER_S:
                        self._write(ident, row[:4])
            if row is None or (row[0], row[1], row[2]) != (f.size, f.mtime_ns, f.ctime_ns):
                return None
            return row[3]

    def known(self, files: Sequence[LocalFile]) -> List[Optional[str]]:
        """The cached etags of ``files`` (None for each unknown or changed one), from one query per
        :data:`_BATCH` files: what a run of unchanged files costs is one query per batch, not per file."""
        idents = ["%d:%d" % (f.dev, f.ino) for f in files]  # (as _ident: inline, it is once per file)
        rows: Dict[str, Tuple[Any, ...]] = {}  # ident -> (ident, size, mtime_ns, ctime_ns, etag, stale)
        with self._lock:
            missing = idents
            if self._memory:  # rows not written yet (all of them once the database failed)
                for ident in idents:
                    row = self._memory.get(ident)
                    if row is not None:
                        rows[ident] = (ident,) + row[:4] + (False,)
                missing = [ident for ident in idents if ident not in rows]
            if self._db is not None and missing:
                stale: List[Any] = [time.time() - _TOUCH_AFTER_S]
                try:
                    for at in range(0, len(missing), _BATCH):
                        part = missing[at:at + _BATCH]
                        found = self._db.execute(_select(len(part)), stale + part).fetchall()
                        rows.update(zip([row[0] for row in found], found))
                        for row in found:
                            if row[5]:  # seen before the refresh time: seen now
                                self._write(row[0], (row[1], row[2], row[3], row[4]))
                except sqlite3.Error as exc:
                    self._fail(exc)
        get = rows.get
        etags: List[Optional[str]] = []
        for f, ident in zip(files, idents):
            hit = get(ident)
            etags.append(hit[4] if hit is not None and hit[1] == f.size and hit[2] == f.mtime_ns
                         and hit[3] == f.ctime_ns else None)
        return etags

    def put(self, f: LocalFile, etag: str, known_at_ns: Optional[int] = None) -> bool:
        """Remember ``etag`` for ``f`` as identified now, unless it is racy (:func:`is_racy`); whether it was.

        Args:
            known_at_ns: when the content ``etag`` is the hash of was known (before it was read,
                once it was written); default: now.
        """
        if is_racy(f, self.clock() if known_at_ns is None else known_at_ns):
            return False
        with self._lock:
            self._write(_ident(f), (f.size, f.mtime_ns, f.ctime_ns, etag))
        return True

    def _write(self, ident: str, values: Tuple[int, int, int, str]) -> None:
        """Remember a row (called with the lock held). With a database, rows wait in memory (where
        lookups see them) and are written together: every :data:`_COMMIT_EVERY` rows or
        :data:`_COMMIT_AFTER_S` seconds, and at :meth:`close`."""
        self._memory[ident] = values + (int(time.time()),)
        if self._db is None:
            return
        self._pending += 1
        # Short transactions: another run sharing the cache waits for the write lock (busy timeout).
        if self._pending >= _COMMIT_EVERY or time.monotonic() - self._committed > _COMMIT_AFTER_S:
            self._save()

    def _save(self) -> None:
        """Write the rows waiting in memory and commit (lock held); they then leave memory, which stays
        as small as one batch. On a database error they stay, and the cache goes on in memory."""
        db = self._db
        if db is None or not self._memory:
            return
        rows = [(ident,) + row for ident, row in self._memory.items()]
        try:
            db.executemany("INSERT OR REPLACE INTO etags (ident, size, mtime_ns, ctime_ns, etag, seen) "
                           "VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
            db.execute("BEGIN")
        except sqlite3.Error as exc:
            self._fail(exc)
            return
        self._memory.clear()
        self._pending = 0
        self._committed = time.monotonic()

    def etag(self, f: LocalFile, cancel: Optional[threading.Event] = None) -> str:
        """The etag of ``f``: cached, else computed from its content (and cached when the file did not
        change while it was read).

        Raises:
            LocalFileError: the file cannot be read.
            Cancelled: ``cancel`` was set.
        """
        cached = self.get(f)
        if cached is not None:
            return cached
        try:
            fp: Any = open_regular(f.path, buffering=0)  # a FIFO swapped in is refused, not waited on
        except LocalFileError:
            raise
        except OSError as exc:
            raise LocalFileError("cannot read %s: %s" % (f.path, exc.strerror or exc)) from None
        with fp:
            before = LocalFile.from_stat(f.rel, f.path, os.fstat(fp.fileno()))
            cached = self.get(before)
            if cached is not None:
                return cached
            started = self.clock()
            hasher = EtagHasher()
            # At most 1 MiB per file being hashed (many are, in parallel), and no more than the file.
            buf = bytearray(max(1, min(READ_SIZE, before.size)))
            view = memoryview(buf)
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("stopped while hashing %s" % f.path)
                try:
                    count = fp.readinto(view)
                except OSError as exc:
                    raise LocalFileError("cannot read %s: %s" % (f.path, exc.strerror or exc)) from None
                if not count:
                    break
                hasher.update(view[:count])
                with self._lock:
                    self.bytes_read += count
            after = LocalFile.from_stat(f.rel, f.path, os.fstat(fp.fileno()))
        etag = hasher.etag()
        with self._lock:
            self.files_hashed += 1
        if after.identity == before.identity and hasher.size == before.size:
            self.put(before, etag, started)
        return etag

    def close(self) -> None:
        """Write what is pending and close the database."""
        with self._lock:
            self._save()
            db, self._db = self._db, None
            if db is not None:
                try:
                    db.execute("COMMIT")
                except sqlite3.Error as exc:
                    log.warning("etag cache %s: could not save (%s)", self.path, exc)
                finally:
                    db.close()

    def __enter__(self) -> "EtagCache":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
