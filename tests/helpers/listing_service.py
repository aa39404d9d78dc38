"""An in-memory ``/list`` for listing tests: the emulator's own page logic over a sorted list of keys.

:class:`KeyService` answers ``fetch(prefix, marker, limit, mode)`` as the emulator would (flat pages,
``mode`` listings by directory, markers), counts requests and the requests at once, and can make its
markers opaque (tokens the client cannot read, as a real service might: a marker it did not hand
out is refused with a 400) or fail the requests that ``fail`` picks, and every page that would hold
the key ``fail_key``.
"""

import bisect
import itertools
import threading
import time
from typing import Callable, Dict, List, Optional

from wcs.commons.result import Result
from wcs.emulator.state.listing import list_page
from wcs.emulator.state.model import ObjectInfo


class KeyService:
    def __init__(self, keys: List[str], *, opaque: bool = False, delay: float = 0.0,
                 fail: Optional[Callable[[Optional[str], Optional[str], int, Optional[int]], bool]] = None,
                 fail_key: Optional[str] = None) -> None:
        self.keys = sorted(keys)
        self.opaque = opaque
        self.delay = delay
        self.fail = fail
        self.fail_key = fail_key
        self.requests: List[tuple] = []
        self.items_sent = 0
        self.at_once = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        self._tokens: Dict[str, str] = {}
        self._numbers = itertools.count()

    def _scan(self, lower: str, inclusive: bool, upper: Optional[str], count: int) -> List[ObjectInfo]:
        start = bisect.bisect_left(self.keys, lower) if inclusive else bisect.bisect_right(self.keys, lower)
        end = bisect.bisect_left(self.keys, upper) if upper is not None else len(self.keys)
        found = self.keys[start:min(end, start + count)]
        return [ObjectInfo("b", key, 1, "h", "text/plain", 1, None, "") for key in found]

    def fetch(self, prefix: Optional[str], marker: Optional[str], limit: int, mode: Optional[int]) -> Result:
        with self._lock:
            self.requests.append((prefix, marker, limit, mode))
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            if self.delay:
                time.sleep(self.delay)
            if self.fail is not None and self.fail(prefix, marker, limit, mode):
                return Result(500, {"code": 500, "message": "injected"}, {"x-reqid": "failed"})
            if marker and self.opaque:
                if marker not in self._tokens:
                    return Result(400, {"code": 400, "message": "invalid marker"}, {"x-reqid": "bad-marker"})
                marker = self._tokens[marker]
            items, common, next_marker = list_page(self._scan, prefix or "", marker or "", limit, mode)
            if self.fail_key is not None and any(info.key == self.fail_key for info in items):
                return Result(500, {"code": 500, "message": "injected"}, {"x-reqid": "failed"})
            if next_marker and self.opaque:
                token = "t%d" % next(self._numbers)
                self._tokens[token] = next_marker
                next_marker = token
            with self._lock:
                self.items_sent += len(items)
            body = {"marker": next_marker, "commonPrefixes": common,
                    "items": [{"key": info.key, "fsize": "1", "hash": "h", "putTime": 1} for info in items]}
            return Result(200, body, {"x-reqid": "r%d" % len(self.requests)})
        finally:
            with self._lock:
                self.at_once -= 1

    @property
    def folder_requests(self) -> int:
        return sum(1 for request in self.requests if request[3] is not None)
