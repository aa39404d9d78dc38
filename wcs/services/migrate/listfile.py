"""``--files-from LIST``: the keys or paths a run is limited to, read once, kept sorted on disk.

:class:`ListedPaths` is the list; :class:`ListedFilter` limits a folder command's filter rules to it.

A list file has one path per line, relative to the source (or the tree's root), ``/`` between
folders; blank lines and lines starting with ``#`` are left out. A line may add, after a tab, the
object's size in bytes and, after another tab, its hex MD5 (``a/b.jpg<TAB>1234<TAB>9e10...``): an
HTTP origin's objects are then known without asking the origin (a ``HEAD`` each otherwise).

The paths go into a temporary sqlite table (memory stays flat with the length of the list) that
answers membership and yields the paths in key order (sqlite compares UTF-8 text byte by byte,
which is the order of the code points, as listings are sorted).
"""

import os
import sqlite3
import tempfile
import threading
from typing import Iterator, List, NamedTuple, Optional, Tuple

from wcs.commons.errors import InvalidArgument
from wcs.commons.fsutil import open_text
from wcs.services.tree.filters import FilterRules, Rule

_HEX = frozenset("0123456789abcdef")


class Listed(NamedTuple):
    rel: str
    size: Optional[int] = None
    md5: Optional[str] = None


def parse_line(line: str, where: str = "") -> Optional[Listed]:
    """The entry of one line, None for a blank line or a comment.

    Raises:
        InvalidArgument: a size that is not a number, an MD5 that is not 32 hex digits.
    """
    line = line.rstrip("\r\n")
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    parts = line.split("\t")
    rel = parts[0].lstrip("/")
    if not rel:
        raise InvalidArgument("%san empty path" % where)
    size: Optional[int] = None
    md5: Optional[str] = None
    if len(parts) > 1 and parts[1].strip():
        text = parts[1].strip()
        if not text.isdigit():
            raise InvalidArgument("%ssize %r is not a number of bytes" % (where, text))
        size = int(text)
    if len(parts) > 2 and parts[2].strip():
        md5 = parts[2].strip().lower()
        if len(md5) != 32 or not set(md5) <= _HEX:
            raise InvalidArgument("%sMD5 %r is not 32 hex digits" % (where, parts[2]))
    return Listed(rel, size, md5)


class ListedPaths:
    """The paths of a list file (see the module docstring); close it (or use ``with``) when done.

    Raises:
        LocalFileError: the list cannot be read. InvalidArgument: a malformed line (named).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._dir = tempfile.mkdtemp(prefix="wcs-files-from-")
        self._lock = threading.Lock()
        self._db = sqlite3.connect(os.path.join(self._dir, "list.sqlite"), check_same_thread=False)
        self.count = 0
        try:
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("CREATE TABLE listed (rel TEXT PRIMARY KEY, size INTEGER, md5 TEXT)")
            self._load(path)
        except BaseException:
            self.close()
            raise

    def _load(self, path: str) -> None:
        with open_text(path, "the list") as fp:
            try:
                for number, line in enumerate(fp, 1):
                    entry = parse_line(line, "%s line %d: " % (path, number))
                    if entry is not None:
                        self._db.execute("INSERT OR REPLACE INTO listed VALUES (?, ?, ?)", entry)
            except UnicodeDecodeError:
                raise InvalidArgument("the list %s is not UTF-8 text" % path) from None
        self._db.commit()
        self.count = self._db.execute("SELECT COUNT(*) FROM listed").fetchone()[0]

    def __contains__(self, rel: object) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM listed WHERE rel = ?", (rel,)).fetchone() is not None

    def get(self, rel: str) -> Optional[Listed]:
        with self._lock:
            row = self._db.execute("SELECT rel, size, md5 FROM listed WHERE rel = ?", (rel,)).fetchone()
        return Listed(*row) if row else None

    def __iter__(self) -> Iterator[Listed]:
        """The entries in key order, a page at a time."""
        last = ""
        first = True
        while True:
            with self._lock:
                rows = self._db.execute("SELECT rel, size, md5 FROM listed WHERE rel > ? OR ? ORDER BY rel LIMIT 500",
                                        (last, first)).fetchall()
            if not rows:
                return
            for row in rows:
                yield Listed(*row)
            last, first = rows[-1][0], False

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if not os.path.isdir(self._dir):
                return
            for name in os.listdir(self._dir):
                os.unlink(os.path.join(self._dir, name))
            os.rmdir(self._dir)

    def __enter__(self) -> "ListedPaths":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ListedFilter(FilterRules):
    """Filter rules limited to the paths of a list file (``--files-from`` on a folder command): a path
    takes part when it is listed and the rules (if any) let it through. Closing it closes the list."""

    def __init__(self, listed: ListedPaths, rules: Optional[FilterRules] = None) -> None:
        super().__init__()
        self.listed = listed
        self.inner = rules

    def __bool__(self) -> bool:
        return True

    def decide(self, path: str) -> Tuple[bool, Optional[Rule]]:
        if path not in self.listed:
            return False, None
        return self.inner.decide(path) if self.inner is not None else (True, None)

    def describe(self) -> List[str]:
        rules = self.inner.describe() if self.inner is not None else []
        return ["(only the %d path(s) of %s)" % (self.listed.count, self.listed.path)] + rules

    def close(self) -> None:
        self.listed.close()
