"""Which transfer an event belongs to: subscribers, so one progress bar can sum many files.

Every transfer (one upload, one download) gets a :class:`TransferInfo`. Its subscribers hear
``on_queued`` once, ``on_progress`` with byte deltas (negative when bytes are taken back because a
chunk is resent) and ``on_done`` once, with the exception if it failed. The plain
``progress=callable(delta)`` of the single-file methods is one such subscriber
(:class:`CallbackSubscriber`). Calls for one transfer never overlap: :class:`Notifier` serialises
them, since blocks report from several worker threads.
"""

import itertools
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional

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

    @classmethod
    def of(cls, transfer: TransferInfo, progress: Optional[Progress] = None,
           subscribers: Iterable[Subscriber] = ()) -> "Notifier":
        subs = list(subscribers)
        if progress is not None:
            subs.append(CallbackSubscriber(progress))
        return cls(transfer, subs)

    def __bool__(self) -> bool:
        return bool(self.subscribers)

    def queued(self) -> None:
        with self._lock:
            for sub in self.subscribers:
                sub.on_queued(self.transfer)

    def progress(self, delta: int) -> None:
        if delta and self.subscribers:
            with self._lock:
                for sub in self.subscribers:
                    sub.on_progress(self.transfer, delta)

    def done(self, error: Optional[BaseException] = None) -> None:
        with self._lock:
            for sub in self.subscribers:
                sub.on_done(self.transfer, error)
