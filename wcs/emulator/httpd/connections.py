"""The connections the gate (:mod:`~wcs.emulator.httpd.gate`) holds, by where each is, and the selector
they are registered with.

A connection is *waiting* here (for its TLS handshake, a head, its body's first bytes, its next request,
or lingering: evictable, the one waiting longest first), *writing* (the selector writes the rest of its
answer to a slow reader) or *busy* in a worker. Workers hand connections back from their threads
(:meth:`Connections.hand_back`); everything else runs in the selector thread.
"""

import selectors
import socket
import threading
from collections import OrderedDict, deque
from typing import Deque, List, Set, Tuple

from wcs.emulator.httpd.conn import BUSY, CLOSED, Conn, close_quietly


class Connections:
    """Where each open connection is; registered with ``selector`` while it waits or is written to."""

    def __init__(self, selector: selectors.BaseSelector) -> None:
        self.selector = selector
        self.waiting: OrderedDict[Conn, None] = OrderedDict()  # evictable, longest waiting first
        self.writing: Set[Conn] = set()
        self._busy: Set[Conn] = set()  # in workers; shared with them, under _lock
        self._returned: Deque[Tuple[Conn, str]] = deque()
        self._lock = threading.Lock()
        self._closed = False

    def __len__(self) -> int:
        return len(self._busy) + len(self.waiting) + len(self.writing)

    # -- what workers and other threads call ---------------------------------------------------------

    def hand_back(self, conn: Conn, outcome: str) -> bool:
        """A worker is done with ``conn`` (``outcome``: what next); False when the gate has stopped, and
        the caller closes it."""
        with self._lock:
            if self._closed:
                self._busy.discard(conn)
                return False
            self._returned.append((conn, outcome))
            return True

    def busy_sockets(self) -> List[socket.socket]:
        """Sockets of the connections in workers now."""
        with self._lock:
            return [conn.sock for conn in self._busy]

    # -- the selector thread -------------------------------------------------------------------------

    def returned(self) -> List[Tuple[Conn, str]]:
        """The connections workers handed back since the last call, with their outcomes."""
        with self._lock:
            returned = list(self._returned)
            self._returned.clear()
            for conn, _ in returned:
                self._busy.discard(conn)
        return returned

    def to_worker(self, conn: Conn) -> None:
        self.unregister(conn)
        self.waiting.pop(conn, None)
        conn.state = BUSY
        with self._lock:
            self._busy.add(conn)

    def not_dispatched(self, conn: Conn) -> None:
        """``conn`` could not be handed to a worker after all: closed."""
        with self._lock:
            self._busy.discard(conn)
        self.close(conn)

    def wait(self, conn: Conn, events: int) -> None:
        """``conn`` waits here for ``events``, behind every connection waiting longer."""
        self.waiting[conn] = None
        self.waiting.move_to_end(conn)
        self.register(conn, events)

    def register(self, conn: Conn, events: int) -> None:
        if not conn.events:
            self.selector.register(conn.sock, events, conn)
        elif conn.events != events:
            self.selector.modify(conn.sock, events, conn)
        conn.events = events

    def unregister(self, conn: Conn) -> None:
        if conn.events:
            conn.events = 0
            try:
                self.selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass

    def overdue(self, now: float) -> List[Conn]:
        """The connections waiting or written to whose deadline has passed at ``now``."""
        return [c for c in self.waiting if c.deadline <= now] + [c for c in self.writing if c.deadline <= now]

    def evict_oldest(self) -> bool:
        """Close the connection waiting longest, to make room; False when none waits."""
        if not self.waiting:
            return False
        self.close(next(iter(self.waiting)))
        return True

    def close(self, conn: Conn) -> None:
        self.waiting.pop(conn, None)
        self.writing.discard(conn)
        self.unregister(conn)
        if conn.answer is not None:
            conn.answer.close()
            conn.answer = None
        conn.state = CLOSED
        close_quietly(conn.sock)

    def close_all(self) -> None:
        """The gate stops: close every connection it holds; workers' hand-backs are refused from now on."""
        with self._lock:
            self._closed = True
        for conn in [conn for conn, _ in self.returned()] + list(self.waiting) + list(self.writing):
            self.close(conn)
