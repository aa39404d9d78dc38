"""One listing as many chains at once: key ranges listed in parallel, handed out in key order.

A flat listing of N pages is N round trips in a row when each page waits for the marker of the one
before. :class:`RangeListing` cuts the keys into ranges (:mod:`wcs.services.keyspace`) and lists them
at once on the client's pool, each range a chain of its own, while handing out the pages' items in
global key order, as the single chain would:

* The first page is asked for as usual. When a range's page comes back full, what follows its last
  key is cut. Where the keys have folders, ``mode`` listings of the folders around that key (one per
  level, at once) name the sub-folders that follow it, and the cuts fall on them: nothing is guessed,
  and a folder is a prefix, which needs no forged marker to be listed from its start (a folder alone in
  its range is asked for by its prefix, so its last page ends with it). Otherwise, when
  the service's markers are understood, the cut falls where the page's keys suggest
  (:func:`~wcs.services.keyspace.plan_cut`), a few ranges after the first full page and more as the
  listing proves long, so that a listing of a few pages stays a few requests. A range whose page comes
  back full is cut again the same way: a bad guess is mended within a page or two. When nothing can be
  cut, the listing is the one chain it always was.
* Ranges near what is handed out are about a page each; further ones are larger, and cut again
  when their own first page is seen. A range expected to hold less than a page asks for what it
  should hold (with a margin), so that its page does not run far into the next range; one expected to
  hold more first asks for a small page, which tells how to cut it.
* The range being handed out always has its next page asked for; the ranges after it ask while what
  is held or asked for before them fits ``budget`` items, ``parallel`` requests at most, a few of them
  kept for the first small page of far ranges. Memory is a bounded number of pages whatever the size
  of the listing, and a slow consumer slows the fetching.
* A page that failed is handed out as it came, where it belongs in the order: the items before it
  come first (the consumer raises there, as with one chain). Closing early cancels what was queued
  and waits for the requests in flight.

Each key present throughout the listing is handed out exactly once, in order: ranges are disjoint
and together cover everything after the first page, and a page's keys outside its range are dropped.
Keys added or removed while the listing runs may or may not appear, as with one chain.
"""

from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Deque, Dict, Generator, List, Optional, Sequence, Tuple

from wcs.commons.result import Result
from wcs.services import keyspace
from wcs.services.scheduler import Scheduler, TaskGroup

Fetch = Callable[[Optional[str], Optional[str], int, Optional[int]], Result]
"""``fetch(prefix, marker, limit, mode)``: one ``/list`` page of the bucket."""

Slice = Tuple[Result, List[Dict[str, Any]]]
"""A page and those of its items that belong to the listing here (all of them, but at range bounds)."""

Item = Dict[str, Any]

PROBE_LIMIT = 100  # the first page of a range expected to hold more than a page
EVIDENCE = 1000  # keys seen before a listing is cut: a short one (or one of tiny pages) stays one chain
MAX_CUT = 32  # ranges made by one cut
_DIRECTORIES_FIRST = 1


class _Range:
    """Keys ``start <= k < stop`` (``stop`` None: to the end), listed from ``marker`` with ``prefix``."""

    __slots__ = ("start", "stop", "prefix", "marker", "limit", "slices", "future", "done", "waiting", "sample",
                 "answers", "folders_tried", "known", "pages", "held", "expected", "received")

    def __init__(self, start: str, stop: Optional[str], prefix: str, marker: Optional[str], limit: int) -> None:
        self.start = start
        self.stop = stop
        self.prefix = prefix
        self.marker = marker
        self.limit = limit
        self.slices: Deque[Slice] = deque()
        self.future: Optional[Future] = None
        self.done = False
        self.waiting = 0  # folder listings of this range under way; it waits for them
        self.sample: Sequence[str] = ()  # the keys of its last page, while it waits
        self.answers: List[Tuple[str, Result]] = []
        self.folders_tried = False
        self.known = False  # items already known (files beside folders): no request, not counted as held
        self.pages = 0  # pages received
        self.held = 0  # items received and not handed out
        self.expected: Optional[float] = None  # the keys it was guessed to hold, when cut
        self.received = 0  # its keys received

    @property
    def idle(self) -> bool:
        """Nothing asked for and more to ask."""
        return not (self.done or self.future is not None or self.waiting)

    @property
    def finished(self) -> bool:
        """Nothing more will come but what it holds."""
        return self.done and self.future is None and not self.waiting


class RangeListing:
    """The slices of one flat listing of ``prefix`` (see the module docstring): :meth:`slices`, once.

    Args:
        fetch: asks for one page.
        scheduler: the pool the pages are fetched on.
        prefix: the listing's prefix (``""``: the whole bucket). marker: where it starts (None: at the beginning).
        limit: items per page. parallel: requests at once. budget: items held or asked for at most
            (default: ``parallel + 4`` pages).
    """

    def __init__(self, fetch: Fetch, scheduler: Scheduler, prefix: str = "", marker: Optional[str] = None,
                 limit: int = 1000, parallel: int = 16, budget: Optional[int] = None) -> None:
        self.fetch = fetch
        self.scheduler = scheduler
        self.base = prefix
        self.marker = marker
        self.limit = limit
        # What a range meant to take one page is cut to: room for the guess to be off and for the first
        # key past its end, which tells it is done without asking again.
        self.fill = max(1, int(limit * 0.75))
        self.parallel = max(1, parallel)
        self.budget = budget if budget is not None else (self.parallel + 4) * limit
        self.max_open = 8 * self.parallel
        self.forged: Optional[bool] = None  # whether the service's markers are ours (checked on the first one)
        self.in_flight = 0
        self.held = 0  # items received and not handed out
        self.requests = 0
        self.seen = 0  # items received
        self._ranges: List[_Range] = []
        self._group: Any = None
        # Folder listings asked for: folder -> its answer (None while under way), and the ranges waiting.
        self._folders: Dict[str, Optional[Result]] = {}
        self._waiting: Dict[str, List[_Range]] = {}

    def slices(self) -> Generator[Slice, None, None]:
        """The slices in key order (call once)."""
        group = self._group = self.scheduler.group(urgent=True)
        root = _Range(self.base, keyspace.prefix_end(self.base), self.base, self.marker, self.limit)
        ranges = self._ranges = [root]
        try:
            while ranges:
                head = ranges[0]
                if head.slices:
                    piece = head.slices.popleft()
                    if not head.known:
                        self.held -= len(piece[1])
                        head.held -= len(piece[1])
                    yield piece
                    continue
                if head.finished:
                    ranges.pop(0)
                    continue
                self._launch(group)
                try:
                    future = next(group.as_completed())
                except StopIteration:  # pragma: no cover - the head always has a request out
                    raise RuntimeError("listing stalled: nothing in flight for %r" % head.start) from None
                self._complete(future)
        finally:
            group.cancel()
            group.join()

    # -- requests -----------------------------------------------------------------------------------

    def _launch(self, group: TaskGroup) -> None:
        """Ask for pages, in key order: the head's always; the next ones while what is held or asked for
        before them fits the budget; beyond it, the first (small) page of ranges not yet seen, on the
        requests kept for them (their answers tell how to cut far ranges before they are reached)."""
        ahead = 0
        first = True
        scouts = max(2, self.parallel // 4)
        for rng in self._ranges:
            if self.in_flight >= self.parallel and not first:
                return
            ahead += rng.held + (rng.limit if rng.future is not None else 0)
            if rng.idle and (first or (ahead + rng.limit <= self.budget and self.in_flight < self.parallel - scouts)
                             or (rng.pages == 0 and rng.limit <= PROBE_LIMIT and self.held < 2 * self.budget)):
                rng.future = group.submit(self._page, rng, rng.prefix, rng.marker, rng.limit, None)
                self.in_flight += 1
                ahead += rng.limit
            if not rng.finished:
                first = False

    def _page(self, rng: Optional[_Range], prefix: str, marker: Optional[str], limit: int,
              mode: Optional[int]) -> Tuple[Optional[_Range], str, Optional[int], Result]:
        return rng, prefix, mode, self.fetch(prefix or None, marker, limit, mode)

    def _ask_folder(self, folder: str) -> None:
        """A listing of ``folder`` by directory (directories first), once for the whole listing."""
        if folder not in self._folders:
            self._folders[folder] = None
            self._group.submit(self._page, None, folder, None, self.limit, _DIRECTORIES_FIRST)
            self.in_flight += 1

    def _complete(self, future: Future) -> None:
        self.in_flight -= 1
        self.requests += 1
        rng, prefix, mode, result = future.result()  # _page raises only for a caller's mistake (a bad limit)
        if rng is None:  # a folder listing
            self._folders[prefix] = result
            for waiting in self._waiting.pop(prefix, []):
                self._answered(waiting, prefix, result)
            return
        rng.future = None
        rng.pages += 1
        body = result.body
        if not result.ok or not isinstance(body, dict):
            rng.done = True
            self._hold(rng, (result, []))
            return
        items: List[Item] = body.get("items") or []
        self.seen += len(items)
        kept, beyond = self._clip(items, rng)
        rng.received += len(kept)
        if kept:
            self._hold(rng, (result, kept))
        marker = body.get("marker") or ""
        if beyond or not marker or marker == rng.marker or not items:
            rng.done = True  # (an unchanged marker would loop forever)
            return
        if self.forged is None:
            self.forged = keyspace.marker_names(marker, items[-1]["key"])
        asked, rng.marker = rng.limit, marker
        rng.limit = self.limit  # unless it was guessed to hold less, and the guess still holds
        if rng.expected is not None and rng.expected > rng.received:
            rng.limit = self._first_limit(rng.expected - rng.received, True)
        if len(items) >= asked and self.seen >= EVIDENCE:
            self._cut(rng, [item["key"] for item in items])

    def _hold(self, rng: _Range, piece: Slice) -> None:
        rng.slices.append(piece)
        self.held += len(piece[1])
        rng.held += len(piece[1])

    @staticmethod
    def _clip(items: List[Item], rng: _Range) -> Tuple[List[Item], bool]:
        """The items inside ``rng``, and whether the page went past its end."""
        low = 0
        while low < len(items) and items[low]["key"] < rng.start:
            low += 1  # only a forged marker's first page may start a little below (keyspace.just_below)
        if rng.stop is None or not items or items[-1]["key"] < rng.stop:
            return (items[low:] if low else items), False
        lo, hi = low, len(items)
        while lo < hi:  # the first item at or past stop
            mid = (lo + hi) // 2
            if items[mid]["key"] < rng.stop:
                lo = mid + 1
            else:
                hi = mid
        return items[low:lo], True

    # -- cutting ------------------------------------------------------------------------------------

    def _room(self) -> int:
        return min(MAX_CUT, self.max_open - sum(1 for rng in self._ranges if not rng.done))

    def _cut(self, rng: _Range, sample: List[str]) -> None:
        """Cut what is left of ``rng`` after its last page (keys ``sample``), when that is possible."""
        if self._room() < 1:
            return
        if not rng.folders_tried and any("/" in key[len(rng.prefix):] for key in sample):
            rng.folders_tried = True
            # Only the folders in which the page shows sub-folders: a folder of files names nothing new.
            folders = [folder for folder in keyspace.folders_around(sample[-1], rng.stop, self.base)
                       if any("/" in key[len(folder):] for key in sample if key.startswith(folder))]
            if folders:
                # Sub-folders are real places to cut (no guess, and a prefix needs no forged marker):
                # ask each folder around the last key for them (directories first), and wait.
                rng.sample = sample
                rng.waiting = len(folders)
                for folder in folders:
                    self._ask_folder(folder)
                    known = self._folders[folder]
                    if known is None:
                        self._waiting.setdefault(folder, []).append(rng)
                    else:
                        self._answered(rng, folder, known)
                return
        self._cut_by_keys(rng, sample)

    def _answered(self, rng: _Range, folder: str, result: Result) -> None:
        rng.answers.append((folder, result))
        rng.waiting -= 1
        if not rng.waiting:
            self._cut_at_folders(rng)

    def _cut_by_keys(self, rng: _Range, sample: Sequence[str]) -> None:
        if not self.forged:
            return
        # New ranges as the listing proves long: a few after the first thousand keys, more with each
        # thousand more (a listing of two pages must not cost thirty requests).
        unseen = sum(1 for other in self._ranges if other.pages == 0 and not other.done)
        most = min(self._room(), 2 * (self.seen // EVIDENCE) - unseen)
        if most < 1:
            return
        cut = keyspace.plan_cut(sample, rng.stop, self.base, self.fill, most)
        self._split(rng, sample, cut)

    def _split(self, rng: _Range, sample: Sequence[str], cut: keyspace.Cut) -> None:
        if not cut.starts:
            return
        bounds = cut.starts + [rng.stop]
        children = []
        for start, stop, size in zip(cut.starts, bounds[1:], cut.sizes):
            prefix = keyspace.request_prefix(start, stop, self.base)
            marker = keyspace.marker_before(start) if start != prefix else None
            children.append(self._guessed(start, stop, prefix, marker, size))
        rng.stop = cut.starts[0]
        rng.limit = self._first_limit(cut.rest, True)
        # The rest of this range starts after a known key: a narrower prefix ends its chain by itself.
        rng.prefix = keyspace.request_prefix(sample[-1], rng.stop, self.base)
        self._insert_after(rng, children)

    def _guessed(self, start: str, stop: Optional[str], prefix: str, marker: Optional[str], size: float,
                  margin: float = 1.25) -> _Range:
        """A new range guessed to hold ``size`` keys."""
        rng = _Range(start, stop, prefix, marker, self._first_limit(size, prefix == start, margin))
        rng.expected = size
        return rng

    def _first_limit(self, size: float, whole: bool, margin: float = 1.25) -> int:
        """The page to ask for first from a range expected to hold ``size`` keys: what it should hold,
        with a ``margin`` (a guess from the page's density: a quarter; whole folders of the page
        counted: a tenth); more than a page: a small one, which tells how to cut it, unless the range
        is ``whole`` (a prefix, or the rest of a range under way: its page cannot run into the next)."""
        if size > self.limit:
            return self.limit if whole else min(PROBE_LIMIT, self.limit)
        return max(1, min(self.limit, int(size * margin) + 8))

    def _cut_at_folders(self, rng: _Range) -> None:
        """Cut ``rng`` at the sub-folders the ``mode`` listings named (see :meth:`_cut`)."""
        sample, rng.sample = rng.sample, ()
        answers, rng.answers = rng.answers, []
        last = sample[-1]
        entries: List[Tuple[str, float, Optional[Item], Result]] = []
        whole = True  # every folder listed entirely: every file after the last key is known
        for folder, result in answers:
            body = result.body if result.ok and isinstance(result.body, dict) else None
            if body is None:
                whole = False
                continue
            size = keyspace.folder_sizes(sample, folder)
            for name in body.get("commonPrefixes") or []:
                if isinstance(name, str) and name > last and (rng.stop is None or name < rng.stop):
                    entries.append((name, size, None, result))
            if body.get("marker"):
                whole = False
                continue
            for item in body.get("items") or []:
                key = item.get("key", "")
                if key > last and (rng.stop is None or key < rng.stop):
                    entries.append((key, 1.0, item, result))
        entries.sort(key=lambda entry: entry[0])
        if not any(item is None for _, _, item, _ in entries):
            self._cut_by_keys(rng, sample)
        elif whole or self.forged:
            self._split_at(rng, last, entries, whole)
            # What is left of the range is the rest of the last key's folder: about as much as its
            # siblings hold, less what the page had of it.
            folder = last[:last.rfind("/") + 1]
            if len(folder) > len(self.base):
                parent = folder[:folder[:-1].rfind("/") + 1]
                seen = sum(1 for key in sample if key.startswith(folder))
                rng.limit = self._first_limit(max(keyspace.folder_sizes(sample, parent) - seen, 0.0), True)

    def _split_at(self, rng: _Range, last: str, entries: List[Tuple[str, float, Optional[Item], Result]],
                  whole: bool) -> None:
        """Ranges for what follows ``last`` in ``rng``: a folder expected to hold a page or more is a
        range of its own (a prefix: no marker, and its chain ends by itself); smaller folders and the
        files between go together, about a page per range (which needs forged markers), or, without
        them, a range per folder and the files as the listings named them. When a folder listing was not
        whole (not every file named), the range after a folder starts where the folder ends."""
        children: List[_Range] = []
        group: List[Tuple[str, float, Optional[Item], Result]] = []
        after: List[Optional[str]] = [None]  # where the next group starts when not whole: the end of a folder

        def close(stop: Optional[str]) -> None:
            if not group:
                return
            start = after[0] if after[0] is not None and not whole else group[0][0]
            after[0] = None
            if whole and all(item is not None for _, _, item, _ in group):
                known = _Range(start, stop, start, None, self.limit)
                known.done = known.known = True
                known.slices.append((group[0][3], [item for _, _, item, _ in group if item is not None]))
                children.append(known)
            elif whole and len(group) == 1 and group[0][2] is None:
                # A folder alone in its range, which holds nothing else (every key after the page is
                # named): listed by its prefix, its pages end with it instead of running into the next range.
                children.append(_Range(start, stop, start, None, self.limit))
            else:
                prefix = keyspace.request_prefix(start, stop, self.base)
                marker = keyspace.marker_before(start) if start != prefix else None
                size = sum(size for _, size, _, _ in group)
                children.append(self._guessed(start, stop, prefix, marker, size, margin=1.1))
            group.clear()

        for entry in entries:
            name, size, item, _ = entry
            if item is None and (size >= self.limit or not self.forged):
                close(name)
                children.append(_Range(name, keyspace.prefix_end(name), name, None, self.limit))
                after[0] = keyspace.prefix_end(name)
            else:
                full = sum(size for _, size, _, _ in group) + size > self.fill
                if group and (full or (not self.forged and item is None)):
                    close(name)
                group.append(entry)
        close(rng.stop)
        if not children:
            return
        rng.stop = children[0].start
        if self.forged:
            rng.prefix = keyspace.request_prefix(last, rng.stop, self.base)
        self._insert_after(rng, children)

    def _insert_after(self, rng: _Range, children: List[_Range]) -> None:
        at = self._ranges.index(rng) + 1
        self._ranges[at:at] = children
