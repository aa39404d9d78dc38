"""One management call per object of a listing, on the client's pool: the ``-r`` forms of restore and
convert-type.

The listing streams (two pages in memory at most) and at most ``parallel`` calls are in flight, so
memory stays flat whatever the number of objects. Each object is first offered to ``decide``, which
may skip it with a reason (not an Archive object, already of the class asked for); every other one
gets ``call(key)``, whose Result counts as done (2xx) or failed. ``on_done`` hears of each object as
it is settled, from the thread that runs :func:`for_each_object`. The summary keeps the first
:data:`MAX_ERRORS` failures in full and counts the rest.
"""

import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from wcs.commons.http import Result
from wcs.commons.result import ObjectInfo
from wcs.services.scheduler import TaskGroup

MAX_ERRORS = 100

Decide = Callable[[ObjectInfo], Optional[str]]
Call = Callable[[str], Result]
Done = Callable[[ObjectInfo, Optional[str], Optional[Result]], None]


@dataclass
class BulkSummary:
    """What a run over a prefix did: objects listed, calls that succeeded, skipped (by reason), failed."""

    bucket: str
    prefix: str
    listed: int = 0
    done: int = 0
    skipped: Dict[str, int] = field(default_factory=dict)
    failed: int = 0
    errors: List[Dict[str, Any]] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def to_json(self) -> Dict[str, Any]:
        return {"bucket": self.bucket, "prefix": self.prefix, "listed": self.listed, "done": self.done,
                "skipped": dict(self.skipped), "failed": self.failed, "errors": list(self.errors),
                "elapsed": round(self.elapsed, 3)}


def _outcome(future: Future) -> Tuple[Optional[Result], Optional[str]]:
    try:
        result = future.result()
    except Exception as exc:  # a call that raised counts as that object's failure, not the run's
        return None, "%s: %s" % (type(exc).__name__, exc)
    if result.ok:
        return result, None
    return result, "HTTP %d: %s" % (result.code, result.message)


def for_each_object(bucket: str, prefix: str, listing: Iterable[ObjectInfo], decide: Decide, call: Call,
                    group: TaskGroup, parallel: int, on_done: Optional[Done] = None,
                    clock: Callable[[], float] = time.monotonic) -> BulkSummary:
    """Call ``call(key)`` for each listed object that ``decide`` does not skip (see the module docstring).

    Raises:
        ServiceError, NetworkError: the listing failed (after the calls in flight ended).
    """
    summary = BulkSummary(bucket, prefix)
    started = clock()
    in_flight: Dict[Future, ObjectInfo] = {}

    def settle(future: Future) -> None:
        info = in_flight.pop(future)
        result, error = _outcome(future)
        if error is None:
            summary.done += 1
        else:
            summary.failed += 1
            if len(summary.errors) < MAX_ERRORS:
                summary.errors.append({"key": info.key, "code": result.code if result is not None else None,
                                       "message": error})
        if on_done is not None:
            on_done(info, error, result)

    try:
        for info in listing:
            summary.listed += 1
            reason = decide(info)
            if reason is not None:
                summary.skipped[reason] = summary.skipped.get(reason, 0) + 1
                continue
            while len(in_flight) >= max(parallel, 1):
                settle(next(group.as_completed()))
            in_flight[group.submit(call, info.key)] = info
    finally:
        for future in group.as_completed():
            if future in in_flight:
                settle(future)
        summary.elapsed = clock() - started
    return summary
