"""What ``sync``, ``put -r`` and ``get -r`` show while they run, on stderr.

:class:`TreeReporter` is both the run's observer (decisions, notes, errors: one line each) and,
through :meth:`TreeReporter.subscribers`, the byte counter of every file transfer, so one line sums
them all. Its counts are of the files the run goes through: a file is done when it was transferred,
found unchanged (skipped), refused or failed, and its bytes count as done then, but only bytes that
crossed the wire make the speed. The total comes from the engine's count of the source
(``on_total``), made while the transfers already run: until it is known the line shows no
percentage and no ETA, only what is done so far.

On a terminal the line is drawn in place by tqdm and fits its width (:func:`wcs.cli.meter.fit`); when
stderr is not a terminal, a status line every ``--stats`` seconds tells a CI log the job is alive;
``--quiet`` silences both, and the per-file lines of ``-v`` and ``--dry-run``. Lines always go
through the context's mask, each on a line of its own; per-file lines a batch at a time (at most
:data:`LINE_BATCH` lines or :data:`LINE_EVERY` seconds late; a note or an error writes them first).
Files found unchanged are counted in bulk (``on_unchanged``), unless ``-v`` lists each of them.
"""

import threading
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from wcs.cli.context import Context
from wcs.cli.meter import Meter, duration_text, size_text
from wcs.cli.progress import Ticker, terminal_width, wants_bar

if TYPE_CHECKING:  # pragma: no cover - tqdm comes with a drawn line only
    from wcs.cli.liveline import LiveLine

_VERBS = {"transfer": None, "skip": "skip", "delete": "delete"}
LINE_BATCH = 200  # per-file lines written at once, at most
LINE_EVERY = 0.2  # seconds a per-file line may wait for others


class _Bytes:
    """The transfer subscriber (``on_queued``/``on_resumed``/``on_progress``/``on_done``)."""

    def __init__(self, reporter: "TreeReporter") -> None:
        self.reporter = reporter
        self.sent: Dict[int, int] = {}
        self.resumed: Dict[int, bool] = {}
        self._lock = threading.Lock()

    def on_queued(self, transfer: Any) -> None:
        pass

    def on_resumed(self, transfer: Any, blocks_done: int, blocks_total: int) -> None:
        if blocks_done:
            with self._lock:
                self.resumed[transfer.id] = True  # the next delta is what was stored before: not speed

    def on_progress(self, transfer: Any, delta: int) -> None:
        with self._lock:
            self.sent[transfer.id] = self.sent.get(transfer.id, 0) + delta
            moved = not self.resumed.pop(transfer.id, False)
        self.reporter.meter.add(delta, moved=moved)
        self.reporter.redraw()

    def on_done(self, transfer: Any, error: Optional[BaseException]) -> None:
        with self._lock:
            sent = self.sent.pop(transfer.id, 0)
            self.resumed.pop(transfer.id, None)
        if error is not None and sent:
            self.reporter.meter.add(-sent, moved=False)  # a failed attempt's bytes are not progress


class TreeReporter:
    """Observer and progress of one tree command; use as a context manager."""

    def __init__(self, ctx: Context, direction: str, *, verbose: bool, dry_run: bool, stats: float) -> None:
        self.ctx = ctx
        self.direction = direction
        self.verbose = verbose and not ctx.quiet
        self.dry_run = dry_run
        self._lock = threading.RLock()
        self._bytes = _Bytes(self)
        self.meter = Meter(files=True)
        self.current = ""  # the file last started, shown on the line
        self._queued: List[str] = []  # per-file lines not written yet, all of one kind
        self._queued_kind = ""
        self._written = time.monotonic()
        self._line: Optional[LiveLine] = None
        self._ticker: Optional[Ticker] = None
        # When the total of the run is first shown (the engine counts the source from then on): at once
        # on a terminal, with the first status line otherwise, never when nothing shows it (a short run
        # is not walked twice for nobody).
        self.total_after: Optional[float] = None
        if dry_run:
            return
        if wants_bar(ctx.stderr, ctx.quiet):
            from wcs.cli import liveline

            self._line = liveline.LiveLine(ctx.stderr, self._layout)
            ctx.live = self._line
            self.total_after = 0.0
        elif not ctx.quiet and stats > 0:
            self._ticker = Ticker(stats, self.status_line, self._say)
            self.total_after = max(stats - 1.0, 0.0)

    # -- counts ---------------------------------------------------------------------------------

    @property
    def files_done(self) -> int:
        return self.meter.files_done

    @property
    def failed(self) -> int:
        return self.meter.failed

    def subscribers(self) -> List[Any]:
        """The ``subscribers=`` of the transfers: the byte counter (also when nothing is drawn: the status line)."""
        return [self._bytes]

    def _layout(self, width: int) -> Dict[str, Any]:
        return self.meter.layout(width, self.current or self.direction)

    def _text(self, width: int) -> str:
        return self.meter.line(width, self.current or self.direction)

    def redraw(self, force: bool = False) -> None:
        if self._line is not None:
            self._line.tick(force)

    def status_line(self) -> str:
        meter = self.meter
        rate = meter.rate()
        if meter.total is None:
            counts = "%d files (counting), %s" % (meter.files_done, size_text(meter.done))
        else:
            counts = "%d of %d files, %s of %s" % (meter.files_done, meter.files_total or 0, size_text(meter.done),
                                                   size_text(meter.total))
        eta = meter.eta(rate)
        return "status: %s, %d failed, %s/s, %s%s" % (counts, meter.failed, size_text(rate or 0),
                                                      duration_text(meter.elapsed()),
                                                      ", ETA %s" % duration_text(eta) if eta is not None else "")

    # -- output ---------------------------------------------------------------------------------

    def _say(self, text: str, kind: str = "") -> None:
        with self._lock:
            self._flush_lines()
            self.ctx.line(text, kind)  # takes the live line off first (ctx.live)

    def _say_file(self, text: str, kind: str) -> None:
        """A per-file line (a dry run's plan, ``-v``): written with others, at most :data:`LINE_BATCH` or
        :data:`LINE_EVERY` seconds later (a write and a flush per line cost more than the decision)."""
        with self._lock:
            if kind != self._queued_kind:
                self._flush_lines()
            self._queued.append(text)
            self._queued_kind = kind
            if len(self._queued) >= LINE_BATCH or time.monotonic() - self._written >= LINE_EVERY:
                self._flush_lines()

    def _flush_lines(self) -> None:
        if self._queued:
            self.ctx.lines(self._queued, self._queued_kind)
            self._queued = []
        self._written = time.monotonic()

    # -- the tree observer ----------------------------------------------------------------------

    def on_total(self, files: int, size: int) -> None:
        """The engine counted the source: the run goes through ``files`` files of ``size`` bytes."""
        self.meter.set_total(size, files)
        self.redraw(force=True)

    def on_action(self, action: Any) -> None:
        size = action.source_size(self.direction)
        if action.op == "transfer":
            self.current = action.rel
        elif action.op in ("skip", "refuse") and action.reason != "excluded":
            # Found unchanged (or not to be taken): done, its bytes too, but none of them moved.
            self.meter.add(size, moved=False)
            self.meter.file_done(failed=action.op == "refuse", unchanged=action.op == "skip")
            self.redraw()
        if action.op not in _VERBS or (action.op == "skip" and not self.verbose):
            return
        if not (self.verbose or (self.dry_run and not self.ctx.quiet)):
            return
        verb = _VERBS[action.op] or ("copy" if self.direction == "remote" else self.direction)
        self._say_file("%s %s (%s)" % (verb, action.rel, action.reason), "dry-run" if self.dry_run else "")

    @property
    def each_unchanged(self) -> bool:
        """Whether each unchanged file must come as its own ``on_action`` (``-v`` prints them)."""
        return self.verbose

    def on_unchanged(self, files: int, size: int) -> None:
        """``files`` more found unchanged (``size`` bytes), told at once."""
        self.meter.add(size, moved=False)
        self.meter.file_done(unchanged=True, count=files)
        self.redraw()

    def on_done(self, action: Any, error: Optional[str]) -> None:
        if action.op != "transfer":
            return
        if error is not None or self.direction == "remote":
            # Gone through, though failed; or copied by the service: no byte crossed this wire.
            self.meter.add(action.source_size(self.direction), moved=False)
        self.meter.file_done(failed=error is not None)
        self.redraw(force=self.meter.files_done == self.meter.files_total)

    def on_note(self, where: str, message: str) -> None:
        self._say("%s: %s" % (where, message), "note")

    def on_error(self, where: str, message: str) -> None:
        self._say("%s: %s" % (where, message), "error")

    def close(self, completed: bool = False) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        with self._lock:
            self._flush_lines()
            if self._line is not None:
                final = ""
                if completed and self.meter.files_done:
                    final = self.meter.final_line(terminal_width(self.ctx.stderr) - 1, self.direction)
                self._line.close(final)
                if self.ctx.live is self._line:
                    self.ctx.live = None
                self._line = None

    def __enter__(self) -> "TreeReporter":
        return self

    def __exit__(self, exc_type: Any, *exc_info: Any) -> None:
        self.close(completed=exc_type is None)
