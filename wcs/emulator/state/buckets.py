"""Buckets of a data dir changed from another process while an emulator may be serving it
(``wcs-emulator bucket add|remove|list``).

The running emulator reads bucket names from the database on every request (no cache), so a change
committed here is served by its next request. Each change is one sqlite transaction taken with
``BEGIN IMMEDIATE`` (the write lock first, waiting up to :data:`BUSY_TIMEOUT` for the server's
transactions), so it never interleaves with the server's commits. The server commits an object only if
its bucket still exists, in the statement that writes the row (:meth:`~.store.Store.put_file`): an
upload that ends while its bucket is removed fails instead of leaving a row in a bucket that is gone.

Removing a bucket that holds objects needs ``force``: the bucket and its object rows go in one
transaction, then their files. A download that opened a file before keeps reading it (an open file
outlives its name); one that comes after finds no object. Multipart blocks of uploads in flight are
left alone (their ``mkfile`` then fails, and unmerged blocks are purged after 30 days), and so is the
rest of the data dir: nothing here runs the start-up recovery of :class:`~.store.Store`, which would
take the spools of the server's uploads in flight for leftovers of a crash.
"""

import os
import sqlite3
from typing import List

from wcs.commons.fsutil import discard
from wcs.emulator.state.model import now_ms
from wcs.emulator.state.schema import open_database

DATABASE = "meta.sqlite3"
BUSY_TIMEOUT = 30.0
"""Seconds to wait for the write lock while a running emulator commits (its transactions are short)."""


class NoData(FileNotFoundError):
    """The folder holds no emulator data (no database): a mistyped ``--data-dir``."""


class NoSuchBucket(LookupError):
    """The bucket to remove does not exist."""


class BucketNotEmpty(Exception):
    """The bucket to remove holds objects and ``force`` was not given."""

    def __init__(self, name: str, count: int) -> None:
        super().__init__("bucket %s holds %d object%s" % (name, count, "" if count == 1 else "s"))
        self.count = count


def object_file(objects_dir: str, file_id: str) -> str:
    """Where the file of object ``file_id`` lives: ``objects/<first two characters>/<id>``."""
    # Plain concatenation: a listing builds one path per row and os.path.join costs 3x as much.
    return "%s%s%s%s%s" % (objects_dir, os.sep, file_id[:2], os.sep, file_id)


def _connect(data_dir: str, create: bool) -> sqlite3.Connection:
    path = os.path.join(data_dir, DATABASE)
    if create:
        os.makedirs(data_dir, exist_ok=True)
    elif not os.path.isfile(path):
        raise NoData("%s holds no emulator data (no %s)" % (data_dir, DATABASE))
    conn = open_database(path)
    conn.execute("PRAGMA busy_timeout=%d" % int(BUSY_TIMEOUT * 1000))
    return conn


def add_bucket(data_dir: str, name: str) -> bool:
    """Create bucket ``name`` in ``data_dir`` (the folder and its database too, if new); False when it
    already existed. The name is not checked here (``validate_bucket_name`` of the server does)."""
    conn = _connect(data_dir, create=True)
    try:
        with conn:
            cur = conn.execute("INSERT OR IGNORE INTO buckets VALUES (?, ?)", (name, now_ms()))
            return cur.rowcount == 1
    finally:
        conn.close()


def list_buckets(data_dir: str) -> List[str]:
    """The bucket names of ``data_dir``, sorted."""
    conn = _connect(data_dir, create=False)
    try:
        return [row[0] for row in conn.execute("SELECT name FROM buckets ORDER BY name")]
    finally:
        conn.close()


def remove_bucket(data_dir: str, name: str, force: bool = False) -> int:
    """Remove bucket ``name`` from ``data_dir``; with ``force``, its objects too. Returns how many objects
    were deleted.

    Raises:
        NoData: ``data_dir`` holds no emulator data.
        NoSuchBucket: there is no such bucket.
        BucketNotEmpty: it holds objects (expired ones not yet purged included) and ``force`` is false;
            nothing was changed.
    """
    conn = _connect(data_dir, create=False)
    try:
        conn.execute("BEGIN IMMEDIATE")  # the write lock before reading: nothing commits in between
        try:
            if conn.execute("SELECT 1 FROM buckets WHERE name=?", (name,)).fetchone() is None:
                raise NoSuchBucket("no bucket %s in %s" % (name, data_dir))
            file_ids = [row[0] for row in conn.execute("SELECT file_id FROM objects WHERE bucket=?", (name,))]
            if file_ids and not force:
                raise BucketNotEmpty(name, len(file_ids))
            conn.execute("DELETE FROM objects WHERE bucket=?", (name,))
            conn.execute("DELETE FROM buckets WHERE name=?", (name,))
            # A bucket added again later must not get this one's mirror origin back (a data dir made
            # before mirrors existed has no such table yet).
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='mirrors'").fetchone():
                conn.execute("DELETE FROM mirrors WHERE bucket=?", (name,))
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    finally:
        conn.close()
    # After the commit: no row points at these files any more (a crash before this line leaves orphans,
    # which the next start of an emulator removes).
    objects_dir = os.path.join(data_dir, "objects")
    for file_id in file_ids:
        discard(object_file(objects_dir, file_id))
    return len(file_ids)
