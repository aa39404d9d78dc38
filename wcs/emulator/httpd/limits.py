"""What one emulator server allows (:class:`Limits`) and the pace a request body or an answer must keep
(:class:`Pace`).

A per-read timeout alone lets a client that sends (or reads) one byte a second hold a request for ever;
a fixed total deadline would cut a legitimate multi-GiB transfer. So a body or an answer may wait at most
``io_timeout`` for any one read or write, and once ``rate_grace`` seconds have passed it must have moved
at least ``min_rate`` bytes a second on average since it started. A transfer that went fast earns the
time to pause: 64 MiB received at loopback speed may then stall for ``64 MiB / min_rate`` seconds (still
at most ``io_timeout`` per wait). An answer's bytes count once the client has them, not when the kernel
took them: a reader that stopped would otherwise earn megabytes of credit from the socket buffers.
"""

import socket
import time
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Limits:
    """Connection, worker and timeout limits of one emulator server."""

    max_connections: int = 1024
    """Open connections at most, idle kept-alive ones included. At the cap the connection that has waited
    longest (for its request, for the first bytes of its body, or idle between requests) is closed to
    make room; when every connection is busy in a request, a new one gets ``503``."""
    workers: int = 32
    """Threads that run requests; requests beyond them wait, their connections count as open."""
    header_timeout: float = 10.0
    """Seconds from connect (TLS handshake included), or from the first byte of a later request on a
    kept-alive connection, to the end of the request headers; the connection is then closed."""
    io_timeout: float = 30.0
    """Longest wait for one read or write of a request's body or answer; a stalled client is dropped."""
    keepalive_timeout: float = 60.0
    """Seconds an idle kept-alive connection is kept; 0 answers every request with ``Connection: close``."""
    min_rate: float = 32 * 1024
    """Bytes a second a request body and an answer must average once ``rate_grace`` has passed; 0: no
    minimum (only ``io_timeout``)."""
    rate_grace: float = 10.0
    max_header_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.workers < 1:
            raise ValueError("max_connections and workers must be at least 1")
        if self.header_timeout <= 0 or self.io_timeout <= 0 or self.rate_grace <= 0:
            raise ValueError("header_timeout, io_timeout and rate_grace must be positive")
        if self.keepalive_timeout < 0 or self.min_rate < 0:
            raise ValueError("keepalive_timeout and min_rate cannot be negative")
        if self.max_header_bytes < 1024:
            raise ValueError("max_header_bytes must be at least 1024")


class TooSlow(socket.timeout):
    """A body or an answer stalled for ``io_timeout`` or fell below ``min_rate``; answered like any read
    timeout (408 while the answer has not started, otherwise the connection is dropped)."""


class Pace:
    """The clock of one request body or one answer (see the module docstring); :attr:`done` bytes so far."""

    __slots__ = ("_io_timeout", "_rate", "_grace_end", "_last", "done")

    def __init__(self, limits: Limits, start: Optional[float] = None) -> None:
        start = time.monotonic() if start is None else start
        self._io_timeout = limits.io_timeout
        self._rate = limits.min_rate
        self._grace_end = start + limits.rate_grace
        self._last = start
        self.done = 0

    def moved(self, count: int) -> None:
        """``count`` more bytes went through."""
        self.done += count
        self._last = time.monotonic()

    def deadline(self, backlog: int = 0) -> float:
        """The :func:`time.monotonic` time by which the next byte must move; ``backlog``: bytes counted in
        :attr:`done` that have not reached the peer yet (an answer's bytes still in the kernel's buffers)."""
        limit = self._last + self._io_timeout
        if self._rate:
            limit = min(limit, self._grace_end + max(self.done - backlog, 0) / self._rate)
        return limit

    def wait(self) -> float:
        """Seconds the next read or write may wait; raises :class:`TooSlow` if that time is up."""
        left = self.deadline() - time.monotonic()
        if left <= 0:
            raise TooSlow("no progress within the io timeout, or below the minimum rate of %g bytes/s"
                          % self._rate)
        return left
