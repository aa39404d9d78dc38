"""One bounded pool per client for all its parallel work: blocks, files, ranges.

A :class:`Scheduler` owns at most ``workers`` threads, whatever is asked of it: a directory of N
files of M blocks each is N file tasks and N x M block tasks on the same few threads, never N x M
threads. Tasks are grouped (:class:`TaskGroup`, one per transfer) so that a transfer can be waited
for, stopped or cancelled on its own. The pool is sized when its client is built and only grows
(:meth:`Scheduler.grow`: a tree asking for more files at once than ``concurrency``); threads start
when there is work and leave after a while without any.

Nesting without deadlock: a task may itself submit tasks and wait for them (a file task waiting
for its blocks). A worker that waits does not sit idle: it runs queued tasks that are nested
deeper than its own while it waits, and idle workers take the deepest queued task first, so
started transfers finish before new ones start. Leaf tasks never wait, so progress is certain.

In the calling thread (the official ``concurrency = 0``): a group of a pool without workers, or of
the view :meth:`Scheduler.calling_thread`, keeps its tasks to itself; the thread that waits for the
group runs them, one after the other, and never a task of another group. Two threads (or two
clients) with ``concurrency = 0`` never run each other's tasks.

Wake-ups are targeted: a queued task wakes one idle worker (or starts one), a finished task wakes
only the threads waiting for its group, so a worker is not woken for work it will not do (with many
small tasks, waking every thread at every push and finish cost more than the tasks). A waiting
worker that could help with a deeper task is woken only when no idle worker is left to take it.

Cancellation (Ctrl-C): :meth:`TaskGroup.cancel` drops the tasks not started and sets the group's
``cancel_event``; the tasks in flight see it between two pieces of I/O and stop with
:class:`~wcs.commons.errors.Cancelled`. Leaving a group's ``with`` block on an exception cancels
it and waits only for those tasks in flight.
"""

import copy
import heapq
import itertools
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Deque, Iterator, List, Optional, Set, Tuple

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


class _Pool:
    """The threads, the shared queue (deepest task first) and the lock every group of a pool uses."""

    def __init__(self, workers: int, name: str) -> None:
        self.workers = workers
        self.name = name
        self.lock = threading.Lock()
        self.work_cv = threading.Condition(self.lock)  # idle workers wait here
        self.heap: List[Tuple[int, int, _Task]] = []
        self.seq = itertools.count()
        self.threads: List[threading.Thread] = []
        self.idle = 0
        self.running = 0
        self.closed = False
        self.local = threading.local()
        self.helpers: List[Tuple[int, threading.Condition]] = []  # (level, cv) of workers waiting for a group

    def level(self) -> int:
        return getattr(self.local, "level", 0)

    def on_worker(self) -> bool:
        return getattr(self.local, "worker", False)

    def push(self, task: _Task) -> None:
        with self.lock:
            heapq.heappush(self.heap, (-task.level, next(self.seq), task))
            # A new thread when the queue holds more than the idle threads will take (a burst, a pool
            # that has just grown), up to the pool's size.
            started = False
            if len(self.heap) > self.idle and len(self.threads) < self.workers:
                thread = threading.Thread(target=self.work, name="%s-%d" % (self.name, next(self.seq)), daemon=True)
                self.threads.append(thread)
                thread.start()
                started = True
            if self.idle:
                self.work_cv.notify()
            elif not started:
                if not self.threads:
                    task.group._cv.notify_all()  # no worker at all: the waiter runs its own tasks
                for level, cv in self.helpers:  # every worker is busy: one waiting for its group may help
                    if task.level > level:
                        cv.notify_all()
                        break

    def pop(self, deeper_than: int, group: Optional["TaskGroup"] = None) -> Optional[_Task]:
        """The next queued task nested deeper than ``deeper_than`` (of ``group`` only, when given)."""
        if group is not None:
            for index, entry in enumerate(self.heap):
                if entry[2].group is group:
                    self.heap[index] = self.heap[-1]
                    self.heap.pop()
                    heapq.heapify(self.heap)
                    return entry[2]
            return None
        if self.heap and self.heap[0][2].level > deeper_than:
            return heapq.heappop(self.heap)[2]
        return None

    def run(self, task: _Task) -> None:
        if not task.future.set_running_or_notify_cancel():
            return
        outer = self.level()
        self.local.level = task.level
        with self.lock:
            self.running += 1
        try:
            result = task.fn(*task.args)
        except BaseException as exc:
            task.future.set_exception(exc)
        else:
            task.future.set_result(result)
        finally:
            self.local.level = outer
            with self.lock:
                self.running -= 1
            task.group._finished(task)

    def work(self) -> None:
        self.local.level = 0
        self.local.worker = True
        while True:
            with self.lock:
                task = self.pop(0)
                idle_since = time.monotonic()
                while task is None:
                    if self.closed or time.monotonic() - idle_since > IDLE_EXIT_S:
                        # Leave the pool (a closed client, or no work for a while): no thread outlives its use.
                        self.threads.remove(threading.current_thread())
                        return
                    self.idle += 1
                    self.work_cv.wait(IDLE_EXIT_S)
                    self.idle -= 1
                    task = self.pop(0)
            self.run(task)


class Scheduler:
    """A pool of at most ``workers`` threads shared by every transfer of a client.

    Args:
        workers: the global concurrency budget; 0 runs tasks in the thread that waits for them.
        name: prefix of the worker thread names.
    """

    def __init__(self, workers: int, name: str = "wcs-transfer") -> None:
        if int(workers) < 0:
            raise ValueError("workers must not be negative")
        self._pool = _Pool(int(workers), name)
        self._inline = False

    @property
    def workers(self) -> int:
        """The threads this scheduler's groups may use (0 for the calling-thread view)."""
        return 0 if self._inline else self._pool.workers

    @property
    def _threads(self) -> List[threading.Thread]:
        return self._pool.threads

    def grow(self, workers: int) -> "Scheduler":
        """Allow at least ``workers`` threads from now on (never fewer than before); self."""
        pool = self._pool
        with pool.lock:
            if not pool.closed and int(workers) > pool.workers:
                pool.workers = int(workers)
        return self

    def calling_thread(self) -> "Scheduler":
        """This pool as a transfer of ``concurrency = 0`` uses it: its groups' tasks run in the thread
        that waits for them (the official sequential upload), counted in :attr:`running` like the others."""
        view = copy.copy(self)
        view._inline = True
        return view

    def group(self, urgent: bool = False) -> "TaskGroup":
        """A new group of tasks (one transfer); an ``urgent`` group's tasks are taken before the others
        submitted at the same depth (short tasks others wait for, e.g. the pages of a listing)."""
        return TaskGroup(self._pool, inline=self._inline or self._pool.workers == 0, urgent=urgent)

    @property
    def running(self) -> int:
        """How many tasks are running right now (in flight), over every group."""
        with self._pool.lock:
            return self._pool.running

    def close(self) -> None:
        """Stop the workers once the queue is empty (they are daemon threads; nothing waits for them).

        Tasks may still be submitted afterwards: they then run in the thread that waits for them.
        """
        pool = self._pool
        with pool.lock:
            pool.closed = True
            pool.workers = 0
            pool.work_cv.notify_all()


class TaskGroup:
    """The tasks of one transfer on a :class:`Scheduler`; use as a context manager.

    ``cancel_event`` is set by :meth:`cancel`; long tasks pass it to their I/O so they stop early.
    An ``inline`` group's tasks are run only by the thread that waits for the group.
    """

    def __init__(self, pool: _Pool, inline: bool = False, urgent: bool = False) -> None:
        self._pool = pool
        self.inline = inline
        # Its tasks are nested below the thread that made the group, whichever thread submits them (a
        # tree run's workers add workers to their own group): a waiting thread can always help.
        self._level = pool.level() + (2 if urgent else 1)
        self.cancel_event = threading.Event()
        self._cv = threading.Condition(pool.lock)  # the threads waiting for this group wait here
        self._pending: Set[_Task] = set()  # queued or running
        self._queue: Deque[_Task] = deque()  # an inline group's tasks not started yet
        self._done: Deque[Future] = deque()
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
        pool = self._pool
        task = _Task(fn, args, self, self._level)
        if self._stopped:
            task.future.cancel()
            task.future.set_running_or_notify_cancel()
            return task.future
        with pool.lock:
            self._pending.add(task)
            if self.inline:
                self._queue.append(task)
                return task.future
        pool.push(task)
        return task.future

    def stop_new(self) -> None:
        """Start no more tasks of this group (queued ones are cancelled); running ones go on."""
        pool = self._pool
        with pool.lock:
            self._stopped = True
            dropped = list(self._queue) + [entry[2] for entry in pool.heap if entry[2].group is self]
            self._queue.clear()
            pool.heap[:] = [entry for entry in pool.heap if entry[2].group is not self]
            heapq.heapify(pool.heap)
        for task in dropped:
            task.future.cancel()
            self._finished(task)

    def cancel(self) -> None:
        """Stop now: drop queued tasks and tell running ones (``cancel_event``) to stop."""
        self.cancel_event.set()
        self.stop_new()

    def as_completed(self) -> Iterator[Future]:
        """Yield each future of this group as it finishes (cancelled ones included), until none is left.

        The waiting thread runs the group's own queued tasks when nobody else will (an inline group, a
        pool without workers), and a worker thread runs deeper queued tasks while it waits, so
        waiting never starves the pool.
        """
        pool = self._pool
        while True:
            task = None
            with pool.lock:
                if self._done:
                    finished: Optional[Future] = self._done.popleft()
                elif not self._pending:
                    return
                else:
                    finished = None
                    helper = pool.on_worker()
                    if self._queue:
                        task = self._queue.popleft()
                    elif pool.workers == 0:
                        task = pool.pop(0, group=self)
                    elif helper:
                        task = pool.pop(pool.level())
                    if task is None:
                        if helper:
                            entry = (pool.level(), self._cv)
                            pool.helpers.append(entry)
                            self._cv.wait(_POLL_S)
                            pool.helpers.remove(entry)
                        else:
                            self._cv.wait(_POLL_S)
            if finished is not None:
                yield finished
            elif task is not None:
                pool.run(task)

    def join(self) -> None:
        """Wait until no task of this group is queued or running."""
        for _ in self.as_completed():
            pass

    def _finished(self, task: _Task) -> None:
        with self._pool.lock:
            if task in self._pending:
                self._pending.discard(task)
                self._done.append(task.future)
            self._cv.notify_all()
