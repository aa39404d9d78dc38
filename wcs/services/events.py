"""Which transfer an event belongs to: subscribers, so one progress bar can sum many files.

Every transfer (one upload, one download) gets a :class:`TransferInfo`. Its subscribers hear
``on_queued`` once, ``on_resumed`` once when a multipart upload continues from its resume record
(how many of its blocks are already stored), ``on_progress`` with byte deltas (negative when bytes
are taken back because a chunk is resent) and ``on_done`` once, with the exception if it failed.
A subscriber may define only the hooks it needs (:class:`Subscriber` has them all as no-ops). The plain
``progress=callable(delta)`` of the single-file methods is one such subscriber
(:class:`CallbackSubscriber`). Calls for one transfer never overlap: :class:`Notifier` serialises
them, since blocks report from several worker threads.
"""

import itertools
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Optional

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
        """A resumed multipart upload: ``blocks_done`` of its ``blocks_total`` blocks are already stored."""

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
