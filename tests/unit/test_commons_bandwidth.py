"""The client-side bandwidth limit: rates as people write them, and a token bucket on an injected clock."""

import io
import threading

import pytest

from wcs.commons.bandwidth import MIN_BURST, ThrottledReader, TokenBucket, format_rate, parse_rate, throttled
from wcs.commons.errors import Cancelled, InvalidArgument

KiB, MiB = 1024, 1024 * 1024


class FakeClock:
    """Time that moves only when someone sleeps (or the test says so)."""

    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("text, rate", [
    ("10M", 10 * MiB), ("512k", 512 * KiB), ("1.5MiB", int(1.5 * MiB)), ("100KB/s", 100 * KiB), ("2m", 2 * MiB),
    ("1G", 1024 * MiB), ("4096", 4096), (" 8 MB ", 8 * MiB), ("0", 0), (".5M", MiB // 2), (300, 300),
])
def test_rates_as_people_write_them(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "-1M", "10Q", "", "1.2.3M", "M", True, -5, float("nan")])
def test_what_is_no_rate(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_format_rate_reads_back():
    for rate in (10 * MiB, 512 * KiB, 1000, 3 * 1024 * MiB):
        assert parse_rate(format_rate(rate)) == rate
    assert format_rate(10 * MiB) == "10M"


def test_after_the_burst_bytes_pass_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(MiB, burst=64 * KiB, clock=clock, sleep=clock.sleep)
    start = clock.now
    bucket.take(64 * KiB)  # the burst: at once
    assert clock.slept == []
    for _ in range(16):  # 1 MiB more, in pieces
        bucket.take(64 * KiB)
    assert clock.now - start == pytest.approx(1.0)


def test_an_idle_bucket_refills_only_up_to_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(MiB, burst=100 * KiB, clock=clock, sleep=clock.sleep)
    clock.now += 3600  # an hour idle: still only one burst is free
    bucket.take(100 * KiB)
    assert clock.slept == []
    bucket.take(MiB)
    assert clock.slept == [pytest.approx(1.0)]


def test_callers_queue_behind_each_other():
    # Each reservation is taken at once and told how long to wait: two callers asking at the same
    # moment wait one after the other, so together they never exceed the rate.
    clock = FakeClock()
    bucket = TokenBucket(MiB, burst=0.0001, clock=clock, sleep=clock.sleep)
    first = bucket.reserve(MiB // 2)
    second = bucket.reserve(MiB // 2)
    assert first == pytest.approx(0.5, abs=1e-3) and second == pytest.approx(1.0, abs=1e-3)


def test_default_burst_is_a_tenth_of_a_second_but_not_less_than_one_socket_write():
    assert TokenBucket(10 * MiB).burst == MiB
    assert TokenBucket(1000).burst == MIN_BURST


def test_shared_by_threads_the_total_rate_holds():
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds):
        with lock:
            clock.sleep(seconds)

    bucket = TokenBucket(MiB, burst=MIN_BURST, clock=clock, sleep=sleep)
    start = clock.now
    threads = [threading.Thread(target=lambda: [bucket.take(32 * KiB) for _ in range(32)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 4 MiB through a 1 MiB/s bucket: at least 4 s of (fake) time, less the first burst.
    assert clock.now - start >= 4.0 - MIN_BURST / MiB - 1e-6


def test_a_cancelled_wait_raises():
    cancel = threading.Event()
    cancel.set()
    bucket = TokenBucket(1000, burst=1000)
    bucket.take(1000)
    with pytest.raises(Cancelled):
        bucket.take(10 ** 6, cancel)


def test_bad_rates_are_refused():
    for rate in (0, -1):
        with pytest.raises(InvalidArgument):
            TokenBucket(rate)


def test_a_throttled_body_keeps_its_bytes_and_length():
    clock = FakeClock()
    bucket = TokenBucket(MiB, burst=MIN_BURST, clock=clock, sleep=clock.sleep)
    body = throttled(b"x" * (2 * MiB), bucket)
    assert isinstance(body, ThrottledReader) and len(body) == 2 * MiB
    data = b"".join(iter(lambda: body.read(8192), b""))
    assert data == b"x" * (2 * MiB) and sum(clock.slept) == pytest.approx(2 - MIN_BURST / MiB, abs=1e-6)
    stream = throttled(io.BytesIO(b"abc"), bucket)  # no length: sent as it is, unthrottled
    assert not isinstance(stream, ThrottledReader)
    assert len(throttled("héllo", bucket)) == len("héllo".encode())
