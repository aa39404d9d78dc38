"""The line a terminal shows while a transfer runs: a tqdm bar drawn from a :class:`~wcs.cli.meter.Meter`.

Apart from :mod:`wcs.cli.progress` so that tqdm is imported only by a run that draws a line (a
terminal, not ``--quiet``): see that module for what is drawn when.
"""

import threading
import time
from typing import IO, Any, Callable, Dict
from weakref import WeakSet

from tqdm import tqdm  # type: ignore[import-untyped]

from wcs.cli.meter import REDRAW, terminal_width


class _Stderr:
    """What tqdm writes to: the run's stderr, where a failed write or flush is dropped.

    tqdm itself gives up quietly only on EIO and "closed file"; a reader gone (EPIPE) or a full disk
    behind a redirection would raise from the transfer's thread. Progress is not worth failing for.
    """

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.encoding = getattr(stream, "encoding", None)  # tqdm draws block characters only on UTF-8

    def write(self, text: str) -> None:
        try:
            self.stream.write(text)
        except (OSError, ValueError):  # ValueError: a closed file, a character the encoding lacks
            pass

    def flush(self) -> None:
        try:
            self.stream.flush()
        except (OSError, ValueError):
            pass


class LiveLine(tqdm):
    """A line redrawn in place on a terminal, by tqdm; :meth:`clear` takes it off so a message can be written.

    Args:
        stream: the terminal (stderr).
        layout: the ``tqdm.format_meter`` arguments of the line for a width (:meth:`Meter.layout`).
        clock: seconds, for the redraw interval (the meter has its own).
    """

    monitor_interval = 0  # no monitor thread: every drawing follows an update or a message
    _instances: "WeakSet[Any]" = WeakSet()  # apart from other tqdm bars in the process: always line 0
    _lock = threading.RLock()  # tqdm's default also takes a multiprocessing lock: not needed here

    def __init__(self, stream: IO[str], layout: Callable[[int], Dict[str, Any]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._layout = layout
        self.stream = stream
        self._stderr = _Stderr(stream)
        self.closed = False
        # delay: nothing is drawn before the first update (the total may come just after the start).
        super().__init__(file=self._stderr, total=None, leave=False, position=0, mininterval=REDRAW,
                         miniters=0, smoothing=0, unit="B", delay=REDRAW)
        # tqdm times its redraws with time.time; the tests' clock (and the meter's) is injected here.
        self._time = clock
        self.start_t = self.last_print_t = clock()

    @property
    def format_dict(self) -> Dict[str, Any]:
        # One column less than the terminal: writing the last column wraps on some terminals.
        args = self._layout(terminal_width(self.stream) - 1)
        args["ascii"] = self.ascii
        return args

    def tick(self, force: bool = False) -> None:
        """Draw the line, unless it was drawn less than :data:`REDRAW` seconds ago (and not ``force``)."""
        with self._lock:  # one thread at a time through tqdm's check of the interval
            if force:
                self.refresh()
            else:
                self.update(0)  # the counts are the meter's: tqdm's own counter only decides when to redraw

    def close(self, final: str = "") -> None:
        """Take the line off; ``final`` is written in its place, as a line of its own."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self.clear()  # also a line only forced out (tqdm's close clears only after an update drew it)
            super().close()
            if final:
                self._stderr.write(final + "\n")
                self._stderr.flush()
