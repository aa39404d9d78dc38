"""Transfer progress for the CLI, on stderr: a line that tells the truth, drawn only for a human watching.

What the line says is :mod:`wcs.cli.meter` (counts, speed, ETA, fitting a width); this module draws it.

:class:`LiveLine` draws a line in place on a terminal at most ten times a second; a message
(:meth:`wcs.cli.context.Context.line`, a log line) first takes it off the line, so every message
starts on a line of its own. When stderr is no terminal, :class:`Ticker` prints a status line every
``--stats`` seconds instead. :class:`Progress` is the bar of one transfer (``put``, ``get``,
``multiput``, ``cat``); :mod:`wcs.cli.tree_progress` sums many files. ``--quiet`` silences both.
"""

import os
import threading
import time
from typing import IO, Any, Callable, List, Optional

from wcs.cli.meter import Meter, duration_text, size_text

REDRAW = 0.1  # seconds between two drawings of a live line
CLEAR = "\r\x1b[K"  # carriage return, erase to the end of the line


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
