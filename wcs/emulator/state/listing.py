"""One page of ``/list``: flat or by directory, filtered by upload time, continued by a marker.

A marker is the URL-safe Base64 of the last entry of the page before, ``f:<key>`` for a file or
``d:<dir>`` for a common prefix, so that a listing by directory can resume between the two kinds.
"""

import base64
from typing import Callable, Iterator, List, Optional, Sequence, Set, Tuple, Union

from wcs.emulator.errors import InvalidMarker
from wcs.emulator.state.model import ObjectInfo

Under = Callable[..., Iterator[ObjectInfo]]
"""``under(prefix, after=None, page=1000)``: the live objects whose key starts with ``prefix`` (and sorts
after ``after``), in key order, read ``page`` rows at a time (see :meth:`Store.under`)."""

Entry = Union[ObjectInfo, str]
"""A file or a common prefix of a listing by directory."""

Page = Tuple[List[ObjectInfo], List[str], str]
"""``(items, commonPrefixes, next_marker)``; the marker is empty on the last page."""


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


def list_page(under: Under, prefix: str = "", marker: str = "", limit: int = 1000, mode: Optional[int] = None,
              start_time: Optional[int] = None, end_time: Optional[int] = None) -> Page:
    """One page of the objects ``under`` yields.

    Without ``mode`` it is a flat prefix listing in key order. With ``mode`` 0 (files first) or 1
    (directories first) ``prefix`` names a directory and its sub-directories come back as common
    prefixes; the limit counts both kinds of entry. ``start_time``/``end_time`` (ms, inclusive)
    filter files by upload time.
    """

    def in_time(info: ObjectInfo) -> bool:
        return ((start_time is None or info.put_time >= start_time)
                and (end_time is None or info.put_time <= end_time))

    if mode is None:
        return _flat_page(under, prefix, marker, limit, in_time)
    directory = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    files: List[ObjectInfo] = []
    dirs: Set[str] = set()
    for info in under(directory):
        rest = info.key[len(directory):]
        if "/" in rest:
            dirs.add(directory + rest.split("/", 1)[0] + "/")
        elif in_time(info):
            files.append(info)
    groups: List[Tuple[str, Sequence[Entry]]] = [("f", files), ("d", sorted(dirs))]
    if mode != 0:
        groups.reverse()
    order = {kind: index for index, (kind, _) in enumerate(groups)}
    entries = [(kind, entry) for kind, group in groups for entry in group]
    if marker:
        last_kind, last_name = decode_marker(marker)
        after = (order[last_kind], last_name)
        entries = [(kind, entry) for kind, entry in entries if (order[kind], _name(entry)) > after]
    page, more = entries[:limit], len(entries) > limit
    items = [entry for _, entry in page if isinstance(entry, ObjectInfo)]
    common = [entry for _, entry in page if isinstance(entry, str)]
    next_marker = ""
    if more and page:
        kind, entry = page[-1]
        next_marker = encode_marker(kind, _name(entry))
    return items, common, next_marker


def _name(entry: Entry) -> str:
    return entry if isinstance(entry, str) else entry.key


def _flat_page(under: Under, prefix: str, marker: str, limit: int,
               in_time: Callable[[ObjectInfo], bool]) -> Page:
    after = decode_marker(marker)[1] if marker else None
    items: List[ObjectInfo] = []
    more = False
    # limit + 1 rows: the extra one says whether there is a next page, in the same query.
    for info in under(prefix, after, page=limit + 1):
        if not in_time(info):
            continue
        if len(items) == limit:
            more = True
            break
        items.append(info)
    return items, [], encode_marker("f", items[-1].key) if more and items else ""
