"""What ``sync``, ``put -r`` and ``get -r`` show while they run, on stderr.

:class:`TreeReporter` is both the run's observer (decisions, notes, errors: one line each) and,
through :meth:`TreeReporter.subscribers`, the byte counter of every file transfer, so one overall
bar sums them all: bytes and files, rate and ETA (tqdm). The bar's total grows as files are
planned (the plan is streamed, so it is not known up front). On a terminal the bar is drawn; when
stderr is not a terminal, a status line every ``--stats`` seconds tells a CI log the job is alive;
``--quiet`` silences both. Lines always go through the context's mask, and above the bar.
"""

import threading
import time
from typing import Any, Dict, List, Optional

from wcs.cli.context import Context
from wcs.cli.progress import wants_bar

_VERBS = {"transfer": None, "skip": "skip", "delete": "delete"}


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return ("%d %s" % (count, unit)) if unit == "B" else "%.1f %s" % (count, unit)
        count /= 1024.0
    return "%.1f TiB" % count  # pragma: no cover


class _Bytes:
    """The transfer subscriber (``on_queued``/``on_progress``/``on_done`` of :mod:`wcs.services.events`)."""

    def __init__(self, reporter: "TreeReporter") -> None:
        self.reporter = reporter
        self.sent: Dict[int, int] = {}

    def on_queued(self, transfer: Any) -> None:
        pass

    def on_progress(self, transfer: Any, delta: int) -> None:
        with self.reporter._lock:
            self.sent[transfer.id] = self.sent.get(transfer.id, 0) + delta
        self.reporter._add_bytes(delta)

    def on_done(self, transfer: Any, error: Optional[BaseException]) -> None:
        with self.reporter._lock:
            sent = self.sent.pop(transfer.id, 0)
        if error is not None and sent:
            self.reporter._add_bytes(-sent)  # a failed file's bytes are not progress


class TreeReporter:
    """Observer and progress of one tree command; use as a context manager."""

    def __init__(self, ctx: Context, direction: str, *, verbose: bool, dry_run: bool, stats: float) -> None:
        self.ctx = ctx
        self.direction = direction
        self.verbose = verbose
        self.dry_run = dry_run
        self._lock = threading.RLock()
        self._bytes = _Bytes(self)
        self.bytes_done = 0
        self.files_done = 0
        self.failed = 0
        self.planned_files = 0
        self.planned_bytes = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        self._bar: Any = None
        self._stop = threading.Event()
        self._ticker: Optional[threading.Thread] = None
        if dry_run:
            return
        if wants_bar(ctx.stderr, ctx.quiet):
            from tqdm import tqdm  # type: ignore[import-untyped]

            self._bar = tqdm(total=0, desc=direction, unit="B", unit_scale=True, unit_divisor=1024,
                             file=ctx.stderr, leave=False, dynamic_ncols=True)
        elif not ctx.quiet and stats > 0:
            self._ticker = threading.Thread(target=self._tick, args=(stats,), name="wcs-stats", daemon=True)
            self._ticker.start()

    def subscribers(self) -> List[Any]:
        """The ``subscribers=`` of the transfers: the byte counter (also when nothing is drawn: the status line)."""
        return [self._bytes]

    # -- output ---------------------------------------------------------------------------------

    def _line(self, text: str, kind: str = "") -> None:
        with self._lock:
            if self._bar is None:
                self.ctx.line(text, kind)
                return
            from tqdm import tqdm

            prefix = "%s: %s" % (self.ctx.prog, kind + ": " if kind else "")
            tqdm.write(self.ctx.mask(prefix + " ".join(str(text).splitlines())), file=self.ctx.stderr)

    def _add_bytes(self, delta: int) -> None:
        with self._lock:
            self.bytes_done += delta
            if self._bar is not None and delta:
                self._bar.update(delta)

    def status_line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return "status: %d of %d files, %s of %s, %d failed, %s/s, %.0f s" % (
            self.files_done, self.planned_files, _size(self.bytes_done), _size(self.planned_bytes), self.failed,
            _size(self.bytes_done / elapsed), elapsed)

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._line(self.status_line())

    def _files_postfix(self) -> None:
        if self._bar is not None:
            # Redrawn at most 10 times a second (thousands of small files), and when all planned are done.
            now = time.monotonic()
            refresh = now - self._drawn >= 0.1 or self.files_done == self.planned_files
            self._bar.set_postfix_str("%d/%d files" % (self.files_done, self.planned_files), refresh=refresh)
            if refresh:
                self._drawn = now

    # -- the tree observer ----------------------------------------------------------------------

    def on_action(self, action: Any) -> None:
        if action.op == "transfer":
            with self._lock:
                self.planned_files += 1
                self.planned_bytes += action.source_size(self.direction)
                if self._bar is not None:
                    self._bar.total = self.planned_bytes
                    self._files_postfix()
        if action.op not in _VERBS or (action.op == "skip" and not self.verbose):
            return
        if not (self.verbose or self.dry_run):
            return
        verb = _VERBS[action.op] or self.direction
        self._line("%s %s (%s)" % (verb, action.rel, action.reason), "dry-run" if self.dry_run else "")

    def on_done(self, action: Any, error: Optional[str]) -> None:
        if action.op == "transfer" and error is None:
            with self._lock:
                self.files_done += 1
                self._files_postfix()

    def on_note(self, where: str, message: str) -> None:
        self._line("%s: %s" % (where, message), "note")

    def on_error(self, where: str, message: str) -> None:
        with self._lock:
            self.failed += 1
        self._line("%s: %s" % (where, message), "error")

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    def __enter__(self) -> "TreeReporter":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
