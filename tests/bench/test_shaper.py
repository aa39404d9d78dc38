"""The benchmarks' link shaper delivers the link it claims: per-connection rate, shared total, added RTT.

The timed tests (``slow``: not in the default run, where a busy machine makes any clock-based verdict
a coin toss) each move about a second of data between threads on 127.0.0.1 through a
:class:`Shaper`; rates are measured at the receiving end, from its first byte to its last (so the
fixed delays do not count). A busy machine can only make the shaper slower, never faster, so the
checks that decide are the ceilings: a rate never more than 15 % above its cap, a delay never shorter
than configured. The floors (half the cap, a delay at most half a second too long) only catch a shaper
that does not deliver at all; how close it comes to its caps on a calm machine is what
``tests/bench/RESULTS.md`` reports. The default run checks what no load can change: every byte delivered
in order, end of stream passed on, connections counted.
"""

import socket
import threading
import time
from typing import Callable, List, Tuple

import pytest

from tests.bench.shaper import Link, Shaper

TOLERANCE = 0.15  # above a cap
FLOOR = 0.5  # of a cap: below it the shaper is broken, not merely short of CPU
SLACK = 0.5  # seconds a delay may exceed its configured value on a busy machine


def within_cap(measured: float, cap: float) -> bool:
    return FLOOR * cap <= measured <= (1 + TOLERANCE) * cap


class Server:
    """A TCP server on 127.0.0.1 running ``handler(conn)`` in a thread per connection."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = self.sock.getsockname()
        self.handler = handler
        self.threads: List[threading.Thread] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            self.handler(conn)

    def close(self) -> None:
        self.sock.close()
        for thread in self.threads:
            thread.join(10)


def receive_all(conn: socket.socket) -> Tuple[int, float, float, int]:
    """Read until EOF: (total bytes, time of the first byte, time of the last byte, size of the first read)."""
    total, first, last, first_size = 0, 0.0, 0.0, 0
    while True:
        data = conn.recv(65536)
        if not data:
            return total, first, last, first_size
        last = time.perf_counter()
        if not total:
            first, first_size = last, len(data)
        total += len(data)


def rate(received: Tuple[int, float, float, int]) -> float:
    total, first, last, first_size = received
    return (total - first_size) / (last - first)


@pytest.fixture
def sink():
    results: List[Tuple[int, float, float, int]] = []
    server = Server(lambda conn: results.append(receive_all(conn)))
    server.results = results
    yield server
    server.close()


def send(address: Tuple[str, int], nbytes: int) -> None:
    with socket.create_connection(address) as conn:
        conn.sendall(b"\0" * nbytes)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)  # until the proxy closes: everything was delivered


@pytest.mark.slow  # timed
def test_a_single_stream_gets_its_per_connection_rate_upstream(sink):
    link = Link(rtt=0.02, conn_rate=2e6, total_rate=20e6)
    with Shaper(sink.address, link) as shaper:
        send(("127.0.0.1", shaper.port), 1_600_000)
        sink.close()
        stats = shaper.stats()
    assert within_cap(rate(sink.results[0]), 2e6), rate(sink.results[0])
    assert sink.results[0][0] == 1_600_000
    assert stats["connections"] == 1 and stats["bytes_up"] == 1_600_000


@pytest.mark.slow  # timed
def test_a_single_stream_gets_its_per_connection_rate_downstream():
    def source(conn: socket.socket) -> None:
        conn.sendall(b"\1" * 1_600_000)

    server = Server(source)
    try:
        with Shaper(server.address, Link(rtt=0.02, conn_rate=2e6, total_rate=0)) as shaper:
            with socket.create_connection(("127.0.0.1", shaper.port)) as conn:
                received = receive_all(conn)
    finally:
        server.close()
    assert received[0] == 1_600_000
    assert within_cap(rate(received), 2e6), rate(received)


@pytest.mark.slow  # timed
def test_many_streams_share_the_total(sink):
    link = Link(rtt=0.02, conn_rate=4e6, total_rate=6e6)
    with Shaper(sink.address, link) as shaper:
        senders = [threading.Thread(target=send, args=(("127.0.0.1", shaper.port), 1_200_000)) for _ in range(4)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(30)
        sink.close()
        stats = shaper.stats()
    assert stats["connections"] == 4 and stats["peak_active"] == 4
    rates = [rate(result) for result in sink.results]
    first = min(result[1] for result in sink.results)
    last = max(result[2] for result in sink.results)
    assert within_cap(4_800_000 / (last - first), 6e6), 4_800_000 / (last - first)
    for value in rates:  # each gets its share, not its own cap
        assert within_cap(value, 1.5e6 * (1 + TOLERANCE)), value


@pytest.mark.slow  # timed
def test_the_round_trip_time_is_added_to_every_exchange():
    def echo(conn: socket.socket) -> None:
        while True:
            data = conn.recv(100)
            if not data:
                return
            conn.sendall(data)

    server = Server(echo)
    rtt = 0.1
    try:
        with Shaper(server.address, Link(rtt=rtt, conn_rate=4e6, total_rate=40e6)) as shaper:
            started = time.perf_counter()
            with socket.create_connection(("127.0.0.1", shaper.port)) as conn:
                conn.sendall(b"x")
                assert conn.recv(10) == b"x"
                fresh = time.perf_counter() - started  # SYN + SYN-ACK, then the request and its answer
                again = []
                for _ in range(2):
                    started = time.perf_counter()
                    conn.sendall(b"y")
                    assert conn.recv(10) == b"y"
                    again.append(time.perf_counter() - started)
    finally:
        server.close()
    assert 2 * rtt <= fresh <= 2 * rtt + SLACK
    for value in again:
        assert rtt <= value <= rtt + SLACK


@pytest.mark.slow  # timed
def test_without_handshake_a_fresh_connection_costs_one_rtt_and_the_server_closing_ends_it():
    def answer_and_close(conn: socket.socket) -> None:
        conn.recv(100)
        conn.sendall(b"answer")

    server = Server(answer_and_close)
    try:
        with Shaper(server.address, Link(rtt=0.06, handshake=False)) as shaper:
            started = time.perf_counter()
            with socket.create_connection(("127.0.0.1", shaper.port)) as conn:
                conn.sendall(b"question")
                assert receive_all(conn)[0] == len(b"answer")  # EOF follows the answer
                elapsed = time.perf_counter() - started
            for _ in range(50):
                if shaper.stats()["active"] == 0:
                    break
                time.sleep(0.01)
            assert shaper.stats()["active"] == 0
    finally:
        server.close()
    assert 0.06 <= elapsed <= 0.06 + SLACK


def test_every_byte_arrives_in_order_both_ways_and_connections_are_counted():
    def echo(conn: socket.socket) -> None:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)

    payload = bytes(range(256)) * 4096  # 1 MiB, at rates no load can slow below a few seconds
    server = Server(echo)
    try:
        with Shaper(server.address, Link(rtt=0.002, conn_rate=200e6, total_rate=400e6)) as shaper:
            for _ in range(2):
                with socket.create_connection(("127.0.0.1", shaper.port)) as conn:
                    sender = threading.Thread(target=lambda: (conn.sendall(payload), conn.shutdown(socket.SHUT_WR)))
                    sender.start()
                    received = bytearray()
                    while True:
                        data = conn.recv(65536)
                        if not data:  # the echo server saw our end of stream and closed: it came back
                            break
                        received += data
                    sender.join(30)
                assert bytes(received) == payload
            stats = shaper.stats()
    finally:
        server.close()
    assert stats["connections"] == 2
    assert stats["bytes_up"] == stats["bytes_down"] == 2 * len(payload)
