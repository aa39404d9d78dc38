"""The migration journal: what each source object became in WCS, so that a re-run does only what is left.

One sqlite file (default ``migrations.sqlite`` beside the etag cache, :func:`default_journal_path`)
holds any number of migrations, each named by its source and destination (:func:`migration_name`).
A row per source object: the version it had (size, ETag, modification time), what happened
(``submitted`` to a fetch job, ``done``, ``failed``), the fetch job and its place in it, the key
stored and the hash the service answered, when, and the last error.

Order of writes, so that ``kill -9`` at any moment loses nothing and repeats nothing confirmed:
the rows of a batch are marked ``submitted`` with the job's id (committed) right after the service
accepted the job and before anything waits on it; an object is ``done`` only once the job's status
said so and its size was checked. A re-run first follows the jobs its rows name (the service keeps
their status) instead of fetching those objects again; a job submitted but killed before its id was
written is invisible, and its objects are fetched once more (replacing the same content). Every
write is committed at once, with ``synchronous=FULL``: the journal is the only record of what was
confirmed.
"""

import os
import sqlite3
import threading
import time
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from wcs.commons.errors import LocalFileError

SUBMITTED = "submitted"
DONE = "done"
FAILED = "failed"

_SCHEMA = """CREATE TABLE IF NOT EXISTS objects (
    migration TEXT NOT NULL, rel TEXT NOT NULL,
    size INTEGER NOT NULL, etag TEXT, mtime TEXT,
    state TEXT NOT NULL, job TEXT, job_index INTEGER,
    key TEXT, hash TEXT, stored_at INTEGER, error TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (migration, rel))"""
_JOB_INDEX = "CREATE INDEX IF NOT EXISTS objects_job ON objects (migration, job) WHERE job IS NOT NULL"

Version = Tuple[int, Optional[str], Optional[str]]


class Entry(NamedTuple):
    """A journal row: the source version it is about and what became of it."""

    rel: str
    version: Version
    state: str
    job: Optional[str]
    job_index: Optional[int]
    key: Optional[str]
    hash: Optional[str]
    stored_at: Optional[int]
    error: Optional[str]
    attempts: int


def default_journal_path(environ: Optional[Mapping[str, str]] = None) -> str:
    """``migrations.sqlite`` in the folder of the etag cache (``~/.cache/wcs/``, ``$XDG_CACHE_HOME/wcs/``)."""
    from wcs.services.tree.hashcache import default_cache_path

    return os.path.join(os.path.dirname(default_cache_path(environ)), "migrations.sqlite")


def migration_name(source: str, destination: str) -> str:
    """The journal's name of a migration: ``<source URL> -> wcs://bucket/prefix/``."""
    return "%s -> %s" % (source, destination)


class Journal:
    """The rows of one migration in a journal file (None: in memory, for this run only); thread-safe.

    Raises:
        LocalFileError: the file cannot be opened or created (a migration does not run without it).
    """

    def __init__(self, path: Optional[str], migration: str, clock: Any = time.time) -> None:
        self.path = path
        self.migration = migration
        self.clock = clock
        self._lock = threading.Lock()
        try:
            if path:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            db = sqlite3.connect(path or ":memory:", timeout=30, check_same_thread=False, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute(_SCHEMA)
                db.execute(_JOB_INDEX)
            except BaseException:
                db.close()
                raise
        except (OSError, sqlite3.Error) as exc:
            raise LocalFileError("cannot open the migration journal %s: %s" % (path, exc)) from None
        self._db = db

    def _rows(self, sql: str, args: Iterable[Any]) -> List[Tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def _write(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, [tuple(row) for row in rows])
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    @staticmethod
    def _entry(row: Tuple[Any, ...]) -> Entry:
        return Entry(row[0], (row[1], row[2], row[3]), row[4], row[5], row[6], row[7], row[8], row[9], row[10],
                     row[11])

    _COLUMNS = "rel, size, etag, mtime, state, job, job_index, key, hash, stored_at, error, attempts"

    def get(self, rel: str) -> Optional[Entry]:
        rows = self._rows("SELECT %s FROM objects WHERE migration = ? AND rel = ?" % self._COLUMNS,
                          (self.migration, rel))
        return self._entry(rows[0]) if rows else None

    def submitted(self, job: str, items: Iterable[Tuple[str, Version, str]]) -> None:
        """``(rel, version, key)`` of each op of ``job``, in the job's order: submitted (committed now)."""
        self._write("INSERT INTO objects (migration, rel, size, etag, mtime, state, job, job_index, key, attempts) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (migration, rel) DO UPDATE SET "
                    "size = excluded.size, etag = excluded.etag, mtime = excluded.mtime, state = excluded.state, "
                    "job = excluded.job, job_index = excluded.job_index, key = excluded.key, error = NULL, "
                    "attempts = objects.attempts + 1",
                    [(self.migration, rel, version[0], version[1], version[2], SUBMITTED, job, index, key)
                     for index, (rel, version, key) in enumerate(items)])

    _DONE = ("INSERT INTO objects (migration, rel, size, etag, mtime, state, key, hash, stored_at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (migration, rel) DO UPDATE SET "
             "size = excluded.size, etag = excluded.etag, mtime = excluded.mtime, state = excluded.state, "
             "job = NULL, job_index = NULL, key = excluded.key, hash = excluded.hash, "
             "stored_at = excluded.stored_at, error = NULL")
    _FAILED = ("INSERT INTO objects (migration, rel, size, etag, mtime, state, error) VALUES "
               "(?, ?, ?, ?, ?, ?, ?) ON CONFLICT (migration, rel) DO UPDATE SET state = excluded.state, "
               "job = NULL, job_index = NULL, error = excluded.error")

    def done(self, rel: str, version: Version, key: str, hash: str) -> None:
        """The object is stored as ``key`` with ``hash`` (checked): done."""
        self.settle([(rel, version, key, hash)], [])

    def failed(self, rel: str, version: Version, error: str) -> None:
        self.settle([], [(rel, version, error)])

    def settle(self, done: Iterable[Tuple[str, Version, str, str]], failed: Iterable[Tuple[str, Version, str]]) -> None:
        """Outcomes of a job in one transaction (one sync to disk for the whole batch):
        ``(rel, version, key, hash)`` stored, ``(rel, version, error)`` failed."""
        now = int(self.clock())
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(self._DONE, [(self.migration, rel, v[0], v[1], v[2], DONE, key, hash, now)
                                                  for rel, v, key, hash in done])
                self._db.executemany(self._FAILED, [(self.migration, rel, v[0], v[1], v[2], FAILED, error)
                                                    for rel, v, error in failed])
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def forget(self, rels: Iterable[str]) -> None:
        """Drop the rows of objects deleted from WCS."""
        self._write("DELETE FROM objects WHERE migration = ? AND rel = ?", [(self.migration, rel) for rel in rels])

    def in_flight(self) -> Dict[str, List[Entry]]:
        """The rows still ``submitted``, by job id, each job's rows in its order."""
        jobs: Dict[str, List[Entry]] = {}
        for row in self._rows("SELECT %s FROM objects WHERE migration = ? AND state = ? ORDER BY job, job_index"
                              % self._COLUMNS, (self.migration, SUBMITTED)):
            entry = self._entry(row)
            jobs.setdefault(entry.job or "", []).append(entry)
        return jobs

    def counts(self) -> Dict[str, int]:
        """Rows by state."""
        return {state: count for state, count in self._rows(
            "SELECT state, COUNT(*) FROM objects WHERE migration = ? GROUP BY state", (self.migration,))}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
