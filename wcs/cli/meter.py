"""What a progress line says, as pure functions of counts and a clock: no terminal, no threads beyond a lock.

:class:`Meter` counts bytes done and bytes *moved*, which differ by what was already there (the stored
blocks of a resumed multiput, files a sync found unchanged): only moved bytes make the speed,
measured over the last :data:`RATE_WINDOW` seconds rather than since the start, so a stall shows.
Without a known total there is no percentage and no ETA. :func:`render` fits a line to a width:
the percentage, the byte and file counts always stay; a name (shortened in the middle), the speed,
the ETA and a bar get what room is left, in that order. :mod:`wcs.cli.progress` draws these lines.
"""

import collections
import threading
import time
from typing import Callable, Deque, List, Optional, Tuple

MIN_RATE_SPAN = 0.5  # seconds of samples before a speed is shown
RATE_WINDOW = 10.0  # the speed is that of the last RATE_WINDOW seconds
SAMPLE_EVERY = 0.1  # seconds between two samples of the speed
NAME_MIN = 12  # characters of a name shown before the speed, the ETA and the bar get room


def size_text(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return ("%d %s" % (count, unit)) if unit == "B" else "%.1f %s" % (count, unit)
        count /= 1024.0
    return "%.1f TiB" % count  # pragma: no cover


def _pair(done: int, total: int) -> str:
    """``12.3/27.0 MiB``: both counts in the unit of the total."""
    unit_size, unit = 1.0, "B"
    for name in ("KiB", "MiB", "GiB", "TiB"):
        if total >= 1024 * unit_size:
            unit_size, unit = unit_size * 1024, name
    if unit == "B":
        return "%d/%d B" % (done, total)
    return "%.1f/%.1f %s" % (done / unit_size, total / unit_size, unit)


def duration_text(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    hours, rest = divmod(seconds, 3600)
    return "%d:%02d:%02d" % (hours, rest // 60, rest % 60) if hours else "%d:%02d" % (rest // 60, rest % 60)


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut in the middle (``photos/.../img_0042.jpg``)."""
    if len(text) <= width:
        return text
    if width <= 3:
        return text[-width:] if width > 0 else ""
    head = (width - 3) // 3  # the end (the file's own name) keeps two thirds
    return text[:head] + "..." + text[len(text) - (width - 3 - head):]


class Meter:
    """Counts of one transfer or of many, thread-safe; ``clock`` injectable.

    Args:
        total: bytes expected, or None until known (:meth:`set_total`).
        files_total: files expected (tree commands), or None.
    """

    def __init__(self, total: Optional[int] = None, *, files: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.started = clock()
        self.total = total
        self.done = 0
        self.moved = 0
        self.files = files
        self.files_total: Optional[int] = None
        self.files_done = 0
        self.failed = 0
        self.unchanged = 0  # files done without a transfer (a sync found them equal)
        self._samples: Deque[Tuple[float, int]] = collections.deque([(self.started, 0)])

    def set_total(self, total: Optional[int], files: Optional[int] = None) -> None:
        with self._lock:
            self.total = total
            if files is not None:
                self.files_total = files

    def add(self, delta: int, moved: bool = True) -> None:
        """``delta`` bytes done; ``moved`` False for bytes that were already there (not speed)."""
        if not delta:
            return
        with self._lock:
            self.done += delta
            if moved:
                self.moved += delta
                now = self._clock()
                if now - self._samples[-1][0] >= SAMPLE_EVERY:
                    self._samples.append((now, self.moved))
                while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW:
                    self._samples.popleft()

    def file_done(self, failed: bool = False, unchanged: bool = False, count: int = 1) -> None:
        with self._lock:
            self.files_done += count
            self.failed += count if failed else 0
            self.unchanged += count if unchanged else 0

    def elapsed(self) -> float:
        return max(self._clock() - self.started, 0.0)

    def rate(self) -> Optional[float]:
        """Bytes moved per second over the last :data:`RATE_WINDOW` seconds; None at the very start."""
        with self._lock:
            now = self._clock()
            since, moved = self._samples[0]
            if now - since < MIN_RATE_SPAN:
                return None
            return (self.moved - moved) / (now - since)

    def average(self) -> float:
        """Bytes moved per second since the start."""
        return self.moved / max(self.elapsed(), 1e-9)

    def eta(self, rate: Optional[float]) -> Optional[float]:
        if self.total is None or not rate or rate <= 0:
            return None
        return max(self.total - self.done, 0) / rate

    def line(self, width: int, name: str = "") -> str:
        rate = self.rate()
        return render(width, name, self.done, self.total, rate, self.eta(rate), *self._file_counts())

    def final_line(self, width: int, name: str = "") -> str:
        """What stays on the terminal after a run: the counts, the bytes moved, the time and average speed."""
        parts = []
        if self.files:
            files = "%d file%s" % (self.files_done, "" if self.files_done == 1 else "s")
            parts.append(files + (" (%d unchanged)" % self.unchanged if self.unchanged else ""))
        moved = size_text(self.moved)
        if self.done > self.moved and not self.files:
            moved += " (%s were there)" % size_text(self.done - self.moved)
        parts.append(moved)
        parts.append("in %s" % duration_text(self.elapsed()) +
                     (" (%s/s)" % size_text(self.average()) if self.moved else ""))
        if self.failed:
            parts.append("%d failed" % self.failed)
        text = "  ".join(parts)
        room = width - len(text) - 2
        return (shorten(name, room) + "  " + text) if name and room >= 6 else text[:width]

    def _file_counts(self) -> Tuple[Optional[int], Optional[int]]:
        return (self.files_done, self.files_total) if self.files else (None, None)


def render(width: int, name: str, done: int, total: Optional[int], rate: Optional[float], eta: Optional[float],
           files_done: Optional[int] = None, files_total: Optional[int] = None) -> str:
    """One progress line of at most ``width`` characters.

    The percentage, the byte count and the file count always stay; then, while there is room, a
    name (at least :data:`NAME_MIN` characters, shortened in the middle), the speed, the ETA and a bar
    of 10 cells; what room is left grows the name to its full length, then the bar to 30 cells.
    """
    known = total is not None
    pct = ("%3d%%" % min(100, done * 100 // total if total else 100)) if known else ""
    counts = _pair(done, total) if known and total is not None else size_text(done)
    files = ""
    if files_done is not None:
        files = "%d/%d files" % (files_done, files_total) if files_total is not None else "%d files" % files_done
    rate_text = "%s/s" % size_text(rate) if rate is not None else ""
    eta_text = "ETA %s" % duration_text(eta) if eta is not None else ""

    def joined(parts: List[str]) -> str:
        return "  ".join(part for part in parts if part)

    budget = width - len(joined([pct, counts, files]))
    if budget < 0:  # a very narrow terminal: the percentage and the file count are what matter
        return (joined([pct, files]) if files else joined([pct, counts]))[:width]
    name_width = min(len(name), NAME_MIN)
    if name_width and budget >= name_width + 2:
        budget -= name_width + 2
    else:
        name_width = 0
    extras = {}
    for key, text in (("rate", rate_text), ("eta", eta_text)):
        if text and budget >= len(text) + 2:
            extras[key] = text
            budget -= len(text) + 2
    cells = 0
    if known and budget >= 14:  # "[" + 10 cells + "]" and a separator
        cells = 10
        budget -= 14
    if name_width:
        grow = min(len(name) - name_width, budget)
        name_width += grow
        budget -= grow
    if cells:
        cells += min(20, budget)
    bar = ""
    if cells:
        fill = cells * min(done, total or 0) // total if total else cells
        bar = "[%s%s]" % ("#" * fill, "-" * (cells - fill))
    return joined([shorten(name, name_width) if name_width else "", pct, bar, counts, extras.get("rate", ""),
                   extras.get("eta", ""), files])
