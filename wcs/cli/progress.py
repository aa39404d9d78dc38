"""Transfer progress for the CLI, on stderr: a line that tells the truth, drawn only for a human watching.

What the line says is :mod:`wcs.cli.meter` (counts, speed, which layout fits a width); tqdm formats
and draws it. :class:`~wcs.cli.liveline.LiveLine` is a tqdm bar whose numbers come from a
:class:`~wcs.cli.meter.Meter` (its ``format_dict``), redrawn in place at most every :data:`~wcs.cli.meter.REDRAW`
seconds (tqdm's ``mininterval``); a message (:meth:`wcs.cli.context.Context.line`, a log line) first
takes it off the line (tqdm's ``clear``), so every message starts on a line of its own. When stderr is
no terminal, :class:`Ticker` prints a status line every ``--stats`` seconds instead. :class:`Progress`
is the bar of one transfer (``put``, ``get``, ``multiput``, ``cat``); :mod:`wcs.cli.tree_progress`
sums many files. ``--quiet`` silences both. A closed or broken stderr never fails a command: what
cannot be written is dropped. tqdm is imported only when a line is drawn or formatted: a quiet run, or
one whose stderr is no terminal and prints no status line, does without it.
"""

import threading
import time
from typing import IO, TYPE_CHECKING, Any, Callable, List, Optional

from wcs.cli.meter import Meter, duration_text, size_text, terminal_width

if TYPE_CHECKING:  # pragma: no cover - tqdm comes with a drawn line only
    from wcs.cli.liveline import LiveLine

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
            from wcs.cli import liveline

            self._line = liveline.LiveLine(stream, lambda width: self.meter.layout(width, self.desc), clock)
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
            self._line.tick()

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
