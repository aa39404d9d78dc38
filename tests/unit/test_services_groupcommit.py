"""GroupCommit: each change is durable when commit() returns, and changes made together share a write."""

import json
import threading
import time

from wcs.services.groupcommit import GroupCommit
from wcs.services.resume import BlockRecord, RecordStore, ResumeRecord

MiB = 1024 * 1024
SHA = "a" * 40


class _SlowStore(RecordStore):
    """A record store whose writes take a while and are counted (what two fsyncs cost on a slow disk)."""

    def __init__(self, folder, fail=False):
        super().__init__(folder, "U1")
        self.writes = []
        self.fail = fail

    def write(self, text):
        time.sleep(0.05)
        if self.fail:
            raise OSError(28, "No space left on device")
        super().write(text)
        self.writes.append(sorted(block["index"] for block in json.loads(text)["blocks"]))


def _run_workers(count, work):
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)


def test_workers_finishing_together_share_writes_and_each_change_is_on_disk_when_commit_returns(tmp_path):
    store = _SlowStore(str(tmp_path))
    record = ResumeRecord("U1", "/data/f.bin", 48 * MiB, 123, 4 * MiB, 4 * MiB, "b", "k")
    recorder = GroupCommit(lambda: store.dumps(record), store.write)
    durable = {}

    def finish(index):
        def remember():
            record.blocks[index] = BlockRecord(index, index * 4 * MiB, 4 * MiB, "ctx-%d" % index, [SHA])

        recorder.commit(remember)
        durable[index] = any(index in written for written in store.writes)

    _run_workers(12, finish)
    assert durable == {i: True for i in range(12)}
    assert len(store.writes) <= 4  # one write in flight; the next carries all that came meanwhile
    assert store.writes[-1] == list(range(12))
    assert sorted(store.load().blocks) == list(range(12))


def test_a_failed_write_raises_in_every_worker_it_carried(tmp_path):
    store = _SlowStore(str(tmp_path), fail=True)
    record = ResumeRecord("U1", "/data/f.bin", 48 * MiB, 123, 4 * MiB, 4 * MiB, "b", "k")
    recorder = GroupCommit(lambda: store.dumps(record), store.write)
    errors = []

    def finish(index):
        try:
            recorder.commit(lambda: None)
        except OSError as exc:
            errors.append(exc.errno)

    _run_workers(2, finish)
    assert errors == [28, 28]


def test_a_single_thread_writes_once_per_change():
    writes = []
    state = {"n": 0}
    recorder = GroupCommit(lambda: state["n"], writes.append)
    for _ in range(3):
        recorder.commit(lambda: state.__setitem__("n", state["n"] + 1))
    assert writes == [1, 2, 3]
