"""What an object version is beyond its ``objects`` row: appendable or not (with the SHA-1 of each 4 MiB
piece, so an append re-hashes only the last piece), its storage class, and the restore of an Archive
object.

Rows live in the ``object_ext`` table, keyed by the version's ``file_id`` (see
:mod:`~wcs.emulator.state.schema`): an object without a row is a normal Standard object, which is what
every object of an older data dir is. Rows of versions that are gone are removed at start.
"""

import os
import sqlite3
from typing import Any, ContextManager, Dict, Iterable, NamedTuple, Optional

from wcs.emulator.state.model import ObjectInfo

STANDARD, IA, ARCHIVE = "Standard", "IA", "Archive"
CLASSES = (STANDARD, IA, ARCHIVE)
"""The storage classes, as the ``converttype`` path names them (reference 6.11)."""


class Extra(NamedTuple):
    appendable: bool = False
    digests: str = ""
    """Hex SHA-1 of each 4 MiB piece of an appendable object, the partial last piece included."""
    storage_class: str = STANDARD
    restore_ready: Optional[int] = None
    """When the restore asked for last is (or was) done, epoch ms; None: never restored."""
    restore_until: Optional[int] = None
    """Until when that restore keeps the object readable, epoch ms."""

    def restore_state(self, now: int) -> str:
        """``none``, ``restoring`` or ``restored`` (Archive objects; the others are always readable)."""
        if self.restore_ready is None or self.restore_until is None or now >= self.restore_until:
            return "none"
        return "restoring" if now < self.restore_ready else "restored"

    def readable(self, now: int) -> bool:
        """False for an Archive object that is not restored (its content cannot be read)."""
        return self.storage_class != ARCHIVE or self.restore_state(now) == "restored"


NORMAL = Extra()

_COLUMNS = "appendable, digests, class, restore_ready, restore_until"


def file_id_of(info: ObjectInfo) -> str:
    """The id of the stored version ``info`` describes (its file's name)."""
    return os.path.basename(info.path)


def _extra(row: Optional[tuple]) -> Extra:
    if row is None:
        return NORMAL
    return Extra(bool(row[0]), row[1], row[2], row[3], row[4])


class ObjectExtras:
    """The ``object_ext`` rows of one data dir, sharing the store's connection and lock."""

    def __init__(self, db: sqlite3.Connection, lock: ContextManager[Any]) -> None:
        self._db = db
        self._lock = lock

    def get(self, info: ObjectInfo) -> Extra:
        with self._lock:
            row = self._db.execute("SELECT %s FROM object_ext WHERE file_id=?" % _COLUMNS,
                                   (file_id_of(info),)).fetchone()
        return _extra(row)

    def of(self, infos: Iterable[ObjectInfo]) -> Dict[str, Extra]:
        """The extras of many versions (a listing page) by file id; those without a row are left out."""
        ids = [file_id_of(info) for info in infos]
        found: Dict[str, Extra] = {}
        with self._lock:
            for start in range(0, len(ids), 500):  # bounded by sqlite's host parameter limit
                part = ids[start:start + 500]
                sql = "SELECT file_id, %s FROM object_ext WHERE file_id IN (%s)" % (_COLUMNS, ",".join("?" * len(part)))
                for row in self._db.execute(sql, part):
                    found[row[0]] = _extra(row[1:])
        return found

    def write(self, conn: sqlite3.Connection, file_id: str, extra: Extra) -> None:
        """Write ``extra`` for ``file_id`` in the caller's transaction (``conn``, under the store lock)."""
        conn.execute("INSERT OR REPLACE INTO object_ext (file_id, %s) VALUES (?, ?, ?, ?, ?, ?)" % _COLUMNS,
                     (file_id, int(extra.appendable), extra.digests, extra.storage_class, extra.restore_ready,
                      extra.restore_until))

    def update(self, info: ObjectInfo, extra: Extra) -> bool:
        """Write ``extra`` for the version ``info`` if it is still the live one at its key (a concurrent
        upload may have replaced it); False otherwise. The caller holds the store lock, or accepts that."""
        file_id = file_id_of(info)
        with self._lock, self._db as conn:
            row = conn.execute("SELECT 1 FROM objects WHERE bucket=? AND key=? AND file_id=?",
                               (info.bucket, info.key, file_id)).fetchone()
            if row is None:
                return False
            self.write(conn, file_id, extra)
            return True

    def forget_orphans(self) -> int:
        """Remove the rows of versions that are gone (deleted, replaced); returns how many (at start)."""
        with self._lock, self._db as conn:
            cur = conn.execute("DELETE FROM object_ext WHERE file_id NOT IN (SELECT file_id FROM objects)")
            return cur.rowcount
