"""What a prefix holds (``wcscmd du``): objects and bytes, in total and per sub-prefix down to a depth.

:func:`usage` reads a listing once, in key order. The keys under one sub-prefix come one after
the other in that order, so a sub-prefix is complete as soon as a key outside it arrives: it is
yielded then, and only the open chain of sub-prefixes (one per level, ``depth + 1`` at most) is
kept. Memory stays flat with the number of keys; the output comes as the listing goes, sub-prefixes
before the prefix that holds them (as ``du`` prints folders), the total last.
"""

from dataclasses import dataclass
from typing import Iterable, Iterator, List

from wcs.commons.errors import InvalidArgument
from wcs.commons.result import ObjectInfo


@dataclass
class Usage:
    """Objects and bytes under ``prefix``; ``depth`` 0 is the prefix asked about (the total)."""

    prefix: str
    depth: int
    objects: int = 0
    bytes: int = 0


def check_depth(depth: object) -> int:
    """``depth`` if it is an int of 0 or more, else raise ``InvalidArgument``."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise InvalidArgument("depth must be 0 or more, got %r" % (depth,))
    return depth


def usage(listing: Iterable[ObjectInfo], prefix: str = "", depth: int = 0) -> Iterator[Usage]:
    """One :class:`Usage` per sub-prefix of ``prefix`` down to ``depth`` levels (``a/``, ``a/b/``...),
    each when complete, then the total (see the module docstring). Keys directly under a level count
    in its total only.

    Raises:
        InvalidArgument: a negative ``depth``.
    """
    check_depth(depth)
    open_chain: List[Usage] = [Usage(prefix, 0)]
    for info in listing:
        rel = info.key[len(prefix):] if info.key.startswith(prefix) else info.key
        folders = rel.split("/")[:-1][:depth]
        # Keep the open sub-prefixes this key is under; the others are complete.
        level = 1
        while level < len(open_chain) and level <= len(folders) \
                and open_chain[level].prefix == prefix + "/".join(folders[:level]) + "/":
            level += 1
        while len(open_chain) > level:
            yield open_chain.pop()
        for deeper in range(level, len(folders) + 1):
            open_chain.append(Usage(prefix + "/".join(folders[:deeper]) + "/", deeper))
        for group in open_chain:
            group.objects += 1
            group.bytes += info.size
    while open_chain:
        yield open_chain.pop()
