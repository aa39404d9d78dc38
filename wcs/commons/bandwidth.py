"""A client-side bandwidth limit: one token bucket that every connection of a client draws from.

``bwlimit`` (a ``.wcscfg`` key, ``Client(cfg)`` with ``cfg.bwlimit``, ``wcscmd --bwlimit 10M``) caps the
bytes per second a client sends and receives, summed over all its connections: the blocks of a
multipart upload, the ranges of a parallel download and the files of a tree transfer share the one
budget. It is not the service's ``traffic_limit`` (a header asking the server to throttle).

:class:`TokenBucket` lets bytes through at ``rate`` per second after an initial ``burst``; a caller
asking for more than is available takes the bucket into debt and sleeps until it is repaid, so
concurrent callers queue behind each other and the long-run rate never exceeds ``rate``. The clock
and the sleep are injectable (tests need no real time). :class:`ThrottledReader` makes a request
body draw from the bucket as the HTTP library reads it.
"""

import re
import threading
import time
from typing import Any, Callable, Optional

from wcs.commons.errors import Cancelled, InvalidArgument

KiB = 1024
# Not less than one socket write of the HTTP library (8-16 KiB), so a small limit still moves whole writes.
MIN_BURST = 16 * KiB

_UNITS = {"": 1, "b": 1, "k": KiB, "kb": KiB, "kib": KiB, "m": KiB ** 2, "mb": KiB ** 2, "mib": KiB ** 2,
          "g": KiB ** 3, "gb": KiB ** 3, "gib": KiB ** 3}
_RATE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*(?:/s)?\s*$", re.IGNORECASE)


def parse_rate(text: Any) -> int:
    """Bytes per second from ``10M``, ``512k``, ``1.5MiB``, ``100KB/s`` or a plain number; 0 = no limit.

    Units are binary, as the block sizes of this SDK: ``k`` = 1024, ``M`` = 1024², ``G`` = 1024³
    (``KB``/``KiB``, ``MB``/``MiB`` and ``GB``/``GiB`` are the same); a trailing ``/s`` is allowed.

    Raises:
        ValueError: not a rate (a negative number, an unknown unit).
    """
    if isinstance(text, bool):
        raise ValueError("expected a rate such as 10M, 512k or 1.5MiB, got %r" % (text,))
    if isinstance(text, (int, float)):
        if text < 0 or text != text or text == float("inf"):
            raise ValueError("expected a rate of 0 or more bytes per second, got %r" % (text,))
        return int(text)
    match = _RATE_RE.match(str(text))
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError("expected a rate such as 10M, 512k or 1.5MiB (bytes per second), got %r" % (text,))
    return int(float(match.group(1)) * _UNITS[unit])


def format_rate(rate: int) -> str:
    """``10485760`` -> ``10M``: the shortest exact form :func:`parse_rate` reads back."""
    for unit, size in (("G", KiB ** 3), ("M", KiB ** 2), ("k", KiB)):
        if rate and rate % size == 0:
            return "%d%s" % (rate // size, unit)
    return str(rate)


class TokenBucket:
    """``rate`` bytes per second, shared by any number of threads.

    Args:
        rate: bytes per second (> 0).
        burst: bytes that may pass at once after an idle period (default: a tenth of a second's worth,
            at least :data:`MIN_BURST`).
        clock: seconds, monotonic (injectable for tests).
        sleep: waits that many seconds (injectable for tests; unused when a ``cancel`` event is given).
    """

    def __init__(self, rate: float, burst: Optional[float] = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if not rate > 0:
            raise InvalidArgument("a bandwidth limit must be positive, got %r" % (rate,))
        self.rate = float(rate)
        self.burst = float(burst) if burst is not None else max(self.rate / 10.0, float(MIN_BURST))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._stamp = clock()

    def reserve(self, count: int) -> float:
        """Take ``count`` bytes from the bucket now; the seconds the caller must wait before using them."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= count
            return -self._tokens / self.rate if self._tokens < 0 else 0.0

    def take(self, count: int, cancel: Optional[threading.Event] = None) -> None:
        """Wait until ``count`` bytes may pass (at once when the bucket holds them).

        Raises:
            Cancelled: ``cancel`` was set while waiting.
        """
        if count <= 0:
            return
        wait = self.reserve(count)
        if wait <= 0:
            return
        if cancel is None:
            self._sleep(wait)
        elif cancel.wait(wait):
            raise Cancelled("stopped while waiting for the bandwidth limit")


class ThrottledReader:
    """A request body that draws from a :class:`TokenBucket` as it is read.

    Wraps bytes or a readable body (a file chunk, a multipart form) and keeps its length, so the
    request still announces ``Content-Length`` and is sent exactly as without the limit.
    """

    def __init__(self, body: Any, bucket: TokenBucket, cancel: Optional[threading.Event] = None) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        if isinstance(body, (bytes, bytearray, memoryview)):
            import io

            self._length: Optional[int] = len(body)
            body = io.BytesIO(bytes(body))
        else:
            self._length = _length_of(body)
        self._body = body
        self._bucket = bucket
        self._cancel = cancel

    def __len__(self) -> int:
        return self._length or 0

    @property
    def len(self) -> int:  # what requests-toolbelt's encoder offers, for code that asks for it
        return len(self)

    def read(self, size: Optional[int] = -1) -> Any:
        data = self._body.read(size)
        self._bucket.take(len(data), self._cancel)
        return data

    def __getattr__(self, name: str) -> Any:  # tell/seek/readable... as the wrapped body has them
        return getattr(self._body, name)


def throttled(body: Any, bucket: TokenBucket, cancel: Optional[threading.Event] = None) -> Any:
    """``body`` drawing from ``bucket`` as it is sent; unchanged when its length is unknown (it would
    then be sent chunked, which is not what the caller asked for)."""
    if isinstance(body, (str, bytes, bytearray, memoryview)) or _length_of(body) is not None:
        return ThrottledReader(body, bucket, cancel)
    return body


def _length_of(body: Any) -> Optional[int]:
    for get in (lambda: len(body), lambda: body.len):
        try:
            return int(get())
        except (TypeError, AttributeError):
            continue
    return None
