"""The part planner of ranged downloads (pure), and the checkpoint read as blocks.

The planner's promise is checked on a model of the shaped link of the benchmarks: lanes pick the
parts in order, each request waits its set-up (handshake and round trip) before its bytes flow, and
the bytes of the transfers under way share the link (each at most the per-connection rate, all
together at most the total). Every object above the default threshold must take at most 1/0.9 of
the physical limit (its bytes at ``min(concurrency x per-connection, total)`` plus one set-up).
"""

import pytest

from wcs.commons.util import BLOCK_SIZE
from wcs.services.dlcheckpoint import Checkpoint
from wcs.services.partplan import ALIGN, MIN_PART, block_count, lanes_for, missing_ranges, plan_parts, plan_ranges

MiB = 1024 * 1024
RTT, CONN, TOTAL = 0.040, 4e6, 40e6
SETUP = 2 * RTT  # a request on a fresh connection: handshake, then its own round trip


def covers(parts, size):
    """The parts tile 0..size-1 in order, with no gap and no overlap."""
    position = 0
    for first, last in parts:
        assert first == position and last >= first, parts
        position = last + 1
    assert position == size


def makespan(parts, lanes, conn=CONN, total=TOTAL, setup=SETUP):
    """Seconds to fetch ``parts`` on ``lanes`` connections, on the fluid model of the module docstring."""
    queue = [float(last + 1 - first) for first, last in parts]
    active = []  # [set-up seconds left, bytes left] of each part under way
    now = 0.0
    while queue or active:
        while queue and len(active) < lanes:
            active.append([setup, queue.pop(0)])
        flowing = [a for a in active if a[0] <= 1e-12]
        rate = min(conn, total / len(flowing)) if flowing else 0.0
        step = min([a[0] for a in active if a[0] > 1e-12] + [a[1] / rate for a in flowing])
        now += step
        for item in active:
            if item[0] > 1e-12:
                item[0] -= step
            else:
                item[1] -= rate * step
        active = [a for a in active if a[1] > 1e-6]
    return now


def limit(size, concurrency):
    return size / min(concurrency * CONN, TOTAL) + SETUP


def test_a_remainder_of_more_than_half_a_wave_is_a_wave_of_its_own():
    parts = plan_parts(56 * MiB, 8 * MiB, 4)
    assert [last + 1 - first for first, last in parts] == [8 * MiB] * 4 + [6 * MiB] * 4


def test_the_issue_case_48_mib_on_4_connections():
    parts = plan_parts(48 * MiB, 8 * MiB, 4)
    covers(parts, 48 * MiB)
    # Half a wave left after a full one: one wave of four equal parts, no half-empty wave.
    assert [last + 1 - first for first, last in parts] == [12 * MiB] * 4
    assert limit(48 * MiB, 4) / makespan(parts, 4) >= 0.9
    # What the fixed 8 MiB parts gave: 6 parts on 4 connections.
    fixed = [(start, start + 8 * MiB - 1) for start in range(0, 48 * MiB, 8 * MiB)]
    assert limit(48 * MiB, 4) / makespan(fixed, 4) < 0.8


SIZES = sorted({32 * MiB, 48 * MiB, 100 * MiB, 256 * MiB, 1024 * MiB + 1}
               | {32 * MiB + step * 7 * MiB + step * 4099 for step in range(0, 140, 3)})


@pytest.mark.parametrize("concurrency", [4, 32])
def test_every_object_above_the_threshold_reaches_nine_tenths_of_the_limit(concurrency):
    worst = min((limit(size, concurrency) / makespan(plan_parts(size, 8 * MiB, concurrency), concurrency), size)
                for size in SIZES)
    assert worst[0] >= 0.9, "%.3f of the limit for %d bytes" % worst


@pytest.mark.parametrize("size", [1, MIN_PART - 1, MIN_PART, 3 * MiB + 5, 8 * MiB, 33 * MiB + 1, 100 * MiB,
                                  256 * MiB, 1000 * MiB + 12345])
@pytest.mark.parametrize("concurrency", [0, 1, 2, 3, 4, 7, 32, 64])
@pytest.mark.parametrize("part_size", [4 * MiB, 8 * MiB, 12 * MiB])
def test_parts_tile_the_object_full_waves_aligned_the_last_wave_even(size, concurrency, part_size):
    parts = plan_parts(size, part_size, concurrency)
    covers(parts, size)
    lanes = lanes_for(size, concurrency)
    if lanes == 1:
        assert all(first % part_size == 0 for first, _ in parts)
        assert all(last + 1 - first == part_size for first, last in parts[:-1])
        return
    sizes = [last + 1 - first for first, last in parts]
    assert len(parts) % lanes == 0, "whole waves only"
    tail = sizes[-lanes:]
    assert max(tail) - min(tail) < 2 * ALIGN, "the last wave's parts end together"
    assert min(tail) >= MIN_PART
    assert max(tail) < 1.5 * part_size + ALIGN or len(parts) == lanes, "a remainder folded into a full wave is small"
    for first, last in parts[:-lanes]:
        assert first % part_size == 0 and last + 1 - first == part_size, "full waves hash whole blocks"
    assert all(first % ALIGN == 0 for first, _ in parts)


def test_nothing_to_plan_for_an_empty_object():
    assert plan_parts(0, 8 * MiB, 4) == [] and block_count(0) == 0


def test_a_part_size_that_is_not_whole_blocks_is_refused():
    with pytest.raises(ValueError):
        plan_parts(10 * MiB, 5 * MiB, 2)
    with pytest.raises(ValueError):
        plan_ranges([(0, 10)], 0)


def test_missing_blocks_become_runs_and_block_aligned_parts():
    size = 9 * BLOCK_SIZE + 100  # ten blocks, the last one short
    runs = missing_ranges(size, {0, 3, 4, 8})
    assert runs == [(BLOCK_SIZE, 3 * BLOCK_SIZE - 1), (5 * BLOCK_SIZE, 8 * BLOCK_SIZE - 1),
                    (9 * BLOCK_SIZE, size - 1)]
    parts = plan_ranges(runs, 2 * BLOCK_SIZE)
    assert parts == [(BLOCK_SIZE, 3 * BLOCK_SIZE - 1), (5 * BLOCK_SIZE, 7 * BLOCK_SIZE - 1),
                     (7 * BLOCK_SIZE, 8 * BLOCK_SIZE - 1), (9 * BLOCK_SIZE, size - 1)]
    assert missing_ranges(size, range(10)) == []


def test_a_checkpoint_is_written_as_blocks_and_reads_the_parts_of_older_runs_as_blocks():
    d = ["%040x" % i for i in range(5)]
    saved = Checkpoint(20 * MiB, "hash", "url", {0: d[0], 3: d[3]}, "name").to_json()
    assert saved["part_size"] == BLOCK_SIZE and saved["parts"] == {"0": [d[0]], "3": [d[3]]}
    assert Checkpoint.from_json(saved).blocks == {0: d[0], 3: d[3]}
    older = dict(saved, part_size=8 * MiB, parts={"0": [d[0], d[1]], "2": [d[4]]})
    assert Checkpoint.from_json(older).blocks == {0: d[0], 1: d[1], 4: d[4]}
    for bad in (dict(saved, part_size=6 * MiB), dict(saved, parts={"1": [d[0], d[1]]}),
                dict(saved, parts={"x": [d[0]]}), dict(saved, parts={"1": ["short"]})):
        with pytest.raises(ValueError):
            Checkpoint.from_json(bad)
