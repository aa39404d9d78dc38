"""When a request is tried again, and how long to wait first: the statuses worth a retry (408, 429
and 5xx other than 579, which means the upload is stored and only its callback failed) and an
exponential backoff with jitter that a cancel event cuts short.
"""

import random
import threading
import time
from typing import Callable, Optional

from wcs.commons.errors import Cancelled, NetworkError
from wcs.commons.result import NO_RESPONSE, Result

RETRYABLE_STATUS = frozenset({408, 429}) | (frozenset(range(500, 600)) - {579})


def is_transient_failure(result: Result) -> bool:
    """True for a failure that trying again may fix: a retryable status, or no answer for a retryable reason.

    The request may or may not have been carried out (an answer can be lost after the service
    acted), so callers that give up on such a result should first check what the service holds.
    """
    if result.code == NO_RESPONSE:
        return isinstance(result.error, NetworkError) and result.error.retryable
    return result.code in RETRYABLE_STATUS


class Backoff:
    """Exponential backoff with jitter: attempt n waits ``base * 2**n`` (capped) times 0.5..1."""

    def __init__(self, base: float = 0.2, cap: float = 8.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = base
        self.cap = cap
        self.sleep = sleep

    def delay(self, attempt: int) -> float:
        # The exponent is bounded first: 2 ** 1100 as a float would overflow long before the cap.
        return min(self.cap, self.base * (2.0 ** min(attempt, 60))) * random.uniform(0.5, 1.0)

    def wait(self, attempt: int, cancel: Optional[threading.Event] = None) -> None:
        """Sleep before retry ``attempt``; with ``cancel``, wake up (and raise) as soon as it is set."""
        delay = self.delay(attempt)
        if cancel is None or self.sleep is not time.sleep:
            self.sleep(delay)
        elif cancel.wait(delay):
            raise Cancelled("stopped while waiting to retry")
        if cancel is not None and cancel.is_set():
            raise Cancelled("stopped while waiting to retry")
