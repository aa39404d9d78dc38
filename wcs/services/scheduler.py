"""One bounded pool for all the parallel work of a client: blocks, files, ranges.

A :class:`Scheduler` owns at most ``workers`` threads, whatever is asked of it: a directory of N
files of M blocks each is N file tasks and N x M block tasks on the same few threads, never N x M
threads. Tasks are grouped (:class:`TaskGroup`, one per transfer) so that a transfer can be waited
for, stopped or cancelled on its own.

Nesting without deadlock: a task may itself submit tasks and wait for them (a file task waiting
for its blocks). A worker that waits does not sit idle: it runs queued tasks that are nested
deeper than its own while it waits, and idle workers take the deepest queued task first, so
started transfers finish before new ones start. Leaf tasks never wait, so progress is certain.

With ``workers=0`` nothing runs in the background: the thread that waits for a group runs its
tasks, one after the other (the official ``concurrency = 0``).

Cancellation (Ctrl-C): :meth:`TaskGroup.cancel` drops the tasks not started and sets the group's
``cancel_event``; the tasks in flight see it between two pieces of I/O and stop with
:class:`~wcs.commons.errors.Cancelled`. Leaving a group's ``with`` block on an exception cancels
it and waits only for those tasks in flight.
"""

import heapq
import itertools
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Iterator, List, Optional, Set, Tuple

_POLL_S = 0.2  # how often a waiting thread looks up from its condition (keeps Ctrl-C prompt everywhere)
IDLE_EXIT_S = 30.0  # a worker with nothing to do for this long ends; the next task starts a new one


class _Task:
    __slots__ = ("fn", "args", "future", "group", "level")

    def __init__(self, fn: Callable[..., Any], args: Tuple[Any, ...], group: "TaskGroup", level: int) -> None:
        self.fn = fn
        self.args = args
        self.future: Future = Future()
        self.group = group
        self.level = level


class Scheduler:
    """A pool of at most ``workers`` threads shared by every transfer of a client.

    Args:
        workers: the global concurrency budget; 0 runs tasks in the waiting thread.
        name: prefix of the worker thread names.
    """

    def __init__(self, workers: int, name: str = "wcs-transfer") -> None:
        if workers < 0:
            raise ValueError("workers must not be negative")
        self.workers = int(workers)
        self._name = name
        self._cv = threading.Condition()
        self._heap: List[Tuple[int, int, _Task]] = []
        self._seq = itertools.count()
        self._threads: List[threading.Thread] = []
        self._idle = 0
        self._running = 0
        self._closed = False
        self._local = threading.local()

    def group(self) -> "TaskGroup":
        """A new group of tasks (one transfer)."""
        return TaskGroup(self)

    @property
    def running(self) -> int:
        """How many tasks are running right now (in flight), over every group."""
        with self._cv:
            return self._running

    def close(self) -> None:
        """Stop the workers once the queue is empty (they are daemon threads; nothing waits for them).

        Tasks may still be submitted afterwards: they then run in the thread that waits for them.
        """
        with self._cv:
            self._closed = True
            self.workers = 0
            self._cv.notify_all()

    # -- internals shared with TaskGroup ----------------------------------------------------

    def _level(self) -> int:
        return getattr(self._local, "level", 0)

    def _push(self, task: _Task) -> None:
        with self._cv:
            heapq.heappush(self._heap, (-task.level, next(self._seq), task))
            if self.workers and not self._idle and len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name="%s-%d" % (self._name, next(self._seq)),
                                          daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cv.notify_all()

    def _pop(self, deeper_than: int) -> Optional[_Task]:
        """The next queued task if it is nested deeper than ``deeper_than`` (the heap's head is the deepest)."""
        if self._heap and self._heap[0][2].level > deeper_than:
            return heapq.heappop(self._heap)[2]
        return None

    def _run(self, task: _Task) -> None:
        if not task.future.set_running_or_notify_cancel():
            return
        outer = self._level()
        self._local.level = task.level
        with self._cv:
            self._running += 1
        try:
            result = task.fn(*task.args)
        except BaseException as exc:
            task.future.set_exception(exc)
        else:
            task.future.set_result(result)
        finally:
            self._local.level = outer
            with self._cv:
                self._running -= 1
            task.group._finished(task)
            with self._cv:
                self._cv.notify_all()

    def _work(self) -> None:
        self._local.level = 0
        while True:
            with self._cv:
                task = self._pop(0)
                idle_since = time.monotonic()
                while task is None:
                    if self._closed or time.monotonic() - idle_since > IDLE_EXIT_S:
                        # Leave the pool (a closed client, or no work for a while): no thread outlives its use.
                        self._threads.remove(threading.current_thread())
                        return
                    self._idle += 1
                    self._cv.wait(IDLE_EXIT_S)
                    self._idle -= 1
                    task = self._pop(0)
            self._run(task)


class TaskGroup:
    """The tasks of one transfer on a :class:`Scheduler`; use as a context manager.

    ``cancel_event`` is set by :meth:`cancel`; long tasks pass it to their I/O so they stop early.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self.cancel_event = threading.Event()
        self._pending: Set[_Task] = set()  # queued or running
        self._done: List[Future] = []
        self._stopped = False

    def __enter__(self) -> "TaskGroup":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.cancel()
        self.join()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop_new` or :meth:`cancel` was called."""
        return self._stopped

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Queue ``fn(*args)``; a stopped group returns an already cancelled future."""
        task = _Task(fn, args, self, self._scheduler._level() + 1)
        if self._stopped:
            task.future.cancel()
            task.future.set_running_or_notify_cancel()
            return task.future
        with self._scheduler._cv:
            self._pending.add(task)
        self._scheduler._push(task)
        return task.future

    def stop_new(self) -> None:
        """Start no more tasks of this group (queued ones are cancelled); running ones go on."""
        scheduler = self._scheduler
        with scheduler._cv:
            self._stopped = True
            kept = [entry for entry in scheduler._heap if entry[2].group is not self]
            dropped = [entry[2] for entry in scheduler._heap if entry[2].group is self]
            scheduler._heap[:] = kept
            heapq.heapify(scheduler._heap)
        for task in dropped:
            task.future.cancel()
            self._finished(task)

    def cancel(self) -> None:
        """Stop now: drop queued tasks and tell running ones (``cancel_event``) to stop."""
        self.cancel_event.set()
        self.stop_new()

    def as_completed(self) -> Iterator[Future]:
        """Yield each future of this group as it finishes (cancelled ones included), until none is left.

        A worker thread (or any thread, when the scheduler has no workers) runs queued tasks while
        it waits, so waiting never starves the pool.
        """
        scheduler = self._scheduler
        helps = scheduler.workers == 0 or scheduler._level() > 0
        while True:
            task = None
            with scheduler._cv:
                if self._done:
                    finished = self._done.pop(0)
                elif not self._pending:
                    return
                else:
                    finished = None
                    if helps:
                        task = scheduler._pop(scheduler._level())
                    if task is None:
                        scheduler._cv.wait(_POLL_S)
            if finished is not None:
                yield finished
            elif task is not None:
                scheduler._run(task)

    def join(self) -> None:
        """Wait until no task of this group is queued or running."""
        for _ in self.as_completed():
            pass

    def _finished(self, task: _Task) -> None:
        with self._scheduler._cv:
            if task in self._pending:
                self._pending.discard(task)
                self._done.append(task.future)
            self._scheduler._cv.notify_all()
