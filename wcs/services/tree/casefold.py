"""Keys that would be one file on a case-insensitive local folder (macOS, Windows, some mounts).

``Photo.JPG`` and ``photo.jpg`` are two keys but one file where the folder ignores case: the second
download would overwrite the first while both are reported transferred. A download run probes its
folder once (:func:`is_case_insensitive`: an entry of the folder, or a staging folder made for the
purpose, looked up under its case-swapped name) and, when the folder ignores case, gives the planner
a :class:`CaseClaims`: the first key of each case-folded path is kept, a later one that differs only
in case is refused and reported.

Not covered: a local file whose name differs in case from the only key for it (``sync`` sees two
names where the folder has one file).

The keys seen are kept in a temporary on-disk sqlite database (sqlite's empty file name), so memory
stays flat whatever the size of the listing. Folding is per character (``str.lower`` where it maps
one character to one, as file systems' case tables do), an approximation of each file system's own
table.
"""

import os
import sqlite3
from typing import Optional

from wcs.commons import staging

_LOOK_AT = 64  # entries of the folder tried before a probe is made


def is_case_insensitive(folder: str, probe: bool = True) -> bool:
    """Whether names in the existing ``folder`` are looked up ignoring case (False when it cannot be told).

    An entry of the folder whose name has a case is looked up under its case-swapped name; with
    none, and ``probe``, a staging folder is made for the test and removed.
    """
    try:
        with os.scandir(folder) as entries:
            for _, entry in zip(range(_LOOK_AT), entries):
                swapped = entry.name.swapcase()
                if swapped != entry.name and swapped.swapcase() == entry.name:
                    return _same(entry.path)
    except OSError:
        return False
    if not probe:
        return False
    try:
        made = staging.Staging.create(folder)
    except OSError:
        return False
    try:
        return _same(made.path)
    finally:
        made.remove()


def _same(path: str) -> bool:
    directory, name = os.path.split(path)
    try:
        return os.path.samestat(os.lstat(path), os.lstat(os.path.join(directory, name.swapcase())))
    except OSError:
        return False


def fold(rel: str) -> str:
    """``rel`` with each character lowercased where that gives exactly one character."""
    return "".join(lower if len(lower) == 1 else char for char, lower in ((c, c.lower()) for c in rel))


class CaseClaims:
    """The keys of one run by case-folded path; not thread-safe: one thread at a time (a run's plan
    is advanced by its workers in turn, under one lock)."""

    def __init__(self) -> None:
        self._db: Optional[sqlite3.Connection] = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self._db.execute("CREATE TABLE claims (folded TEXT PRIMARY KEY, rel TEXT NOT NULL)")

    def claim(self, rel: str) -> Optional[str]:
        """None when ``rel`` is the first key of its case-folded path (it is recorded), else that first key."""
        assert self._db is not None
        folded = fold(rel)
        found = self._db.execute("SELECT rel FROM claims WHERE folded=?", (folded,)).fetchone()
        if found is not None:
            return None if found[0] == rel else str(found[0])
        self._db.execute("INSERT INTO claims VALUES (?, ?)", (folded, rel))
        return None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
