"""Which transfer an event belongs to: subscribers, so one progress bar can sum many files.

Every transfer (one upload, one download) gets a :class:`TransferInfo`. Its subscribers hear
``on_queued`` once, ``on_resumed`` once when a multipart upload continues from its resume record
(how many of its blocks are already stored) or a ranged download from its checkpoint (how many of
its parts are on disk; the next ``on_progress`` carries their bytes), ``on_progress`` with byte
deltas (negative when bytes are taken back because a chunk is resent) and ``on_done`` once, with the
exception if it failed.
A subscriber may define only the hooks it needs (:class:`Subscriber` has them all as no-ops). The plain
``progress=callable(delta)`` of the single-file methods is one such subscriber
(:class:`CallbackSubscriber`). Calls for one transfer never overlap: :class:`Notifier` serialises
them, since blocks report from several worker threads. :meth:`Notifier.running` is the one way a
transfer is announced and closed: ``on_queued`` when it starts, ``on_done`` exactly once whatever
happens.
"""

import itertools
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, List, Optional

from wcs.commons.errors import WcsError
from wcs.commons.result import Result

Progress = Callable[[int], None]

_ids = itertools.count(1)


@dataclass(frozen=True)
class TransferInfo:
    """What one transfer is: ``kind`` is ``"upload"`` or ``"download"``; ``size`` None when unknown."""

    kind: str
    bucket: str
    key: str
    path: Optional[str]
    size: Optional[int]
    id: int = 0

    @classmethod
    def new(cls, kind: str, bucket: str, key: str, path: Optional[str], size: Optional[int]) -> "TransferInfo":
        return cls(kind, bucket, key, path, size, next(_ids))


class Subscriber:
    """Base class of transfer observers; override what you need (all calls are no-ops here)."""

    def on_queued(self, transfer: TransferInfo) -> None:
        pass

    def on_resumed(self, transfer: TransferInfo, blocks_done: int, blocks_total: int) -> None:
        """A resumed multipart upload (download): ``blocks_done`` of its ``blocks_total`` blocks (parts) are already
        stored (on disk)."""

    def on_progress(self, transfer: TransferInfo, delta: int) -> None:
        pass

    def on_done(self, transfer: TransferInfo, error: Optional[BaseException]) -> None:
        pass


class CallbackSubscriber(Subscriber):
    """Feeds ``progress(delta)`` from the progress events of any transfer it subscribes to."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def on_progress(self, transfer: TransferInfo, delta: int) -> None:
        self.progress(delta)


class Notifier:
    """The subscribers of one transfer, called one at a time."""

    def __init__(self, transfer: TransferInfo, subscribers: Iterable[Subscriber]) -> None:
        self.transfer = transfer
        self.subscribers: List[Subscriber] = list(subscribers)
        self._lock = threading.Lock()
        self._failure: Optional[BaseException] = None

    @classmethod
    def of(cls, transfer: TransferInfo, progress: Optional[Progress] = None,
           subscribers: Iterable[Subscriber] = ()) -> "Notifier":
        subs = list(subscribers)
        if progress is not None:
            subs.append(CallbackSubscriber(progress))
        return cls(transfer, subs)

    def __bool__(self) -> bool:
        return bool(self.subscribers)

    def _tell(self, hook: str, *args: Any) -> None:
        with self._lock:
            for sub in self.subscribers:
                method = getattr(sub, hook, None)
                if method is not None:
                    method(self.transfer, *args)

    def queued(self) -> None:
        self._tell("on_queued")

    def resumed(self, blocks_done: int, blocks_total: int) -> None:
        self._tell("on_resumed", blocks_done, blocks_total)

    def progress(self, delta: int) -> None:
        if delta and self.subscribers:
            self._tell("on_progress", delta)

    def done(self, error: Optional[BaseException] = None) -> None:
        self._tell("on_done", error)

    @contextmanager
    def running(self) -> Iterator["Notifier"]:
        """``on_queued`` now; ``on_done`` once at the end of the ``with`` block: with the exception that
        ends it, else with the failure of the Result given to :meth:`settle` (None for a success)."""
        self._failure = None
        self.queued()
        try:
            yield self
        except BaseException as exc:
            self.done(exc)
            raise
        self.done(self._failure)

    def settle(self, result: Result) -> Result:
        """How the transfer ended (a failed ``result`` is the error ``on_done`` hears); ``result``."""
        self._failure = None if result.ok else failure_of(result)
        return result


def failure_of(result: Result) -> BaseException:
    """The exception a failed Result stands for (what ``raise_for_status`` raises)."""
    try:
        result.raise_for_status()
    except WcsError as exc:
        return exc
    return WcsError("HTTP %d" % result.code)
