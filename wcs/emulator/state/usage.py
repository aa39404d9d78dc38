"""Per-day usage of a bucket, from what the store holds: the live objects, by the UTC day of their upload.

No history is kept, so this is what the objects stored now say about the past: an object counts from
the day of its last upload (an append counts as one), and a deleted object counts nowhere.
"""

import sqlite3
from typing import Any, ContextManager, Dict, NamedTuple, Optional

from wcs.emulator.state.model import DAY_MS, now_ms


class DayUsage(NamedTuple):
    objects: int
    """Live objects last uploaded that day."""
    bytes: int
    """Their size."""


class Usage:
    """Usage queries over one store's connection and lock."""

    def __init__(self, db: sqlite3.Connection, lock: ContextManager[Any]) -> None:
        self._db = db
        self._lock = lock

    def by_day(self, bucket: str, storage_class: Optional[str] = None) -> Dict[int, DayUsage]:
        """UTC day number (days since 1970-01-01) -> the live objects of ``bucket`` uploaded that day;
        ``storage_class`` (``Standard``, ``IA``, ``Archive``) counts only the objects of that class."""
        sql = ("SELECT o.put_time / ?, COUNT(*), SUM(o.fsize) FROM objects o "
               "LEFT JOIN object_ext e ON e.file_id = o.file_id "
               "WHERE o.bucket = ? AND (o.expires_at IS NULL OR o.expires_at > ?)")
        args: list = [DAY_MS, bucket, now_ms()]
        if storage_class is not None:
            sql += " AND COALESCE(e.class, 'Standard') = ?"
            args.append(storage_class)
        with self._lock:
            rows = self._db.execute(sql + " GROUP BY 1", args).fetchall()
        return {int(day): DayUsage(int(count), int(size or 0)) for day, count, size in rows}
