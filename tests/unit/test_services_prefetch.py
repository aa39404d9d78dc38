"""prefetched(): the next item is produced in the background, at most one ahead, errors in place."""

import threading
import time

import pytest

from tests.helpers.waiting import wait_until
from wcs.services.listing import prefetched


def test_order_and_end():
    assert list(prefetched(iter(range(50)))) == list(range(50))
    assert list(prefetched([])) == []


def test_produces_at_most_one_item_ahead_in_another_thread():
    produced = []
    threads = set()

    def source():
        for i in range(5):
            produced.append(i)
            threads.add(threading.current_thread().name)
            yield i

    gen = prefetched(source())
    assert next(gen) == 0
    assert wait_until(lambda: len(produced) >= 2)
    time.sleep(0.05)  # room to run further ahead, which it must not
    assert produced == [0, 1]  # item 1 was fetched while the caller holds item 0, not more
    assert next(gen) == 1
    assert wait_until(lambda: len(produced) >= 3)
    time.sleep(0.05)
    assert produced == [0, 1, 2]
    assert list(gen) == [2, 3, 4]
    assert threading.current_thread().name not in threads


def test_an_error_is_raised_when_its_item_is_reached():
    second = threading.Event()

    def source():
        yield 1
        second.set()
        yield 2
        raise ValueError("page 3 failed")

    gen = prefetched(source())
    assert next(gen) == 1
    assert second.wait(5)  # the background is as far ahead as it goes: item 2 made, the failure next...
    assert next(gen) == 2  # ...but items before it still come first
    with pytest.raises(ValueError, match="page 3 failed"):
        next(gen)


def test_early_close_waits_for_the_fetch_and_closes_the_source():
    closed = []
    started = threading.Event()

    def source():
        try:
            yield 1
            started.set()
            time.sleep(0.2)  # a slow page being fetched when the caller stops
            yield 2
            yield 3
        finally:
            closed.append(threading.current_thread().name)

    before = threading.active_count()
    gen = prefetched(source())
    assert next(gen) == 1
    started.wait(5)
    gen.close()
    assert closed  # the source generator was closed...
    assert threading.active_count() == before  # ...and no prefetch thread is left
    assert not [t for t in threading.enumerate() if t.name.startswith("wcs-prefetch")]
