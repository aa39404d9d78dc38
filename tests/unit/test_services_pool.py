"""One pool per client: sized when the client is built, grown (never shrunk) on request, and
``concurrency = 0`` run in the calling thread without one thread's wait running another's tasks."""

import threading

import pytest

from wcs.commons.config import Config
from wcs.services.client import Client
from wcs.services.scheduler import Scheduler


def _together(scheduler, count, timeout=10):
    """Run ``count`` tasks that only finish once all of them run at the same moment; how many did."""
    barrier = threading.Barrier(count, timeout=timeout)

    def meet():
        barrier.wait()
        return threading.current_thread().name

    with scheduler.group() as group:
        for _ in range(count):
            group.submit(meet)
        futures = list(group.as_completed())
    return sum(1 for f in futures if f.exception() is None)


def test_the_pool_is_built_with_the_client_and_grows_to_a_later_larger_concurrency():
    with Client(Config(None, concurrency=2)) as client:
        assert client.scheduler.workers == 2
        first = client.scheduler_for(client.cfg.transfer)
        assert first is client.scheduler and _together(first, 2) == 2
        client.cfg.concurrency = 16
        pool = client.scheduler_for(client.cfg.transfer)
        assert pool.workers == 16
        assert _together(pool, 16) == 16  # sixteen threads really run at once
        client.cfg.concurrency = 3
        assert client.scheduler_for(client.cfg.transfer).workers == 16  # never shrinks


def test_a_client_built_for_more_workers_sizes_its_pool_and_connections_for_them():
    with Client(Config(None, concurrency=4), workers=24) as client:
        assert client.scheduler.workers == 24 and client.http.pool_size >= 24
    with Client(Config(None, concurrency=4)) as client:
        assert client.scheduler.workers == 4 and client.http.pool_size == 8


def test_a_shared_scheduler_is_grown_not_replaced_and_not_closed_by_the_client():
    shared = Scheduler(2)
    with Client(Config(None, concurrency=5), scheduler=shared) as client:
        assert client.scheduler is shared and shared.workers == 5
    assert shared.workers == 5  # not closed: it is not the client's own


def _submit_then_wait(scheduler, mine, ready, go, seen):
    """Queue tasks that record the thread running them; wait for them only once ``go`` is set."""
    me = threading.current_thread().name
    with scheduler.group() as group:
        for i in range(mine):
            group.submit(lambda i=i: seen.append((me, threading.current_thread().name)))
        ready.set()
        go.wait(10)
        list(group.as_completed())


@pytest.mark.parametrize("shared_client", [False, True], ids=["two clients", "one client"])
def test_concurrency_zero_runs_tasks_in_their_own_calling_thread(shared_client):
    clients = [Client(Config(None, concurrency=0))]
    clients.append(clients[0] if shared_client else Client(Config(None, concurrency=0)))
    seen = []
    b_ready, b_go = threading.Event(), threading.Event()
    a_ready = threading.Event()
    # B queues its tasks first and waits to be told to run them; A queues and runs its own meanwhile.
    thread_b = threading.Thread(target=_submit_then_wait, name="thread-B",
                                args=(clients[1].scheduler_for(clients[1].cfg.transfer), 20, b_ready, b_go, seen))
    thread_b.start()
    assert b_ready.wait(10)
    go_now = threading.Event()
    go_now.set()
    thread_a = threading.Thread(target=_submit_then_wait, name="thread-A",
                                args=(clients[0].scheduler_for(clients[0].cfg.transfer), 20, a_ready, go_now, seen))
    thread_a.start()
    thread_a.join(10)
    b_go.set()
    thread_b.join(10)
    for client in set(clients):
        client.close()
    assert len(seen) == 40
    assert all(submitter == runner for submitter, runner in seen), seen


def test_concurrency_zero_on_a_pool_with_workers_still_runs_in_the_calling_thread():
    with Client(Config(None, concurrency=4)) as client:
        client.cfg.concurrency = 0
        view = client.scheduler_for(client.cfg.transfer)
        assert view.workers == 0
        names = []
        with view.group() as group:
            for _ in range(5):
                group.submit(lambda: names.append(threading.current_thread().name))
            list(group.as_completed())
        assert names == [threading.current_thread().name] * 5
        assert not client.scheduler._threads  # no worker was started for them
