"""Issue 7, point 2 — crash-safe resume: ``wcscmd multiput`` killed with SIGKILL, then resumed.

A real ``wcscmd multiput`` process uploads a 5-block file (4 x 4 MiB + 1000 bytes, 2 blocks at a
time) to the module's emulator, whose ``slow`` faults hold every mkblk and mkfile for 0.2-1.0 s.
It is killed with SIGKILL at 12 moments, spread from "before the first block" to "mkfile sent,
not answered", some triggered by what the emulator and the resume record show, some at seeded
random times. After each kill the test reads the resume record (it must be valid JSON or absent:
written atomically), notes the blocks it records as complete, resets the emulator's counters and
resumes with the printed upload id. The resume must succeed with the file's etag, send exactly the
blocks missing from the record (``mkblk_log``), never one recorded as complete, and leave no
record behind.

Stale or corrupt records are refused through the CLI with exit status 8 and one clear line, and
nothing is sent. Library-level cases (another destination, block size, unknown format, a record
whose contexts the service forgot, a crash after mkfile) are in tests/functional/test_multipart.py.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers.files import MiB, write_file
from tests.helpers.waiting import wait_until
from wcs.cli.status import ExitStatus
from wcs.commons.util import etag
from wcs.services.resume import RecordStore

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BLOCKS = 5
SIZE = (BLOCKS - 1) * 4 * MiB + 1000
SEED = int(os.environ.get("WCS_TEST_FAULT_SEED", "7"))

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


def start_multiput(cfg, uri, path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "bin", "wcscmd"), "-c", cfg, "multiput", uri, path],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def batch_orders(emulator, upload_id):
    return [order for batch, order, _ in emulator.mkblk_log if batch == upload_id]


def load_record(folder, upload_id):
    store = RecordStore(folder, upload_id)
    record = store.load()  # raises on a torn or corrupt record: a kill must never leave one
    return store, record


# Each moment: (name, trigger) - the trigger is polled until true, then the process is killed.
def moments(rng):
    def after_blocks(count, extra):
        return ("%d block(s) recorded" % count,
                lambda st: len(st["record_blocks"]) >= count and time.monotonic() >= st.setdefault(
                    "when%d" % count, time.monotonic() + extra))

    found = [
        ("before the first block", lambda st: True),
        ("first mkblk in flight", lambda st: st["counters"].get("mkblk", 0) >= 1),
    ]
    found += [after_blocks(count, rng.uniform(0.0, 0.3)) for count in range(1, BLOCKS)]
    found.append(("mkfile sent, not answered", lambda st: st["counters"].get("mkfile", 0) >= 1))
    for _ in range(5):
        at = rng.uniform(0.0, 2.5)
        found.append(("random %.2f s" % at, lambda st, at=at: st["elapsed"] >= at))
    return found


def wait_for_moment(emulator, records, upload_id, proc, trigger):
    """Poll until ``trigger`` holds or the process ended (at most 60 s), loading the record each time."""
    started = time.monotonic()
    state = {"record_blocks": {}}

    def kill_now():
        state["elapsed"] = time.monotonic() - started
        state["counters"] = emulator.counters
        record = RecordStore(records, upload_id).load()  # valid at every moment, not only after
        state["record_blocks"] = record.blocks if record else {}
        return trigger(state) or proc.poll() is not None

    wait_until(kill_now, timeout=60, interval=0.005)


@pytest.mark.slow  # 12 real processes whose requests the emulator holds for up to 1 s: about 20 s
def test_sigkill_at_many_moments_then_resume_sends_no_confirmed_block(emulator, bucket, cfgfile, tmp_path,
                                                                      wcscmd):
    records = str(tmp_path / "records")
    cfg = cfgfile(concurrency=2, tmp_record_folder=records)
    path = write_file(tmp_path / "crash.bin", SIZE)
    local = etag(path)
    rng = random.Random(SEED)
    killed_mid_upload = 0
    confirmed_at_kill = []
    for number, (name, trigger) in enumerate(moments(rng)):
        uri = "wcs://%s/crash/%02d" % (bucket, number)
        emulator.set_faults("mkblk:slow:1,mkfile:slow:1", seed=SEED + number)
        emulator.reset_counters()
        proc = start_multiput(cfg, uri, path)
        first = proc.stderr.readline()  # printed before anything is sent
        assert first.startswith("wcscmd: upload id: "), first
        upload_id = first.split()[-1]
        wait_for_moment(emulator, records, upload_id, proc, trigger)
        running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        if running:
            killed_mid_upload += 1
            assert proc.returncode == -signal.SIGKILL
        # Requests of the dead process may still sit in a slow fault: let them end first.
        assert emulator.wait_idle(10)
        emulator.set_faults(None)

        store, record = load_record(records, upload_id)
        confirmed = set(record.blocks) if record else set()
        confirmed_at_kill.append(len(confirmed))
        emulator.reset_counters()
        run = wcscmd("-c", cfg, "multiput", uri, path, "--upload-id", upload_id)
        assert run.status == 0, (name, run.err)
        doc = json.loads(run.out)
        assert doc["upload_id"] == upload_id and doc["body"]["hash"] == local, name
        resent = batch_orders(emulator, upload_id)
        assert not confirmed & set(resent), "%s: confirmed blocks %s sent again" % (name, confirmed & set(resent))
        assert sorted(resent) == sorted(set(range(BLOCKS)) - confirmed), name  # exactly the missing ones
        stat = wcscmd("-c", cfg, "stat", uri)
        assert json.loads(stat.out)["body"]["hash"] == local
        assert not os.path.exists(store.directory), name
    print("blocks confirmed at each kill:", confirmed_at_kill)
    assert killed_mid_upload >= 10
    # The moments really were spread: from nothing confirmed to every block confirmed.
    assert 0 in confirmed_at_kill and BLOCKS in confirmed_at_kill and len(set(confirmed_at_kill)) >= 3


# -- stale or corrupt records ----------------------------------------------------------------------

@pytest.fixture
def interrupted(emulator, bucket, cfgfile, tmp_path, wcscmd, monkeypatch):
    """A CLI multiput of a 3-block file that failed after its first block: ``(cfg, uri, path, id, store)``."""
    cfg = cfgfile(concurrency=0, mkblk_retries=0, connection_retries=0)
    path = write_file(tmp_path / "interrupted.bin", 2 * 4 * MiB + 5)
    uri = "wcs://%s/stale" % bucket

    def fail_after_first_block():
        # The first mkblk is served; every later one fails.
        emulator.set_faults("mkblk:500:1")

    emulator.set_faults(None)
    emulator.reset_counters()
    from wcs.services import blocksteps

    original = blocksteps.BlockSteps.send_block

    def send_block(self, file_path, block, *args):
        if block.index > 0:
            fail_after_first_block()
        return original(self, file_path, block, *args)

    monkeypatch.setattr(blocksteps.BlockSteps, "send_block", send_block)
    try:
        run = wcscmd("-c", cfg, "multiput", uri, path)
    finally:
        monkeypatch.undo()
        emulator.set_faults(None)
    assert run.status == ExitStatus.SERVICE, run.err
    upload_id = json.loads(run.out)["upload_id"]
    store = RecordStore(str(tmp_path / "records"), upload_id)
    assert sorted(store.load().blocks) == [0]
    return cfg, uri, path, upload_id, store


def _touch(path, store):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def _grow(path, store):
    with open(path, "ab") as fp:
        fp.write(b"more")


def _truncate_json(path, store):
    text = open(store.path, encoding="utf-8").read()
    with open(store.path, "w", encoding="utf-8") as fp:
        fp.write(text[: len(text) // 2])


def _not_an_object(path, store):
    with open(store.path, "w", encoding="utf-8") as fp:
        fp.write("[1, 2, 3]")


def _python_not_json(path, store):
    # The official SDK eval()s its records; this one must never run anything.
    with open(store.path, "w", encoding="utf-8") as fp:
        fp.write("__import__('os').system('touch pwned')")


def _bad_block_entry(path, store):
    data = json.load(open(store.path, encoding="utf-8"))
    data["blocks"][0]["sha1"] = ["not-a-sha1"]
    json.dump(data, open(store.path, "w", encoding="utf-8"))


def _other_upload_id(path, store):
    data = json.load(open(store.path, encoding="utf-8"))
    data["upload_id"] = "someone-else"
    json.dump(data, open(store.path, "w", encoding="utf-8"))


def _other_file(path, store):
    data = json.load(open(store.path, encoding="utf-8"))
    data["path"] = os.path.join(os.path.dirname(path), "another-file.bin")
    json.dump(data, open(store.path, "w", encoding="utf-8"))


def _other_key(path, store):
    data = json.load(open(store.path, encoding="utf-8"))
    data["key"] = "another/key"
    json.dump(data, open(store.path, "w", encoding="utf-8"))


def _block_beyond_the_file(path, store):
    data = json.load(open(store.path, encoding="utf-8"))
    data["blocks"][0]["index"] = 7
    data["blocks"][0]["offset"] = 7 * 4 * MiB
    json.dump(data, open(store.path, "w", encoding="utf-8"))


@pytest.mark.parametrize("spoil, needle", [
    (_touch, "modified"),
    (_grow, "size changed"),
    (_truncate_json, "not valid JSON"),
    (_not_an_object, "not a JSON object"),
    (_python_not_json, "not valid JSON"),
    (_bad_block_entry, "sha1"),
    (_other_upload_id, "belongs to upload"),
    (_other_file, "is for file"),
    (_other_key, "is for"),
    (_block_beyond_the_file, "does not fit"),
], ids=lambda v: v.__name__[1:] if callable(v) else "")
def test_stale_or_corrupt_records_are_refused(emulator, interrupted, wcscmd, spoil, needle, cli_env):
    cfg, uri, path, upload_id, store = interrupted
    spoil(path, store)
    kept = open(store.path, "rb").read()
    emulator.reset_counters()
    run = wcscmd("-c", cfg, "multiput", uri, path, "--upload-id", upload_id)
    assert run.status == ExitStatus.RESUME == 8, run.err
    assert "Traceback" not in run.err
    assert run.err_lines[0] == "wcscmd: upload id: %s" % upload_id
    errors = run.err_lines[1:]
    assert len(errors) == 1 and errors[0].startswith("wcscmd: error: ") and needle in errors[0], errors
    assert run.out == ""
    counters = emulator.counters
    assert not any(counters.get(k, 0) for k in ("mkblk", "bput", "mkfile")), counters  # nothing trusted
    assert open(store.path, "rb").read() == kept  # left for the user to inspect
    assert not os.path.exists(os.path.join(str(cli_env), "pwned"))
    # Starting over under a new id works.
    run = wcscmd("-c", cfg, "multiput", uri, path)
    assert run.status == 0 and json.loads(run.out)["body"]["hash"] == etag(path)
