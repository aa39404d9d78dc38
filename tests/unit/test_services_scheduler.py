"""The one bounded pool: nested groups, the global budget, failures, cancellation."""

import threading
import time

import pytest

from tests.helpers.waiting import wait_until
from wcs.services.scheduler import Scheduler


class _Gauge:
    """Counts tasks running at the same moment."""

    def __init__(self):
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.threads = set()

    def __call__(self, value, hold=0.002):
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.threads.add(threading.current_thread().name)
        time.sleep(hold)  # the work being measured, not synchronisation
        with self.lock:
            self.active -= 1
        return value


@pytest.mark.parametrize("workers", [0, 1, 3])
def test_every_task_runs_once_and_results_come_back(workers):
    scheduler = Scheduler(workers)
    gauge = _Gauge()
    with scheduler.group() as group:
        for i in range(20):
            group.submit(gauge, i)
        results = sorted(f.result() for f in group.as_completed())
    assert results == list(range(20))
    assert gauge.peak <= max(workers, 1)


@pytest.mark.parametrize("workers", [0, 2, 4])
def test_n_files_of_m_blocks_never_use_more_than_the_budget(workers):
    scheduler = Scheduler(workers)
    gauge = _Gauge()

    def file_task(blocks):
        with scheduler.group() as group:
            for i in range(blocks):
                group.submit(gauge, i)
            return sorted(f.result() for f in group.as_completed())

    with scheduler.group() as files:
        for _ in range(12):
            files.submit(file_task, 6)
        done = [f.result() for f in files.as_completed()]
    assert done == [list(range(6))] * 12
    assert gauge.peak <= max(workers, 1)
    assert len(scheduler._threads) <= workers
    if workers == 0:
        assert gauge.threads == {threading.current_thread().name}


def test_stop_new_starts_no_more_tasks_and_lets_running_ones_finish():
    scheduler = Scheduler(2)
    started = []
    release = threading.Event()

    def task(i):
        started.append(i)
        release.wait(5)
        return i

    with scheduler.group() as group:
        futures = [group.submit(task, i) for i in range(10)]
        assert wait_until(lambda: len(started) >= 2, timeout=5, interval=0.001)
        group.stop_new()
        release.set()
        finished = list(group.as_completed())
    assert len(finished) == 10
    assert sorted(started) == sorted(i for i, f in enumerate(futures) if not f.cancelled())
    assert len(started) == 2 and sum(f.cancelled() for f in futures) == 8


def test_an_exception_in_the_with_block_cancels_and_waits_only_for_tasks_in_flight():
    scheduler = Scheduler(2)
    seen_cancel = []
    running = threading.Semaphore(0)

    def task(group_ref):
        running.release()
        seen_cancel.append(group_ref[0].cancel_event.wait(5))

    ref = []
    begin = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with scheduler.group() as group:
            ref.append(group)
            futures = [group.submit(task, ref) for _ in range(50)]
            running.acquire(timeout=5)
            running.acquire(timeout=5)
            raise KeyboardInterrupt
    assert time.monotonic() - begin < 4
    assert seen_cancel == [True, True]
    assert sum(f.cancelled() for f in futures) == 48


def test_task_errors_are_returned_on_their_future():
    scheduler = Scheduler(2)

    def boom():
        raise RuntimeError("exploded")

    with scheduler.group() as group:
        future = group.submit(boom)
        list(group.as_completed())
    assert isinstance(future.exception(), RuntimeError)


def test_a_closed_scheduler_lets_its_workers_go_and_still_runs_what_is_waited_for():
    scheduler = Scheduler(2)
    with scheduler.group() as group:
        group.submit(lambda: 1)
        assert [f.result() for f in group.as_completed()] == [1]
    scheduler.close()
    assert wait_until(lambda: not scheduler._threads, timeout=5)
    with scheduler.group() as group:
        group.submit(lambda: 2)
        assert [f.result() for f in group.as_completed()] == [2]


def test_a_groups_tasks_sit_below_its_maker_whichever_thread_submits_them():
    # A tree run's workers add workers to their own group: were those nested below the worker that
    # submitted them, a worker waiting for its listing could not run the pages its turn-mates queued.
    scheduler = Scheduler(2)
    levels = []
    with scheduler.group() as group:

        def inner():
            levels.append(scheduler._pool.level())

        def outer():
            levels.append(scheduler._pool.level())
            group.submit(inner)

        group.submit(outer)
    scheduler.close()
    assert levels == [1, 1]
