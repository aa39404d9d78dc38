"""How a ranged download cuts an object into parts: pure functions of sizes, no I/O.

The parts of a download run ``lanes`` at a time (the transfer's concurrency), so they go in waves;
on a link that shares its bandwidth fairly the parts of a wave progress at the same rate, and a
wave ends when its biggest part does. Cutting an object into parts of the configured size alone
leaves a slow last wave: 48 MiB in 8 MiB parts on 4 connections is a wave of four parts, then a
wave of two with half the connections idle (0.74 of what four connections carry). So
:func:`plan_parts` cuts full waves of ``part_size`` parts (aligned to the 4 MiB etag blocks, so each
hashes whole blocks as it arrives), then spreads what does not fill a wave evenly over the lanes, as
one last wave whose parts end together. A remainder of at most half a wave is folded into the last
full wave instead, which is then cut evenly (parts of at most 1.5 x ``part_size``): a wave costs each
connection the round trips of a new request, and a wave of small parts costs them for little. An
object smaller than ``lanes`` parts is one wave of equal parts, one per lane, none smaller than
:data:`MIN_PART`. Boundaries of evenly cut parts are multiples of
:data:`ALIGN` but may fall inside an etag block; such a block is hashed once every part holding a
piece of it is on disk (:mod:`wcs.services.ranged`).

A resumed download fetches only the blocks its checkpoint lacks (:func:`missing_ranges`), in
``part_size`` parts per run of missing blocks (:func:`plan_ranges`): the holes lie where the
interrupted run left them, and a part never spans two of them.
"""

from typing import Iterable, List, Sequence, Tuple

from wcs.commons.util import BLOCK_SIZE

MIN_PART = 1024 * 1024
"""The smallest part an even cut makes: below it a part's request costs more than its bytes take."""
ALIGN = 64 * 1024
"""Boundaries of evenly cut parts are multiples of this (page-aligned writes)."""

Part = Tuple[int, int]
"""``(first byte, last byte)`` of a part, inclusive."""


def block_count(size: int) -> int:
    """The number of 4 MiB etag blocks of a ``size``-byte object (none for an empty one)."""
    return -(-size // BLOCK_SIZE)


def block_span(index: int, size: int) -> Part:
    """``(first byte, last byte)`` of block ``index`` of a ``size``-byte object."""
    start = index * BLOCK_SIZE
    return start, min(start + BLOCK_SIZE, size) - 1


def lanes_for(size: int, concurrency: int) -> int:
    """How many parts run at once: the concurrency, but no lane with less than :data:`MIN_PART` to fetch."""
    return max(1, min(int(concurrency), size // MIN_PART))


def _even(start: int, end: int, count: int) -> List[Part]:
    """Bytes ``start``..``end - 1`` in ``count`` parts of (nearly) equal size, inner boundaries on :data:`ALIGN`."""
    bounds = [start]
    for i in range(1, count):
        cut = start + (end - start) * i // count
        bounds.append(max(bounds[-1] + 1, cut - cut % ALIGN))
    bounds.append(end)
    return [(a, b - 1) for a, b in zip(bounds, bounds[1:]) if b > a]


def plan_parts(size: int, part_size: int, concurrency: int) -> List[Part]:
    """The parts of a fresh download of a ``size``-byte object, in the order to fetch them.

    ``part_size`` is a multiple of the 4 MiB block; ``concurrency`` how many parts run at once.
    """
    if size <= 0:
        return []
    if part_size <= 0 or part_size % BLOCK_SIZE:
        raise ValueError("part_size must be a positive multiple of %d, got %d" % (BLOCK_SIZE, part_size))
    lanes = lanes_for(size, concurrency)
    if lanes == 1:
        return [(start, min(start + part_size, size) - 1) for start in range(0, size, part_size)]
    wave = lanes * part_size
    full, rest = divmod(size, wave)
    if full and 0 < rest <= wave // 2:
        full -= 1  # the remainder goes with the last full wave
    aligned = [(start, start + part_size - 1) for start in range(0, full * wave, part_size)]
    tail = full * wave
    return aligned + (_even(tail, size, lanes) if tail < size else [])


def missing_ranges(size: int, have: Iterable[int]) -> List[Part]:
    """The runs of blocks of a ``size``-byte object not in ``have``, as ``(first byte, last byte)``."""
    present = set(have)
    out: List[Part] = []
    for index in range(block_count(size)):
        if index in present:
            continue
        first, last = block_span(index, size)
        if out and out[-1][1] + 1 == first:
            out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def plan_ranges(ranges: Sequence[Part], part_size: int) -> List[Part]:
    """``ranges`` (runs of missing blocks) cut into parts of at most ``part_size`` bytes, block-aligned."""
    if part_size <= 0 or part_size % BLOCK_SIZE:
        raise ValueError("part_size must be a positive multiple of %d, got %d" % (BLOCK_SIZE, part_size))
    return [(start, min(start + part_size - 1, last)) for first, last in ranges
            for start in range(first, last + 1, part_size)]
