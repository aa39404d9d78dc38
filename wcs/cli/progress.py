"""Transfer progress for the CLI: a tqdm bar on stderr, drawn only for a human watching.

The library reports progress as ``progress(bytes_delta)`` calls (possibly from several upload
threads, possibly negative when a retried chunk is rewound); this module turns those into a bar.
No bar is drawn when stderr is not a terminal (logs and pipes stay clean) or with ``--quiet``; then
:attr:`Progress.callback` is None, so the library does not even pay for the calls.
"""

import threading
from typing import IO, Any, Callable, List, Optional


class Progress:
    """A byte counter bar; use as a context manager so the bar is closed on every path.

    Args:
        total: expected number of bytes, or None when unknown.
        desc: short label shown left of the bar (usually the file or key name).
        enabled: draw at all; see :func:`open_progress` for the usual decision.
        stream: where to draw (stderr).
    """

    def __init__(self, total: Optional[int], desc: str, *, enabled: bool, stream: IO[str]) -> None:
        self._lock = threading.Lock()
        self._bar: Any = None
        if enabled:
            # Imported here: commands without a transfer never pay for it.
            from tqdm import tqdm  # type: ignore[import-untyped]

            self._bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                             file=stream, leave=False, dynamic_ncols=True)

    @property
    def callback(self) -> Optional[Callable[[int], None]]:
        """The ``progress=`` argument for the Client: a callable, or None when nothing is drawn."""
        return self.update if self._bar is not None else None

    def update(self, delta: int) -> None:
        # Upload blocks run on a thread pool; tqdm's counter is not safe against concurrent updates.
        if self._bar is not None and delta:
            with self._lock:
                self._bar.update(delta)

    def subscribers(self) -> List[Any]:
        """The ``subscribers=`` argument for the Client: this bar, or none when nothing is drawn.

        As a subscriber (the SDK's ``on_queued``/``on_progress``/``on_done`` protocol) the bar learns
        the size of a transfer when it is queued, so a download whose size only the service knows
        still gets a percentage.
        """
        return [self] if self._bar is not None else []

    def on_queued(self, transfer: Any) -> None:
        size = getattr(transfer, "size", None)
        if self._bar is not None and size and not self._bar.total:
            with self._lock:
                self._bar.total = size
                self._bar.refresh()

    def on_progress(self, transfer: Any, delta: int) -> None:
        self.update(delta)

    def on_done(self, transfer: Any, error: Optional[BaseException]) -> None:
        pass

    def clear(self) -> None:
        """Take the bar off the line, so a message can be written there (it is redrawn on the next update)."""
        if self._bar is not None:
            with self._lock:
                self._bar.clear()

    def close(self) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.close()
                self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def wants_bar(stream: IO[str], quiet: bool) -> bool:
    """Draw a bar only for an interactive terminal and when not silenced."""
    if quiet:
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed or detached stream
        return False


def open_progress(total: Optional[int], desc: str, *, stream: IO[str], quiet: bool = False) -> Progress:
    """A :class:`Progress` on ``stream`` (the run's stderr), enabled per :func:`wants_bar`."""
    return Progress(total, desc, enabled=wants_bar(stream, quiet), stream=stream)
