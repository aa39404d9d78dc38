"""Durable records shared by the workers of one transfer, written once for the changes made together.

A multipart upload records every block the service confirmed, a ranged download every part on
disk, so that a re-run after a kill does not send or fetch them again; each record write costs a
temp file, an fsync, a rename and an fsync of the folder. The parts of one transfer progress at the
same rate on a shared link and finish in waves: when each worker wrote the record in turn under a
lock, the last worker of a wave of sixteen waited for fifteen writes, its connection idle.

:class:`GroupCommit` keeps the guarantee (a worker goes on only once a record holding its change is
on disk) without the queue: a worker that finds a write under way does not start one of its own
behind it, the next write carries every change made meanwhile.
"""

import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Apply changes to a shared record and make them durable, sharing writes between workers.

    Args:
        snapshot: what to write, taken while no change is being applied (the record's text).
        write: stores a snapshot durably; may raise (``OSError``).
    """

    def __init__(self, snapshot: Callable[[], T], write: Callable[[T], None]) -> None:
        self._snapshot = snapshot
        self._write = write
        self._cv = threading.Condition()
        self._changes = 0  # changes applied so far
        self._saved = 0  # how many of them the record on disk holds
        self._writing = False

    def commit(self, change: Callable[[], None]) -> None:
        """Apply ``change`` (under the lock) and return once a write including it is on disk.

        Raises:
            OSError: the write failed (also in each worker whose change that write carried: each of
                them then tries a write of its own).
        """
        with self._cv:
            change()
            self._changes += 1
            mine = self._changes
            while self._saved < mine:
                if self._writing:
                    self._cv.wait(0.2)  # a timeout keeps Ctrl-C prompt when the caller is the main thread
                    continue
                self._writing = True
                covered, snapshot = self._changes, self._snapshot()
                self._cv.release()
                try:
                    self._write(snapshot)
                finally:
                    self._cv.acquire()
                    self._writing = False
                    self._cv.notify_all()
                self._saved = max(self._saved, covered)
