"""Where a listing can be cut: key ranges of one prefix, their bounds as requests, and the one assumption
about markers that lets a listing start at any key.

A flat ``/list`` answers keys in order, a page at a time, each page naming the ``marker`` the next one
starts from, so a listing is a chain of round trips. Cut the keys into ranges and each range is a chain
of its own, all running at once (:mod:`wcs.services.listing_ranges`). A range ``[start, stop)`` is listed by
asking for the keys of :func:`request_prefix` (the longest prefix all its keys share, so that the
service stops by itself at the end of a prefix), from a marker just below ``start``, until a key at or
past ``stop`` shows up.

**The marker assumption** (the only one the parallel listing makes, written here and nowhere else).
The protocol reference (section 6.6) calls the marker an opaque value to pass back "exactly as
returned". The emulator's marker is the URL-safe Base64 of ``f:`` + the last key of the page, and a
page starts after the key it names, whatever the prefix of the request. Starting a range at an
arbitrary key needs a marker nobody returned, so :func:`marker_after` forges one in that format.
Whether the service speaks it is checked on the first marker a listing receives
(:func:`marker_names`): when that marker is not exactly :func:`marker_after` of the page's last key,
no marker is ever forged for that listing, and only splits at whole prefixes are used (folders found
by a ``mode`` listing: a prefix needs no marker to start at its first key); without folders the
listing stays one chain.

Where to cut, from one page of a range (its keys are all that is known of what follows): where keys
have folders, at the sub-folders named by ``mode`` listings of the folders around the page's last key
(:func:`folders_around`, their size guessed by :func:`folder_sizes`); otherwise at the siblings of
the last key's characters in a trie, at the level where the page's keys differ and a few levels up,
and at the top level of the range (:func:`plan_cut`). Sizes are guessed from how densely the page
covered its share of the key space, reading keys as numbers whose digits are their characters' ranks
in the page's alphabet; ranges are grouped to about a page next to the last key and twice as large
each further off (:func:`group`), because far guesses are the least sure and a far range is cut again
once its own first page is seen.
"""

from bisect import bisect_left
from typing import List, NamedTuple, Optional, Sequence, Set, Tuple

from wcs.commons.util import urlsafe_base64_decode, urlsafe_base64_encode

# Characters a key may hold where the sample shows none, so that a cut also falls between the characters
# the sample has (upper case letters between digits and lower case ones...): printable ASCII, coarsely.
_COARSE = "".join(chr(point) for point in range(0x20, 0x7f, 6)) + "\x7f"
_PRINTABLE = "".join(chr(point) for point in range(0x21, 0x80))  # at the top level: each its own candidate
MAX_CHAR = "\U0010ffff"  # a Unicode noncharacter: no real key holds it; a string ending in it sits just below the next
_DIGITS = 10  # positions read as digits: beyond them a float has no precision left anyway
_NEAR_LEVELS = 3  # levels above the one where a sample varies whose siblings are candidates (and the top one)


def common_prefix(a: str, b: str) -> str:
    """The longest string both ``a`` and ``b`` start with."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return a[:i]


def prefix_end(prefix: str) -> Optional[str]:
    """The least string above every string that starts with ``prefix``; None when there is none ("")."""
    while prefix:
        point = ord(prefix[-1]) + 1
        if 0xD800 <= point <= 0xDFFF:  # surrogates are not characters of a key
            point = 0xE000
        if point <= 0x10FFFF:
            return prefix[:-1] + chr(point)
        prefix = prefix[:-1]
    return None


def request_prefix(start: str, stop: Optional[str], base: str) -> str:
    """The longest prefix every key of ``[start, stop)`` has; ``base`` (the listing's own prefix, which
    ``start`` has) at least."""
    if stop is None:
        return base
    shared = common_prefix(start, stop)
    # [q+"a", q+"b") is exactly the keys that start with q+"a"
    if len(start) > len(shared) and prefix_end(start[:len(shared) + 1]) == stop:
        shared = start[:len(shared) + 1]
    return shared if len(shared) > len(base) else base


def just_below(key: str) -> str:
    """A string below ``key`` with no plausible key between them (any key in between would end up in the
    range before, never twice and never lost)."""
    if not key:
        raise ValueError("nothing is below the empty key")
    point = ord(key[-1]) - 1
    if point < 0:
        return key[:-1]
    if 0xD800 <= point <= 0xDFFF:
        point = 0xD7FF
    return key[:-1] + chr(point) + MAX_CHAR


def marker_after(key: str) -> str:
    """A marker that starts a page after ``key`` (the assumption of the module docstring)."""
    return urlsafe_base64_encode("f:" + key)


def marker_before(start: str) -> str:
    """A marker that starts a page at ``start`` (or just below it)."""
    return marker_after(just_below(start))


def marker_names(marker: str, last_key: str) -> bool:
    """Whether the service's ``marker``, received after a page ending with ``last_key``, is the one
    :func:`marker_after` would forge: then forged markers can start ranges."""
    try:
        return urlsafe_base64_decode(marker).decode("utf-8") == "f:" + last_key
    except (ValueError, UnicodeDecodeError):
        return False


def _digits(key: str, at: int, alphabet: Sequence[str]) -> float:
    """``key`` from position ``at`` on as a number of cells of that level: the rank of its character
    there, plus the fraction the following characters make (ranks in ``alphabet``)."""
    total, scale = 0.0, 1.0
    for char in key[at:at + _DIGITS]:
        rank = bisect_left(alphabet, char)
        total += rank * scale
        if rank == len(alphabet) or alphabet[rank] != char:
            break  # a character the alphabet lacks: where the next one's keys begin
        scale /= len(alphabet)
    return total


class Cut(NamedTuple):
    """Where to cut what follows a page of a range: the ``starts`` of the new ranges, in order, the keys
    each is expected to hold (``sizes``), and the keys left before the first start (``rest``)."""

    starts: List[str]
    sizes: List[float]
    rest: float


def plan_cut(sample: Sequence[str], stop: Optional[str], base: str, target: int, most: int) -> Cut:
    """How to cut what lies after ``sample[-1]`` and below ``stop`` into ranges of about ``target`` keys,
    ``most`` new ranges at most (the last one takes whatever is left, to be cut again later).

    The sample (a page of the range, in order) shows how many keys one cell of the trie holds at the
    level where its keys differ; a cell one level up is taken to hold as many times more as the
    alphabet the sample uses has characters. Candidate starts are the siblings, at each level from
    there up to the range's common prefix, of the last key's characters (the sample's alphabet, plus
    printable ASCII coarsely, so that what the sample never shows still gets cut); they are grouped
    into ranges of ``target`` keys.

    Args:
        sample: the keys of the range's last page, in order (its last one is where the range is).
        stop: the range's end (exclusive), None for the end of ``base``.
        base: the prefix of the whole listing.
    """
    none = Cut([], [], float("inf"))
    if most < 1 or not sample:
        return none
    last = sample[-1]
    low = len(common_prefix(last, stop)) if stop is not None else len(base)
    if low >= len(last):
        return none
    head = last[:low]
    at = len(sample) - 1
    while at > 0 and sample[at - 1].startswith(head):
        at -= 1
    sample = sample[at:]
    deep = min(max(low, len(common_prefix(sample[0], last))), len(last) - 1)
    observed = _alphabet(sample, deep)
    width = max(len(observed), 2)
    covered = _digits(last, deep, observed) - _digits(sample[0], deep, observed)
    cell = (len(sample) - 1) / covered if covered > 0 else float(len(sample))
    rest = cell * max(1.0 - (_digits(last, deep, observed) - bisect_left(observed, last[deep])), 0.0)
    candidates: List[Tuple[str, float]] = []
    alphabet = _alphabet(sample, deep, coarse=True)
    for depth in range(deep, low - 1, -1):
        if low < depth < deep - _NEAR_LEVELS:
            continue  # the middle of a word the sample shows whole: its siblings are rare; one range takes them
        size = cell * float(width) ** (deep - depth)
        prefix, here = last[:depth], last[depth]
        bound = stop[depth] if stop is not None and depth == low and len(stop) > depth else None
        chars = sorted(set(alphabet) | set(_PRINTABLE)) if depth == low else alphabet
        for char in chars:
            if char <= here or (bound is not None and char > bound):
                continue
            start = prefix + char
            if stop is None or start < stop:
                candidates.append((start, size if char in observed else size / width))
    return group(rest, candidates, target, most)


def group(rest: float, candidates: Sequence[Tuple[str, float]], target: int, most: int, grow: bool = True) -> Cut:
    """Candidate starts (in order, each with the keys expected from it to the next) grouped into at most
    ``most`` ranges of about ``target`` keys, the last one taking what is left. With ``grow`` (the
    sizes are guesses), each range after the first is twice the one before: the further off, the less
    sure the guess, and a far range is cut again once its own first page is seen. ``rest``: the keys
    expected before the first candidate."""
    starts: List[str] = []
    sizes: List[float] = []
    current = rest
    goal = float(target)
    for start, size in candidates:
        if current >= goal and len(starts) < most:
            goal *= 2 if grow else 1
            if starts:
                sizes[-1] = current
            else:
                rest = current
            starts.append(start)
            sizes.append(0.0)
            current = 0.0
        current += size
    if starts:
        sizes[-1] = current
    return Cut(starts, sizes, rest)


def folders_around(last: str, stop: Optional[str], base: str) -> List[str]:
    """The folders holding ``last`` (``base`` and each ``.../`` of it below) whose later sub-folders or
    files may lie after ``last`` and below ``stop``: a ``mode`` listing of each names them."""
    found: List[str] = []
    at = len(base)
    folder = base
    while True:
        if folder == "" or folder.endswith("/"):
            below = last.find("/", len(folder))
            # The first key after last's own entry in this folder: its sub-folder's end, or last itself.
            after = prefix_end(last[:below + 1]) if below >= 0 else last
            if stop is None or (after is not None and after < stop):
                found.append(folder)
        slash = last.find("/", at)
        if slash < 0:
            return found
        folder, at = last[:slash + 1], slash + 1


def folder_sizes(sample: Sequence[str], folder: str) -> float:
    """About how many keys a sub-folder of ``folder`` holds, from those the sample holds whole (a lower
    bound from the largest one seen when none is whole)."""
    counts: List[int] = []
    current, count = None, 0
    for key in sample:
        if not key.startswith(folder):
            continue
        slash = key.find("/", len(folder))
        name = key[:slash + 1] if slash >= 0 else None
        if name != current:
            if current is not None:
                counts.append(count)
            current, count = name, 0
        count += 1
    if current is not None:
        counts.append(count)
    whole = counts[1:-1]  # the first and the last may go on beyond the sample
    if whole:
        return sum(whole) / len(whole)
    return float(max(counts)) if counts else float(len(sample))


def _alphabet(sample: Sequence[str], depth: int, coarse: bool = False) -> List[str]:
    chars: Set[str] = set(_COARSE) if coarse else set()
    for key in sample:
        chars.update(key[depth:])
    return sorted(chars)
