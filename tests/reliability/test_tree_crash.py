"""Issue 15, points 4 and 9 — ``wcscmd sync`` killed with SIGKILL in the middle, then run again.

A real ``wcscmd sync`` process uploads 1,000 small files and a 20 MiB file (5 multipart blocks,
slowed by the emulator so the kill lands while it is in flight). It is killed once the big file's
resume record lists two blocks. The same command is then run again and must finish the job while
sending only what is missing: exactly one form upload per small file the service does not hold
yet, and exactly the blocks the record does not list, under the same (derived) upload id; no
``--upload-id`` is given. Afterwards every object is right and no record is left.

Then the other direction: ``wcscmd sync wcs://... LOCAL_DIR`` is killed while the big file is
being fetched as ranges (its checkpoint lists a part); the re-run fetches exactly the small files
not yet on disk and the parts not yet in the checkpoint, and leaves no temporary file behind.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers.files import MiB, write_file
from wcs.commons.util import etag
from wcs.services.ranged import CHECKPOINT_NAME, staging_path
from wcs.services.resume import RecordStore
from wcs.services.tree.localtree import LocalFile
from wcs.services.tree.records import derived_upload_id

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = 1000
BIG = "m/big.bin"
BIG_SIZE = 20 * MiB

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")]


def build(root):
    rels = []
    for i in range(SMALL):
        rel = "%s/f %04d.txt" % ("abcdefghijklmnopqrstuvwxyz"[i % 26], i)
        path = os.path.join(str(root), *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fp:
            fp.write(b"%d " % i * (1 + i % 40))
        rels.append(rel)
    os.makedirs(str(root / "m"), exist_ok=True)
    write_file(root / "m" / "big.bin", BIG_SIZE, seed=3)
    return str(root), rels + [BIG]


def start(cfg, home, *argv):
    env = dict(os.environ, PYTHONPATH=ROOT, HOME=str(home))
    env.pop("XDG_CACHE_HOME", None)
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "bin", "wcscmd"), "-c", cfg, *argv],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def kill_when(proc, condition, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError("wcscmd ended (%s) before the kill:\n%s\n%s" % (proc.returncode, out, err))
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            return
        time.sleep(0.02)
    proc.kill()
    proc.communicate()
    raise AssertionError("the moment to kill never came")


def etags_under(emulator, bucket, prefix):
    return {info.key[len(prefix):]: info.hash for info in emulator.store.keys_under(bucket, prefix)}


def test_sigkill_mid_sync_then_the_same_command_finishes_it(emulator, bucket, tmp_path):
    src, rels = build(tmp_path / "src")
    want = {rel: etag(os.path.join(src, *rel.split("/"))) for rel in rels}
    records = tmp_path / "records"
    home = tmp_path / "home"
    home.mkdir()
    cfg = str(tmp_path / "emu.wcscfg")
    emulator.write_config(cfg)
    with open(cfg, "a", encoding="utf-8") as fp:
        fp.write("tmp_record_folder = %s\ndownload_threshold = 8388608\ndownload_part_size = 4194304\n" % records)
    big = os.path.join(src, *BIG.split("/"))
    upload_id = derived_upload_id(bucket, "t/" + BIG, LocalFile.from_stat(BIG, big, os.stat(big)))
    store = RecordStore(str(records), upload_id)

    def blocks_recorded():
        try:
            record = store.load()
        except Exception:  # being replaced right now; the next poll reads it
            return 0
        return len(record.blocks) if record is not None else 0

    # -- upload, killed with two blocks of the big file recorded -------------------------------------
    emulator.set_faults("mkblk:slow:1.0,upload:slow:0.02", seed=5)
    argv = ("sync", src, "wcs://%s/t" % bucket, "--transfers", "4")
    kill_when(start(cfg, home, *argv), lambda: blocks_recorded() >= 2)
    assert emulator.wait_idle(30)
    emulator.set_faults(None)
    record = store.load()  # valid JSON: written atomically
    assert record is not None and 2 <= len(record.blocks) < 5
    stored = etags_under(emulator, bucket, "t/")
    right = {rel for rel in rels if stored.get(rel) == want[rel]}
    assert BIG not in stored and len(right) < SMALL + 1

    emulator.reset_counters()
    proc = start(cfg, home, *argv)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["failed"] == 0 and summary["transferred"]["files"] == SMALL + 1 - len(right)
    counters = emulator.counters
    assert counters.get("upload", 0) == SMALL - len(right)  # no finished small file sent again
    assert counters["mkblk"] == 5 - len(record.blocks)  # no recorded block sent again
    assert {batch for batch, _, _ in emulator.mkblk_log} == {upload_id}  # resumed under the derived id
    assert etags_under(emulator, bucket, "t/") == want
    assert not store.exists()

    # -- download, killed while the big file's ranges are being fetched --------------------------------
    dst = tmp_path / "dst"
    checkpoint = os.path.join(staging_path(str(dst / "m" / "big.bin")), CHECKPOINT_NAME)

    def parts_on_disk():
        try:
            with open(str(checkpoint), encoding="utf-8") as fp:
                return len(json.load(fp)["parts"])
        except (OSError, ValueError, KeyError):
            return 0

    emulator.set_faults("download:slow:0.3", seed=6)
    argv = ("sync", "wcs://%s/t" % bucket, str(dst), "--transfers", "4")
    kill_when(start(cfg, home, *argv), lambda: parts_on_disk() >= 1)
    assert emulator.wait_idle(30)
    emulator.set_faults(None)
    parts = parts_on_disk()
    present = {rel for rel in rels if os.path.isfile(os.path.join(str(dst), *rel.split("/")))}
    assert BIG not in present and parts >= 1

    emulator.reset_counters()
    proc = start(cfg, home, *argv)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert emulator.counters["download"] == (SMALL - len(present)) + (5 - parts)
    found = {}
    for folder, _, names in os.walk(str(dst)):
        for name in names:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, str(dst)).replace(os.sep, "/")] = etag(path)
    assert found == want  # every file right, no temporary or partial file left
    print("upload killed with %d small files stored and %d blocks recorded; download killed with %d files on "
          "disk and %d parts" % (len(right), len(record.blocks), len(present), parts))
