"""Transfer progress for the CLI, on stderr: a line that tells the truth, drawn only for a human watching.

:class:`Meter` counts (pure, clock injectable): bytes done and bytes *moved*, which differ by what
was already there (the stored blocks of a resumed multiput, files a sync found unchanged): only
moved bytes make the speed, measured over the last seconds rather than since the start. Without
a known total there is no percentage and no ETA. :func:`render` fits a line to the terminal width:
the percentage, the byte and file counts always stay; a name (shortened in the middle), the speed,
the ETA and a bar get what room is left, in that order.

:class:`LiveLine` draws a line in place on a terminal at most ten times a second; a message
(:meth:`wcs.cli.context.Context.line`, a log line) first takes it off the line, so every message
starts on a line of its own. When stderr is no terminal, :class:`Ticker` prints a status line every
``--stats`` seconds instead. :class:`Progress` is the bar of one transfer (``put``, ``get``,
``multiput``, ``cat``); :mod:`wcs.cli.tree_progress` sums many files. ``--quiet`` silences both.
"""

import collections
import os
import threading
import time
from typing import IO, Any, Callable, Deque, List, Optional, Tuple

MIN_RATE_SPAN = 0.5  # seconds of samples before a speed is shown
RATE_WINDOW = 10.0  # the speed is that of the last RATE_WINDOW seconds
REDRAW = 0.1  # seconds between two drawings of a live line
CLEAR = "\r\x1b[K"  # carriage return, erase to the end of the line
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
                if now - self._samples[-1][0] >= REDRAW:
                    self._samples.append((now, self.moved))
                while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW:
                    self._samples.popleft()

    def file_done(self, failed: bool = False, unchanged: bool = False) -> None:
        with self._lock:
            self.files_done += 1
            self.failed += 1 if failed else 0
            self.unchanged += 1 if unchanged else 0

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


def terminal_width(stream: IO[str], default: int = 80) -> int:
    """Columns of the terminal ``stream`` writes to (``default`` when it cannot tell)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or default
    except (AttributeError, ValueError, OSError):
        return default


class LiveLine:
    """A line redrawn in place on a terminal; :meth:`clear` takes it off so a message can be written.

    Args:
        stream: the terminal (stderr).
        text: builds the line for a width.
    """

    def __init__(self, stream: IO[str], text: Callable[[int], str],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self._text = text
        self._clock = clock
        self._lock = threading.RLock()
        self._drawn = False
        self._last = -REDRAW
        self.closed = False

    def update(self, force: bool = False) -> None:
        """Draw the line, unless it was drawn less than :data:`REDRAW` seconds ago (and not ``force``)."""
        with self._lock:
            now = self._clock()
            if self.closed or (not force and now - self._last < REDRAW):
                return
            self._last = now
            # One column less than the terminal: writing the last column wraps on some terminals.
            self._write(CLEAR + self._text(terminal_width(self.stream) - 1))
            self._drawn = True

    def clear(self) -> None:
        with self._lock:
            if self._drawn:
                self._write(CLEAR)
                self._drawn = False
                self._last = -REDRAW  # drawn again at the next update, below the message

    def close(self, final: str = "") -> None:
        """Take the line off; ``final`` is written in its place, as a line of its own."""
        with self._lock:
            if self.closed:
                return
            self.clear()
            if final:
                self._write(final + "\n")
            self.closed = True

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr: progress is not worth failing for
            pass


class Ticker:
    """A status line every ``interval`` seconds through ``say``, until :meth:`stop` (stderr no terminal)."""

    def __init__(self, interval: float, text: Callable[[], str], say: Callable[[str], None]) -> None:
        self._stop = threading.Event()
        self._text = text
        self._say = say
        self._thread = threading.Thread(target=self._run, args=(interval,), name="wcs-stats", daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self._say(self._text())
            except (OSError, ValueError):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def wants_bar(stream: IO[str], quiet: bool) -> bool:
    """Draw a bar only for an interactive terminal and when not silenced."""
    if quiet:
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed or detached stream
        return False


class Progress:
    """The progress of one transfer; use as a context manager so the line is closed on every path.

    Also a transfer subscriber (``on_queued``/``on_resumed``/``on_progress``/``on_done``), so a
    download whose size only the service knows still gets its total, and the stored blocks of a
    resumed upload count as done but not as speed.

    Args:
        total: expected number of bytes, or None when unknown.
        desc: the name shown (the file or key).
        enabled: draw at all; see :func:`open_progress` for the usual decision.
        stream: where to draw (stderr).
        ctx: the run's :class:`~wcs.cli.context.Context`: its messages take the line off first.
        stats: with ``enabled`` False and a ``ctx``, a status line every ``stats`` seconds (0: none).
    """

    def __init__(self, total: Optional[int], desc: str, *, enabled: bool, stream: IO[str], ctx: Any = None,
                 stats: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.desc = desc
        self.meter = Meter(total, clock=clock)
        self._ctx = ctx
        self._line: Optional[LiveLine] = None
        self._ticker: Optional[Ticker] = None
        self._resumed = False  # the next delta is what a resumed upload had stored before
        if enabled:
            self._line = LiveLine(stream, lambda width: self.meter.line(width, self.desc), clock)
            if ctx is not None:
                ctx.live = self._line
        elif ctx is not None and stats > 0:
            self._ticker = Ticker(stats, self.status_line, lambda text: ctx.line(text))

    @property
    def active(self) -> bool:
        return self._line is not None or self._ticker is not None

    @property
    def callback(self) -> Optional[Callable[[int], None]]:
        """The ``progress=`` argument for the Client: a callable, or None when nothing is shown."""
        return self.update if self.active else None

    def set_total(self, total: Optional[int]) -> None:
        if total is not None:
            self.meter.set_total(total)

    def update(self, delta: int) -> None:
        # The stored blocks of a resumed upload arrive as the first delta after on_resumed: not speed.
        moved, self._resumed = not self._resumed, False
        self.meter.add(delta, moved=moved)
        if self._line is not None and delta:
            self._line.update()

    def status_line(self) -> str:
        meter = self.meter
        rate = meter.rate()
        total = "" if meter.total is None else " of %s" % size_text(meter.total)
        return "status: %s: %s%s, %s/s, %s" % (self.desc, size_text(meter.done), total,
                                               size_text(rate or 0), duration_text(meter.elapsed()))

    def subscribers(self) -> List[Any]:
        """The ``subscribers=`` argument for the Client: this bar, or none when nothing is shown."""
        return [self] if self.active else []

    def on_queued(self, transfer: Any) -> None:
        size = getattr(transfer, "size", None)
        if size and self.meter.total is None:
            self.meter.set_total(size)

    def on_resumed(self, transfer: Any, blocks_done: int, blocks_total: int) -> None:
        if blocks_done:
            self._resumed = True

    def on_progress(self, transfer: Any, delta: int) -> None:
        self.update(delta)

    def on_done(self, transfer: Any, error: Optional[BaseException]) -> None:
        pass

    def clear(self) -> None:
        """Take the line off, so a message can be written there (it is drawn again on the next update)."""
        if self._line is not None:
            self._line.clear()

    def close(self, completed: bool = False) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        if self._line is not None:
            final = ""
            if completed and self.meter.done:
                final = self.meter.final_line(terminal_width(self._line.stream) - 1, self.desc)
            self._line.close(final)
            if self._ctx is not None and self._ctx.live is self._line:
                self._ctx.live = None
            self._line = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type: Any, *exc_info: Any) -> None:
        self.close(completed=exc_type is None)


def open_progress(total: Optional[int], desc: str, *, stream: IO[str], quiet: bool = False,
                  ctx: Any = None) -> Progress:
    """A :class:`Progress` on ``stream`` (the run's stderr): a bar on a terminal (per :func:`wants_bar`),
    else, with ``ctx``, a status line every ``ctx.stats`` seconds."""
    stats = 0.0 if quiet or ctx is None else float(getattr(ctx, "stats", 0.0) or 0.0)
    return Progress(total, desc, enabled=wants_bar(stream, quiet), stream=stream, ctx=ctx, stats=stats)
