"""What a progress line says: counts and a speed (:class:`Meter`), and the layout that fits a width (:func:`fit`).

tqdm formats the line (``tqdm.format_meter``: sizes, times, the percentage, a bar that takes the room
left); two things it cannot know stay here, small and pure. :class:`Meter` counts bytes done and bytes
*moved*, which differ by what was already there (the stored blocks of a resumed multiput, the parts of
a resumed download already on disk, files a sync found unchanged): only moved bytes make the speed,
measured over the last :data:`RATE_WINDOW` seconds rather than since the start, so a stall shows; it
is handed to tqdm as ``rate``. :func:`fit` picks what a width holds: the percentage, the byte count
and the file count always stay; a name (shortened in the middle), the speed, the elapsed time and ETA
and a bar get what room is left, and the bar gives way first. Without a known total there is no
percentage, no ETA and no bar. :mod:`wcs.cli.progress` draws these lines, with tqdm too.

Sizes are tqdm's notation in binary steps (``12.0MB`` is 12 MiB, as ``--bwlimit 12M`` means).
tqdm is imported when a text is first made (:func:`_tqdm`): a quiet run only counts.
"""

import collections
import os
import threading
import time
from typing import IO, Any, Callable, Deque, Dict, Optional, Tuple

MIN_RATE_SPAN = 0.5  # seconds of samples before a speed is shown
RATE_WINDOW = 10.0  # the speed is that of the last RATE_WINDOW seconds
SAMPLE_EVERY = 0.1  # seconds between two samples of the speed
NAME_MIN = 12  # characters of a name shown before the speed, the ETA and the bar get room
BAR_MIN = 10  # cells of the narrowest bar worth drawing
REDRAW = 0.1  # seconds between two drawings of a live line (wcs.cli.liveline)

# What a line may hold besides the percentage and the file count, richest first:
# (name, bar, elapsed time and ETA, speed, byte count). Each step leaves out what gives way first: the
# bar, then the times, then the speed, then the name, at last the byte count (a tree run keeps its files).
_STEPS = ((True, True, True, True, True), (True, False, True, True, True), (True, False, False, True, True),
          (True, False, False, False, True), (False, False, False, False, True), (False, False, False, False, False))


def terminal_width(stream: IO[str], default: int = 80) -> int:
    """Columns of the terminal ``stream`` writes to (``default`` when it cannot tell)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or default
    except (AttributeError, ValueError, OSError):
        return default


def _tqdm() -> Any:
    """tqdm's bar class (its formatting is static methods), imported on first use: importing tqdm
    costs a run more than counting ten thousand unchanged files."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    return tqdm


def disp_len(text: str) -> int:
    """Terminal columns ``text`` takes (tqdm's measure)."""
    from tqdm.utils import disp_len as measure  # type: ignore[import-untyped]

    return int(measure(text))


def size_text(count: float) -> str:
    """``12.0MB``: tqdm's size notation, in steps of 1024."""
    return str(_tqdm().format_sizeof(count, "B", 1024))


def duration_text(seconds: float) -> str:
    """``01:05``, ``1:00:05``: tqdm's clock notation."""
    return str(_tqdm().format_interval(max(seconds, 0)))


def _columns(text: str, width: int) -> int:
    """How many characters of ``text`` fill at most ``width`` terminal columns (wide characters take two)."""
    from tqdm.utils import disp_len as measure  # type: ignore[import-untyped]

    count = used = 0
    for char in text:
        used += measure(char)
        if used > width:
            break
        count += 1
    return count


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` terminal columns, cut in the middle (``photos/.../img_0042.jpg``)."""
    if disp_len(text) <= width:
        return text
    if width <= 3:
        return text[len(text) - _columns(text[::-1], max(width, 0)):]
    head = (width - 3) // 3  # the end (the file's own name) keeps two thirds
    tail = _columns(text[::-1], width - 3 - head)
    return text[:_columns(text, head)] + "..." + text[len(text) - tail:]


def files_text(done: Optional[int], total: Optional[int]) -> str:
    if done is None:
        return ""
    return "%d/%d files" % (done, total) if total is not None else "%d files" % done


def _bar_format(known: bool, name: bool, bar: bool, times: bool, speed: bool, counts: bool, files: bool,
                widths: Optional[Dict[str, int]] = None) -> str:
    """A ``bar_format`` for tqdm (``{speed}`` and ``{files}`` are ours, passed along as extra fields).

    ``widths``: the least width of some fields, to measure a line as wide as it can get while it runs.
    """
    def field(key: str) -> str:
        return "{%s:>%d}" % (key, widths[key]) if widths and key in widths else "{%s}" % key

    parts = ["{percentage:3.0f}%" + ("|{bar}|" if bar else "")] if known else []
    if counts:
        parts.append(field("n_fmt") + ("/{total_fmt}{unit}" if known else "{unit}"))
    stats = [text for text, shown in (("{elapsed}<" + field("remaining") if known else "{elapsed}", times),
                                       (field("speed"), speed), (field("files"), files)) if shown]
    if stats:
        parts.append("[" + ", ".join(stats) + "]")
    return ("{desc}: " if name else "") + " ".join(parts)


def fit(width: int, name: str, done: int, total: Optional[int], elapsed: float, rate: Optional[float],
        files_done: Optional[int] = None, files_total: Optional[int] = None) -> Dict[str, Any]:
    """The ``tqdm.format_meter`` arguments of a line of at most ``width`` characters.

    ``total`` None (not known yet) or 0 (nothing to count): no percentage, no ETA, no bar.
    ``rate`` is the speed to show (None: not measured yet), never tqdm's average since the start,
    which would count bytes that were already there.
    """
    name = "".join(char if char.isprintable() else "?" for char in name)  # a newline in a file name, an escape
    known = bool(total)
    shown_total = max(total or 0, done) if known else None  # more done than expected: 100 %, not "unknown"
    files = files_text(files_done, files_total)
    args: Dict[str, Any] = {
        "n": done, "total": shown_total, "elapsed": elapsed, "ncols": width, "prefix": "",
        "unit": "B", "unit_scale": True, "unit_divisor": 1024, "rate": rate or 0.0,  # 0: tqdm shows no ETA
        "speed": (size_text(rate) + "/s") if rate is not None else "?B/s", "files": files}
    # The numbers that change while a transfer runs are measured at their widest, so that what the line
    # holds stays put from one drawing to the next (the bar takes up what they leave).
    widths = {"n_fmt": 5, "remaining": 5, "speed": 8, "files": len(files_text(files_total, files_total))}
    tqdm = _tqdm()
    for step, (with_name, bar, times, speed, counts) in enumerate(_STEPS):
        counts = counts or not files
        with_name = with_name and bool(name)
        bar = bar and known
        # What the line takes without the name and the bar; what is left goes to them.
        fixed = _bar_format(known, False, bar, times, speed, counts, bool(files), widths).replace("{bar}", "")
        room = width - disp_len(tqdm.format_meter(**dict(args, bar_format=fixed, ncols=None)))
        room -= BAR_MIN if bar else 0
        if with_name:
            room -= 2  # ": "
            if room < min(disp_len(name), NAME_MIN):
                continue
        elif room < 0 and step < len(_STEPS) - 1:
            continue
        args["bar_format"] = _bar_format(known, with_name, bar, times, speed, counts, bool(files))
        args["prefix"] = shorten(name, room) if with_name else ""
        line = tqdm.format_meter(**dict(args, ncols=None)) if room < 0 else ""
        if disp_len(line) > width:  # a terminal narrower than the shortest line: its start, as a literal
            from tqdm.utils import disp_trim  # type: ignore[import-untyped]

            args["line"] = disp_trim(line, width)
            args["bar_format"] = "{line}"
        break
    return args


def render(width: int, name: str, done: int, total: Optional[int], elapsed: float, rate: Optional[float],
           files_done: Optional[int] = None, files_total: Optional[int] = None) -> str:
    """The line :func:`fit` chooses, formatted by tqdm; at most ``width`` characters."""
    return str(_tqdm().format_meter(**fit(width, name, done, total, elapsed, rate, files_done, files_total)))


class Meter:
    """Counts of one transfer or of many, thread-safe; ``clock`` injectable.

    Args:
        total: bytes expected, or None until known (:meth:`set_total`).
        files: count files too (tree commands); their total comes with :meth:`set_total`.
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

    def layout(self, width: int, name: str = "") -> Dict[str, Any]:
        """The ``tqdm.format_meter`` arguments of the line now (:func:`fit`)."""
        files_done, files_total = (self.files_done, self.files_total) if self.files else (None, None)
        return fit(width, name, self.done, self.total, self.elapsed(), self.rate(), files_done, files_total)

    def line(self, width: int, name: str = "") -> str:
        return str(_tqdm().format_meter(**self.layout(width, name)))

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
