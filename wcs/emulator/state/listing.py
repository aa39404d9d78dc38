"""One page of ``/list``: flat or by directory, filtered by upload time, continued by a marker.

A marker is the URL-safe Base64 of the last entry of the page before, ``f:<key>`` for a file or
``d:<dir>`` for a common prefix, so that a listing by directory can resume between the two kinds.

Every page starts at its marker with a range of the ``(bucket, key)`` index (:data:`Scan`): a page
reads the rows of its own entries, not every key under the prefix (which made each page of a
100,000-key directory cost as much as the whole listing). A listing by directory walks the
directory's entries in key order, stepping over a sub-directory with one seek past its last
possible key (``dir/sub/`` spans ``[dir/sub/, dir/sub0)``, ``0`` being the character after ``/``).
So a page of files reads its files plus one row per sub-directory passed over, a page of
directories its directories plus the files in between; only the page where one kind ends and the
other begins may look through the whole directory once, to say whether anything follows.
"""

import base64
from typing import Callable, Iterator, List, Optional, Tuple, Union

from wcs.emulator.errors import InvalidMarker
from wcs.emulator.state.model import ObjectInfo

Scan = Callable[[str, bool, Optional[str], int], List[ObjectInfo]]
"""``scan(lower, inclusive, upper, count)``: at most ``count`` live objects whose key lies above
``lower`` (or at it, when ``inclusive``) and below ``upper`` (None: no bound), in key order (see
:meth:`Store.scan`)."""

Entry = Union[ObjectInfo, str]
"""A file or a common prefix of a listing by directory."""

Page = Tuple[List[ObjectInfo], List[str], str]
"""``(items, commonPrefixes, next_marker)``; the marker is empty on the last page."""

InTime = Callable[[ObjectInfo], bool]

_FIRST_BATCH = 8
_MAX_BATCH = 1000


def encode_marker(kind: str, name: str) -> str:
    # Markers travel unescaped in query strings and signatures: only [A-Za-z0-9_=-] is safe.
    return base64.urlsafe_b64encode(("%s:%s" % (kind, name)).encode("utf-8")).decode("ascii")


def decode_marker(marker: str) -> Tuple[str, str]:
    """``(kind, name)`` of a marker; a 400 :class:`~wcs.emulator.errors.InvalidMarker` when it is not one."""
    try:
        text = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)).decode("utf-8")
        kind, name = text.split(":", 1)
    except (ValueError, UnicodeDecodeError):
        raise InvalidMarker() from None
    if kind not in ("f", "d"):
        raise InvalidMarker()
    return kind, name


def prefix_end(prefix: str) -> Optional[str]:
    """The least string above every string that starts with ``prefix`` (None for the empty prefix)."""
    while prefix:
        point = ord(prefix[-1]) + 1
        if 0xD800 <= point <= 0xDFFF:  # surrogates cannot be stored: the next key character is U+E000
            point = 0xE000
        if point <= 0x10FFFF:
            return prefix[:-1] + chr(point)
        prefix = prefix[:-1]
    return None


def list_page(scan: Scan, prefix: str = "", marker: str = "", limit: int = 1000, mode: Optional[int] = None,
              start_time: Optional[int] = None, end_time: Optional[int] = None) -> Page:
    """One page of the objects ``scan`` reaches.

    Without ``mode`` it is a flat prefix listing in key order. With ``mode`` 0 (files first) or 1
    (directories first) ``prefix`` names a directory and its sub-directories come back as common
    prefixes; the limit counts both kinds of entry. ``start_time``/``end_time`` (ms, inclusive)
    filter files by upload time.
    """

    def in_time(info: ObjectInfo) -> bool:
        return ((start_time is None or info.put_time >= start_time)
                and (end_time is None or info.put_time <= end_time))

    if mode is None:
        return _flat_page(scan, prefix, marker, limit, in_time)
    directory = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    return _directory_page(scan, directory, marker, limit, ("f", "d") if mode == 0 else ("d", "f"), in_time)


def _rows(scan: Scan, lower: str, inclusive: bool, upper: Optional[str], batch: int) -> Iterator[ObjectInfo]:
    """Every live object in the range, read ``batch`` rows at a time."""
    while True:
        rows = scan(lower, inclusive, upper, batch)
        yield from rows
        if len(rows) < batch:
            return
        lower, inclusive = rows[-1].key, False


def _flat_page(scan: Scan, prefix: str, marker: str, limit: int, in_time: InTime) -> Page:
    after = decode_marker(marker)[1] if marker else None
    lower, inclusive = (after, False) if after is not None and after >= prefix else (prefix, True)
    items: List[ObjectInfo] = []
    more = False
    # limit + 1 rows: the extra one says whether there is a next page, in the same query.
    for info in _rows(scan, lower, inclusive, prefix_end(prefix), limit + 1):
        if not in_time(info):
            continue
        if len(items) == limit:
            more = True
            break
        items.append(info)
    return items, [], encode_marker("f", items[-1].key) if more and items else ""


def _entries(scan: Scan, directory: str, lower: str, inclusive: bool) -> Iterator[Tuple[str, Entry]]:
    """``("f", info)`` for each file and ``("d", "dir/sub/")`` for each sub-directory of ``directory``,
    in key order from ``lower``."""
    upper = prefix_end(directory)
    if lower < directory:  # a marker from elsewhere
        lower, inclusive = directory, True
    batch = _FIRST_BATCH
    while True:
        rows = scan(lower, inclusive, upper, batch)
        for info in rows:
            rest = info.key[len(directory):]
            slash = rest.find("/")
            if slash < 0:
                yield "f", info
                lower, inclusive = info.key, False
                continue
            sub = directory + rest[:slash + 1]
            yield "d", sub
            # Seek past everything under sub; the rows after it in this batch may all lie inside.
            lower, inclusive = sub[:-1] + "0", True
            batch = _FIRST_BATCH
            break
        else:
            if len(rows) < batch:
                return
            batch = min(batch * 2, _MAX_BATCH)


def _directory_page(scan: Scan, directory: str, marker: str, limit: int, kinds: Tuple[str, str],
                    in_time: InTime) -> Page:
    """Entries of ``kinds[0]`` in key order, then those of ``kinds[1]``, from the marker on."""
    phase, lower, inclusive = 0, directory, True
    if marker:
        kind, name = decode_marker(marker)
        phase = kinds.index(kind)
        lower, inclusive = (name, False) if kind == "f" else (name[:-1] + "0", True)
    page: List[Tuple[str, Entry]] = []
    more = False
    for index in range(phase, len(kinds)):
        if index != phase:
            lower, inclusive = directory, True
        for kind, entry in _entries(scan, directory, lower, inclusive):
            if kind != kinds[index] or (isinstance(entry, ObjectInfo) and not in_time(entry)):
                continue
            if len(page) == limit:
                more = True
                break
            page.append((kind, entry))
        if more:
            break
    items = [entry for _, entry in page if isinstance(entry, ObjectInfo)]
    common = [entry for _, entry in page if isinstance(entry, str)]
    next_marker = ""
    if more and page:
        kind, entry = page[-1]
        next_marker = encode_marker(kind, entry if isinstance(entry, str) else entry.key)
    return items, common, next_marker
