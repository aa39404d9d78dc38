"""The mirror origin of each bucket (``/prefetch`` pulls keys from it), kept in the data dir.

An origin is a loopback ``http(s)://`` URL (the emulator sends no packet off the machine); a key ``k``
is fetched from ``<origin>/<k>``. Origins are read from the database at every ``/prefetch``, so
:func:`set_mirror` called by another process (``wcs-emulator mirror``) on a data dir that an emulator
serves takes effect at its next request. An origin outlives restarts, like the bucket it belongs to.
"""

import os
import sqlite3
from typing import Any, ContextManager, Dict, Optional

from wcs.emulator import outbound
from wcs.emulator.state.schema import open_database

DATABASE = "meta.sqlite3"
BUSY_TIMEOUT_MS = 30000
"""How long a change from another process waits for the write lock while an emulator commits."""


def check_origin(origin: str) -> str:
    """``origin`` without a trailing ``/``; ValueError unless it is a loopback http(s) URL."""
    try:
        outbound.loopback_target(origin)
    except outbound.OutboundError as exc:
        raise ValueError("mirror origin %s" % exc) from None
    if "?" in origin or "#" in origin:
        raise ValueError("mirror origin %r: no query or fragment (keys are appended to it)" % origin)
    return origin.rstrip("/")


class Mirrors:
    """The ``mirrors`` table of one open store (its connection and lock)."""

    def __init__(self, db: sqlite3.Connection, lock: ContextManager[Any]) -> None:
        self._db = db
        self._lock = lock

    def get(self, bucket: str) -> Optional[str]:
        with self._lock:
            row = self._db.execute("SELECT origin FROM mirrors WHERE bucket=?", (bucket,)).fetchone()
        return row[0] if row else None

    def forget_orphans(self) -> None:
        """Drop origins of buckets that were removed (at start)."""
        with self._lock, self._db as conn:
            conn.execute("DELETE FROM mirrors WHERE bucket NOT IN (SELECT name FROM buckets)")


def set_mirror(data_dir: str, bucket: str, origin: Optional[str]) -> None:
    """Bind ``bucket`` of the data dir to mirror ``origin`` (None unbinds it); the data dir may be served
    by a running emulator meanwhile.

    Raises:
        ValueError: ``origin`` is not a loopback http(s) URL.
        LookupError: the data dir has no bucket ``bucket``.
    """
    origin = None if origin is None else check_origin(origin)
    conn = _connect(data_dir)
    try:
        with conn:
            if conn.execute("SELECT 1 FROM buckets WHERE name=?", (bucket,)).fetchone() is None:
                raise LookupError("no bucket %s in %s" % (bucket, data_dir))
            if origin is None:
                conn.execute("DELETE FROM mirrors WHERE bucket=?", (bucket,))
            else:
                conn.execute("INSERT OR REPLACE INTO mirrors VALUES (?, ?)", (bucket, origin))
    finally:
        conn.close()


def list_mirrors(data_dir: str) -> Dict[str, str]:
    """Bucket -> mirror origin, for every bucket that has one."""
    conn = _connect(data_dir)
    try:
        return dict(conn.execute("SELECT bucket, origin FROM mirrors ORDER BY bucket").fetchall())
    finally:
        conn.close()


def _connect(data_dir: str) -> sqlite3.Connection:
    path = os.path.join(data_dir, DATABASE)
    if not os.path.isfile(path):
        raise LookupError("%s holds no emulator data (no %s)" % (data_dir, DATABASE))
    conn = open_database(path)
    conn.execute("PRAGMA busy_timeout=%d" % BUSY_TIMEOUT_MS)
    return conn
