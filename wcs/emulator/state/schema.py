"""The metadata database of a data dir: tables, the migrations of older data dirs, the ctx secret.

One sqlite connection serialised by one re-entrant lock (held by the store) is plenty for an emulator
and sidesteps ``SQLITE_BUSY`` between threads; the WAL journal keeps a crash from corrupting it.
"""

import secrets
import sqlite3

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
    file TEXT, base INTEGER NOT NULL DEFAULT 0, scope TEXT);
CREATE TABLE IF NOT EXISTS moves (file_id TEXT PRIMARY KEY, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, created INTEGER NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS objects_expiring ON objects (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS object_ext (
    file_id TEXT PRIMARY KEY, appendable INTEGER NOT NULL DEFAULT 0, digests TEXT NOT NULL DEFAULT '',
    class TEXT NOT NULL DEFAULT 'Standard', restore_ready INTEGER, restore_until INTEGER);
CREATE TABLE IF NOT EXISTS mirrors (bucket TEXT PRIMARY KEY, origin TEXT NOT NULL);
"""
# object_ext: what an object version is beyond its objects row (appendable, storage class, restore),
# keyed by the version's file_id: a new upload (new file_id) is a normal Standard object again, a move
# (same file_id) keeps it, and a row of a version that is gone matters to nobody. A data dir made
# before these tables existed gets them empty: every object in it is a normal Standard one.


def open_database(path: str) -> sqlite3.Connection:
    """The metadata database at ``path``, created or brought up to date. Callers serialise their use
    of it with one lock (``check_same_thread`` is off)."""
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_SCHEMA)
    _migrate(conn)
    conn.commit()
    return conn


def load_secret(conn: sqlite3.Connection) -> bytes:
    """The key of ctx HMACs, made once per data dir so that ctx values stay valid across restarts
    (resumable uploads)."""
    row = conn.execute("SELECT value FROM settings WHERE name='secret'").fetchone()
    if row:
        return bytes.fromhex(row[0])
    value = secrets.token_bytes(32)
    with conn:
        conn.execute("INSERT INTO settings VALUES ('secret', ?)", (value.hex(),))
    return value


def _migrate(conn: sqlite3.Connection) -> None:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(blocks)")}
    # A data dir of an older emulator: its blocks have files of their own and get re-hashed when needed.
    if "digests" not in columns:
        conn.execute("ALTER TABLE blocks ADD COLUMN digests TEXT NOT NULL DEFAULT ''")
    if "file" not in columns:
        conn.execute("ALTER TABLE blocks ADD COLUMN file TEXT")
        conn.execute("ALTER TABLE blocks ADD COLUMN base INTEGER NOT NULL DEFAULT 0")
    if "scope" not in columns:  # blocks of an older emulator are bound to no upload token
        conn.execute("ALTER TABLE blocks ADD COLUMN scope TEXT")
    conn.execute("CREATE INDEX IF NOT EXISTS blocks_file ON blocks (file) WHERE file IS NOT NULL")
