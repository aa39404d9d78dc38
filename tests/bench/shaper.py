"""A link shaper for the benchmarks: a TCP proxy on 127.0.0.1 that behaves like a path over the internet.

Loopback moves bytes at memory speed with no delay, so on loopback the client that uses less CPU
wins. Over a real link each connection is limited by the round-trip time and by its own bandwidth,
and the winner is the client that keeps the link full. This proxy sits between the clients and the
emulator and models, for each direction of each connection:

* **bandwidth**: the bytes read from the sender pass a per-connection pacer and then a pacer shared
  by all connections of that direction (FIFO servers of ``conn_rate`` and ``total_rate`` bytes/s, a
  token bucket with a burst of :data:`BURST_S`: a stream that sends continuously gets its rate
  exactly even when this process wakes up late). The proxy reads the next chunk from the sender only
  once the previous one has left, so the sender feels the limit through its socket buffers, as it
  would through TCP flow control, and the proxy holds at most about one bandwidth-delay product;
* **propagation delay**: every chunk reaches the other side ``rtt / 2`` after it left, in order; the
  end of a stream (EOF) travels the same way;
* **connection set-up**: with ``handshake`` (the default) a new connection's first bytes leave no
  earlier than one RTT after ``connect`` returned (SYN, SYN-ACK), so a request on a fresh
  connection answers after about 2 RTT and one on a kept-alive connection after about 1 RTT.

Rates are in bytes per second (``4e6`` is 4 MB/s), 0 meaning unlimited. The proxy runs its own
asyncio loop in a thread (:class:`Shaper`) and counts connections and bytes delivered per direction
(:meth:`Shaper.stats`). ``python -m tests.bench.shaper --upstream HOST:PORT`` runs one by itself.
"""

import argparse
import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

BURST_S = 0.010  # how late a continuously sending stream may be served and still keep its rate
MIN_CHUNK, MAX_CHUNK = 4 * 1024, 64 * 1024
CHUNK_S = 0.008  # a chunk is about 8 ms of a connection's bandwidth (latency granularity of big bodies)


@dataclass(frozen=True)
class Link:
    """What the path between the clients and the server is like."""

    rtt: float = 0.040  # seconds
    conn_rate: float = 4e6  # bytes/s per connection and direction; 0 = unlimited
    total_rate: float = 40e6  # bytes/s of all connections together, per direction; 0 = unlimited
    handshake: bool = True  # a fresh connection costs one RTT before its first byte leaves

    def describe(self) -> str:
        def rate(value: float) -> str:
            return "unlimited" if value <= 0 else "%g MB/s" % (value / 1e6)

        return "RTT %g ms, %s per connection, %s total%s" % (
            self.rtt * 1000, rate(self.conn_rate), rate(self.total_rate),
            "" if self.handshake else ", no handshake delay")

    def chunk_size(self) -> int:
        if self.conn_rate <= 0:
            return MAX_CHUNK
        return int(min(MAX_CHUNK, max(MIN_CHUNK, self.conn_rate * CHUNK_S)))


class Pacer:
    """A FIFO server of ``rate`` bytes/s on a virtual clock: when the next chunk may start, and until when
    the link is busy with it."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.free = 0.0  # when the last chunk booked has left

    def start(self, now: float) -> float:
        """When a chunk offered at ``now`` starts: right after the previous one if that one has not left
        (or left less than :data:`BURST_S` ago: we woke up late, the stream was busy all along), else now."""
        if self.rate <= 0:
            return now
        return self.free if self.free >= now - BURST_S else now

    def book(self, start: float, nbytes: int) -> float:
        """Book ``nbytes`` from ``start``; when they have left."""
        if self.rate <= 0:
            return start
        self.free = start + nbytes / self.rate
        return self.free


class Counters:
    """What went through the shaper (updated by its loop thread only; read anywhere)."""

    def __init__(self) -> None:
        self.connections = 0
        self.active = 0
        self.peak_active = 0
        self.bytes_up = 0  # client -> server, delivered
        self.bytes_down = 0  # server -> client, delivered

    def snapshot(self) -> Dict[str, int]:
        return dict(vars(self))


class Shaper:
    """The proxy: listens on ``host:port`` (0: a free port) and forwards to ``upstream`` through ``link``.

    Use :meth:`start` / :meth:`stop` or as a context manager; :attr:`port` is the port it listens on.
    """

    def __init__(self, upstream: Tuple[str, int], link: Link = Link(), host: str = "127.0.0.1",
                 port: int = 0, trace: bool = False) -> None:
        self.upstream = upstream
        self.link = link
        self.host = host
        self.port = port
        self.counters = Counters()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._server: Optional[asyncio.AbstractServer] = None
        self._ready = threading.Event()
        self._native_id = 0
        self._error: Optional[BaseException] = None
        self._total = {"up": Pacer(link.total_rate), "down": Pacer(link.total_rate)}
        # With ``trace``: (time.monotonic(), connection number, what) for accept, first byte and EOF read
        # from each side, and close: where a transfer leaves the link idle.
        self.trace = trace
        self.events: List[Tuple[float, int, str]] = []

    @property
    def url(self) -> str:
        return "http://%s:%d" % (self.host, self.port)

    @property
    def thread_stat_path(self) -> str:
        """The ``/proc`` stat file of the shaper's thread (its CPU time, apart from the rest of the process)."""
        return "/proc/self/task/%d/stat" % self._native_id

    def stats(self) -> Dict[str, int]:
        return self.counters.snapshot()

    def reset_stats(self) -> None:
        """Start counting afresh (connections open now still count as active)."""
        counters = self.counters
        counters.connections = counters.bytes_up = counters.bytes_down = 0
        counters.peak_active = counters.active

    def __enter__(self) -> "Shaper":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def start(self) -> "Shaper":
        self._thread = threading.Thread(target=self._run, name="link-shaper", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        if not self._ready.is_set():
            raise RuntimeError("the link shaper did not start")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
        self._thread = None

    # -- the loop thread ----------------------------------------------------------------------

    def _run(self) -> None:
        self._native_id = threading.get_native_id()
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(asyncio.start_server(self._handle, self.host, self.port))
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            tasks = asyncio.all_tasks(loop)  # handlers, their pipes and deliverers
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

    async def _handle(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        accepted = loop.time()
        counters = self.counters
        counters.connections += 1
        number = counters.connections
        self._event(number, "accept")
        counters.active += 1
        counters.peak_active = max(counters.peak_active, counters.active)
        u_writer = None
        try:
            _nodelay(c_writer)
            try:
                u_reader, u_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                return
            _nodelay(u_writer)
            link = self.link
            handshake = link.rtt if link.handshake else 0.0
            up = asyncio.ensure_future(self._pipe(c_reader, u_writer, "up", accepted + handshake, number))
            down = asyncio.ensure_future(self._pipe(u_reader, c_writer, "down", accepted, number))
            # The server closing its side ends the connection once that EOF reached the client (werkzeug
            # closes after each answer; a client may keep an idle connection open for ever); the client
            # closing its side only half-closes it, as in TCP, and the answer still comes back.
            done, _ = await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            if down not in done and up.exception() is None:
                await asyncio.wait({down})
            for piece in (up, down):
                piece.cancel()
            await asyncio.gather(up, down, return_exceptions=True)  # a reset on either side ends both
        except asyncio.CancelledError:
            pass  # the shaper is stopping; returning normally keeps asyncio's stream callback quiet
        finally:
            self._event(number, "close")
            counters.active -= 1
            for writer in (c_writer, u_writer):
                if writer is not None:
                    writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str,
                    not_before: float, number: int = 0) -> None:
        """Carry one direction: pace, delay, deliver in order; EOF travels like data."""
        loop = asyncio.get_running_loop()
        link = self.link
        delay = link.rtt / 2
        conn, total = Pacer(link.conn_rate), self._total[direction]
        chunk = link.chunk_size()
        # A bounded queue: a receiver that does not read stops this pipe from reading the sender.
        depth = max(64, int((link.total_rate or 1e9) * max(delay, 0.001) * 2 / chunk) + 1)
        queue: asyncio.Queue[Tuple[float, Optional[bytes]]] = asyncio.Queue(depth)
        deliverer = asyncio.ensure_future(self._deliver(queue, writer, direction))
        first = True
        try:
            while True:
                data = await reader.read(chunk)
                now = loop.time()
                if first or not data:
                    self._event(number, "%s-%s" % (direction, "first" if data else "eof"))
                    first = False
                # Not max(now, ...): a pacer may start a chunk a little in the past (see Pacer.start).
                start = max(not_before, conn.start(now), total.start(now))
                end = max(conn.book(start, len(data)), total.book(start, len(data)))
                await queue.put((end + delay, data or None))
                if not data:
                    break
                if end > loop.time():
                    await asyncio.sleep(end - loop.time())
            await deliverer
        finally:
            deliverer.cancel()

    def _event(self, number: int, what: str) -> None:
        if self.trace:
            self.events.append((time.monotonic(), number, what))

    async def _deliver(self, queue: "asyncio.Queue[Tuple[float, Optional[bytes]]]", writer: asyncio.StreamWriter,
                       direction: str) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()
            if direction == "up":
                self.counters.bytes_up += len(data)
            else:
                self.counters.bytes_down += len(data)


def _nodelay(writer: asyncio.StreamWriter) -> None:
    # Chunks are timed by this proxy; Nagle would hold small ones back for another 40 ms.
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


# -- command line ---------------------------------------------------------------------------------


def add_link_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--rtt-ms``, ``--conn-mbs``, ``--total-mbs``, ``--no-handshake`` flags (defaults: :class:`Link`)."""
    default = Link()
    parser.add_argument("--rtt-ms", type=float, default=default.rtt * 1000,
                        help="round-trip time added by the link shaper (default %(default)g)")
    parser.add_argument("--conn-mbs", type=float, default=default.conn_rate / 1e6,
                        help="bandwidth of each connection and direction in MB/s, 0 = unlimited (default %(default)g)")
    parser.add_argument("--total-mbs", type=float, default=default.total_rate / 1e6,
                        help="bandwidth of all connections together per direction in MB/s, 0 = unlimited "
                             "(default %(default)g)")
    parser.add_argument("--no-handshake", action="store_true",
                        help="do not charge a fresh connection one RTT before its first byte")


def link_from_args(args: argparse.Namespace) -> Link:
    return Link(rtt=args.rtt_ms / 1000, conn_rate=args.conn_mbs * 1e6, total_rate=args.total_mbs * 1e6,
                handshake=not args.no_handshake)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.shaper", description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--port", type=int, default=0, help="port to listen on, 127.0.0.1 (default: a free one)")
    add_link_arguments(parser)
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    shaper = Shaper((host or "127.0.0.1", int(port)), link_from_args(args), port=args.port).start()
    print("link shaper (%s) listening on %s" % (shaper.link.describe(), shaper.url), flush=True)
    stopped = threading.Event()
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        shaper.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

