"""The object store of one data dir: its folders and database, the parts that share them, buckets and
job rows, and its recovery at start.

The objects themselves (rows, files, the rules that keep them consistent) are
:class:`~wcs.emulator.state.objects.Objects`, which :class:`Store` is. At start the store removes
spools, object files that no row points to (a crash between rename and commit), blocks older than
:data:`~wcs.emulator.state.model.BLOCK_TTL_MS` and blocks whose data is gone, and moves back an
upload's batch file that ``mkfile`` had moved into ``objects/`` without committing: after any crash
either the object or its blocks are there, never neither.
"""

import os
import threading
from typing import Any, ContextManager, Dict, List, Optional, Tuple

from wcs.commons.fsutil import discard
from wcs.emulator.state.appendable import AppendStore
from wcs.emulator.state.blocks import BlockStore
from wcs.emulator.state.extras import ObjectExtras
from wcs.emulator.state.mirrors import Mirrors
from wcs.emulator.state.model import BLOCK_TTL_MS, now_ms
from wcs.emulator.state.objects import Objects
from wcs.emulator.state.schema import load_secret, open_database
from wcs.emulator.state.usage import Usage


class Store(Objects):
    """All durable state of one emulator instance, rooted at ``data_dir``: its objects (the methods of
    :class:`~wcs.emulator.state.objects.Objects`), multipart blocks :attr:`blocks`, what objects are beyond
    their row (appendable, storage class, restore) :attr:`extras`, appends :attr:`appends`, mirror origins
    :attr:`mirrors`, per-day figures :attr:`usage`."""

    def __init__(self, data_dir: str) -> None:
        self.data_dir = os.path.abspath(data_dir)
        folders = [os.path.join(self.data_dir, name) for name in ("objects", "tmp", "blocks")]
        for path in [self.data_dir] + folders:
            os.makedirs(path, exist_ok=True)
        super().__init__(open_database(os.path.join(self.data_dir, "meta.sqlite3")), threading.RLock(), *folders)
        self.blocks = BlockStore(self._db, self._lock, self.blocks_dir, self)
        self.extras = ObjectExtras(self._db, self._lock)
        self.appends = AppendStore(self._db, self._lock, self, self.extras)
        self.mirrors = Mirrors(self._db, self._lock)
        self.usage = Usage(self._db, self._lock)
        self.secret = load_secret(self._db)
        self._recover()
        self.extras.forget_orphans()
        self.mirrors.forget_orphans()
        self.appends.recover()

    @property
    def lock(self) -> ContextManager[Any]:
        """The re-entrant lock every change commits under: hold it to look an object up and change it
        in one step."""
        return self._lock

    # -- housekeeping -------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _recover(self) -> None:
        for name in os.listdir(self.tmp_dir):
            discard(os.path.join(self.tmp_dir, name))
        known = {row[0] for row in self._db.execute("SELECT file_id FROM objects")}
        for file_id, source in self._db.execute("SELECT file_id, source FROM moves").fetchall():
            if file_id in known:  # committed after all
                with self._db as conn:
                    conn.execute("DELETE FROM moves WHERE file_id=?", (file_id,))
            else:  # a crash between the rename and the commit: the blocks get their file back
                self._undo_move(file_id, source)
        for sub in os.listdir(self.objects_dir):
            subdir = os.path.join(self.objects_dir, sub)
            if not os.path.isdir(subdir):
                continue
            for name in os.listdir(subdir):
                if name not in known:
                    discard(os.path.join(subdir, name))
        self.blocks.recover(now_ms() - BLOCK_TTL_MS)
        self.purge_expired()

    # -- buckets ------------------------------------------------------------------------------------

    def create_bucket(self, name: str) -> bool:
        """Create bucket ``name``; False when it already existed."""
        with self._lock, self._db as conn:
            cur = conn.execute("INSERT OR IGNORE INTO buckets VALUES (?, ?)", (name, now_ms()))
            return cur.rowcount == 1

    def buckets(self) -> List[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT name FROM buckets ORDER BY name")]

    def bucket_size(self, name: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(fsize), 0) FROM objects WHERE bucket=? AND "
                "(expires_at IS NULL OR expires_at > ?)", (name, now_ms())).fetchone()
            return int(row[0])

    # -- job rows -----------------------------------------------------------------------------------

    def save_job(self, job_id: str, kind: str, status_json: str) -> None:
        with self._lock, self._db as conn:
            conn.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?)", (job_id, kind, now_ms(), status_json))

    def load_job(self, job_id: str) -> Optional[Tuple[str, str]]:
        """``(kind, status_json)`` of a job, or None."""
        with self._lock:
            row = self._db.execute("SELECT kind, status FROM jobs WHERE id=?", (job_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def all_jobs(self) -> Dict[str, Tuple[str, str]]:
        with self._lock:
            return {row[0]: (row[1], row[2]) for row in self._db.execute("SELECT id, kind, status FROM jobs")}
