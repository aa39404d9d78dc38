"""Waiting for something to become true without guessing how long it takes: ``wait_until``."""

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.01) -> T:
    """Call ``predicate`` until it returns something truthy, and return that.

    After ``timeout`` seconds the last (falsy) value is returned, so callers assert on it:
    ``assert wait_until(lambda: server.requests)``. ``predicate`` is always called at least once,
    and once more after the deadline, so a slow machine cannot make it miss a true last state.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
