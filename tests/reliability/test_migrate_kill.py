"""Issue 26, points 2 and 4 — a migration of a few hundred objects from a real S3 server (moto's, on
127.0.0.1), killed with SIGKILL in the middle, run again: nothing confirmed is fetched twice, nothing is
missing; then a changed source object and ``delete``.

The migration runs in a child process (``Client.sync`` from an ``s3://`` URL, the endpoint and keys
from the environment as a user would give them, ``FSSPEC_S3_ENDPOINT_URL``), its requests to the
emulator through a counting proxy; moto counts the emulator's reads of each object. The counts
printed at the end (``-s``) are those of the closing note.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.bench.shaper import Link, Shaper
from tests.helpers.files import etag_of as _etag
from tests.helpers.s3origin import S3Origin
from tests.helpers.waiting import wait_until

pytest.importorskip("s3fs")
pytest.importorskip("moto.moto_server.werkzeug_app")

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
OBJECTS = 300

CHILD = r"""
import json, sys
from wcs.commons.config import Config
from wcs.services.client import Client
from wcs.services.tree import Remote

url, mgr, ak, sk, source, bucket, journal, delete = sys.argv[1:9]
cfg = Config(access_key=ak, secret_key=sk, put_url=url, mgr_url=mgr, connection_timeout=30)
with Client(cfg) as client:
    summary = client.sync(source, Remote(bucket, "mig"), journal=journal, batch=10, jobs=2,
                          delete=delete == "1")
print(json.dumps(summary.to_json()))
"""


def _objects():
    rng = __import__("random").Random(26)
    objects = {}
    for i in range(OBJECTS - 25):
        objects["data/p%02d/o%04d.bin" % (i % 12, i)] = rng.randbytes(rng.randrange(0, 40000))
    for i in range(20):
        objects["data/ünï/文件 %02d — ü.txt" % i] = ("объект %d " % i).encode() * (i + 1)
    for i in range(4):
        objects["data/large/%d.bin" % i] = rng.randbytes(4 * MiB + 1 + i * 999)
    return objects


def _run(args, env):
    return subprocess.Popen([sys.executable, "-c", CHILD] + [str(a) for a in args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _states(journal):
    try:
        with sqlite3.connect("file:%s?mode=ro" % journal, uri=True, timeout=5) as db:
            return dict(db.execute("SELECT state, COUNT(*) FROM objects GROUP BY state").fetchall())
    except sqlite3.Error:
        return {}


def test_killed_mid_run_and_run_again_fetches_nothing_confirmed_twice_and_misses_nothing(
        emulator, bucket, client, tmp_path):
    with S3Origin() as s3, Shaper(("127.0.0.1", emulator.port),
                                  Link(rtt=0, conn_rate=0, total_rate=0, handshake=False)) as proxy:
        fs = s3.fs()
        source = s3.bucket()
        objects = _objects()
        for key, data in objects.items():
            fs.pipe_file("%s/%s" % (source, key), data)
        # One object uploaded in two parts: its ETag ("...-2") is no MD5, so no md5 goes with its fetch.
        with fs.open("%s/data/large/multipart.bin" % source, "wb", block_size=5 * MiB) as out:
            part = os.urandom(MiB)
            for _ in range(6):
                out.write(part)
        objects["data/large/multipart.bin"] = part * 6
        assert "-" in fs.info("%s/data/large/multipart.bin" % source)["ETag"]
        total = sum(len(v) for v in objects.values())
        journal = str(tmp_path / "journal.sqlite")
        env = dict(os.environ, PYTHONPATH=os.getcwd(), **s3.environment)
        args = [proxy.url, proxy.url, emulator.access_key, emulator.secret_key, "s3://%s/data" % source, bucket,
                journal]
        s3.reset_counts()
        proxy.reset_stats()
        emulator.reset_counters()

        first = _run(args + ["0"], env)
        try:
            # Killed once 60 objects are confirmed, preferably while a job is in flight (submitted, not
            # yet settled), so that the second run has a job of the first to follow.
            def killable():
                states = _states(journal)
                done, submitted = states.get("done", 0), states.get("submitted", 0)
                return (done >= 60 and submitted) or done >= 150 or first.poll() is not None

            assert wait_until(killable, 120)
            first.send_signal(signal.SIGKILL)
        finally:
            first.wait(30)
        assert first.returncode == -signal.SIGKILL, first.stderr.read()
        states = _states(journal)
        assert 60 <= states.get("done", 0) < len(objects), states
        with sqlite3.connect(journal) as db:
            confirmed = [rel for (rel,) in db.execute("SELECT rel FROM objects WHERE state = 'done'")]
        fetched_before = {rel: s3.fetches_of(source, "data/" + rel) for rel in confirmed}
        assert all(count == 1 for count in fetched_before.values())
        emulator_bytes_first = s3.counts["emulator"]["bytes_out"]

        second = _run(args + ["0"], env)
        out, err = second.communicate(timeout=300)
        assert second.returncode == 0, err
        summary = json.loads(out)
        assert summary["failed"] == 0 and not summary["errors"], summary
        # Each object counted once: skipped (stored before the kill, or by a job of the killed run that
        # this run followed to its end) or fetched now.
        assert summary["skipped"]["same"] + summary["fetched"]["files"] == len(objects), summary
        if states.get("submitted"):  # a job was in flight at the kill: this run followed it to its end
            assert summary["jobs"]["followed"] >= 1, (states, summary)
        # Nothing confirmed before the kill was read from the source again.
        again = {rel: s3.fetches_of(source, "data/" + rel) - fetched_before[rel] for rel in confirmed}
        assert not {rel: n for rel, n in again.items() if n}, "fetched twice after being confirmed"
        # Nothing missing, every hash right.
        stored = {info.key[len("mig/"):]: info for info in client.list_objects(bucket, "mig/")}
        assert sorted(stored) == sorted(k[len("data/"):] for k in objects)
        for key, data in objects.items():
            assert stored[key[len("data/"):]].hash == _etag(data), key
        assert s3.counts["client"]["object_gets"] == 0
        assert not {"upload", "mkblk", "bput", "mkfile", "download"} & set(emulator.counters)
        client_bytes = (s3.counts["client"]["bytes_in"] + s3.counts["client"]["bytes_out"]
                        + proxy.stats()["bytes_up"] + proxy.stats()["bytes_down"])
        fetched_bytes = s3.counts["emulator"]["bytes_out"]
        print("\nmigration of %d objects (%d bytes) from moto S3, killed after %d confirmed, run again: "
              "the emulator fetched %d bytes in %d object reads (%d before the kill); bytes through the client: "
              "%d (listing and job traffic: %d to/from S3, %d to/from WCS); second run: %s"
              % (len(objects), total, len(confirmed), fetched_bytes, s3.counts["emulator"]["object_gets"],
                 emulator_bytes_first, client_bytes,
                 s3.counts["client"]["bytes_in"] + s3.counts["client"]["bytes_out"],
                 proxy.stats()["bytes_up"] + proxy.stats()["bytes_down"],
                 json.dumps({k: summary[k] for k in ("transferred", "fetched", "streamed", "skipped", "jobs")})))
        assert client_bytes < 5000 * len(objects)  # listing and job documents: a few KB per object

        # A changed object and a removed one: one fetch and one deletion, the rest untouched.
        fs.pipe_file("%s/data/p01/o0001.bin" % source, b"changed")
        fs.rm_file("%s/data/ünï/文件 03 — ü.txt" % source)
        time.sleep(0.01)
        third = _run(args + ["1"], env)
        out, err = third.communicate(timeout=300)
        assert third.returncode == 0, err
        summary = json.loads(out)
        assert summary["fetched"]["files"] == 1 and summary["deleted"] == 1 and summary["delete"] == "done", summary
        assert summary["skipped"] == {"same": len(objects) - 2}
        assert client.stat_object(bucket, "mig/p01/o0001.bin").hash == _etag(b"changed")
        assert client.stat(bucket, "mig/ünï/文件 03 — ü.txt").code == 404
