"""A real ``wcscmd multiput`` process on a slow link, stopped by SIGINT / SIGTERM / SIGHUP.

The emulator's ``slow`` fault delays every mkblk and bput by 0.2-1.0 s, so blocks are in flight when
the signal comes. What a user must see: the first signal says at once that it is stopping; the
command then ends with the resume command (exit 130 / 143 / 129); a second signal ends it at once;
and the blocks recorded before are never lost: resuming skips them and stores the right object.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from wcs.commons.util import etag

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MiB = 1024 * 1024
BLOCKS = 8

# Real processes on a slowed emulator: about 10 s in all, so with the slow tests.
pytestmark = [pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals"), pytest.mark.slow]


@pytest.fixture
def slow_link(emulator):
    emulator.set_faults("mkblk:slow:1.0,bput:slow:1.0", seed=11)
    yield
    emulator.set_faults(None)


@pytest.fixture
def big(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(BLOCKS * 4 * MiB))
    return str(path)


class Multiput:
    """``wcscmd multiput`` in a subprocess; stderr lines arrive on a queue with their arrival time."""

    def __init__(self, cfgfile, bucket, path, cwd, *extra):
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        self.argv = [sys.executable, os.path.join(ROOT, "bin", "wcscmd"), "-c", cfgfile, "multiput",
                     "wcs://%s/sig.bin" % bucket, path, "--concurrency", "2", "--quiet"] + list(extra)
        self.proc = subprocess.Popen(self.argv, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put((time.monotonic(), line.rstrip("\n")))
        self.lines.put((time.monotonic(), None))

    def line(self, timeout=30):
        when, line = self.lines.get(timeout=timeout)
        assert line is not None, "stderr ended (exit %s)" % self.proc.wait(10)
        return when, line

    def rest(self, timeout=30):
        lines = []
        deadline = time.monotonic() + timeout
        while True:
            when, line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            if line is None:
                return lines
            lines.append((when, line))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def _blocks_recorded(record):
    try:
        with open(record, encoding="utf-8") as fp:
            return len(json.load(fp)["blocks"])
    except (OSError, ValueError):
        return 0


def _started(run, tmp_path):
    """The upload id, the record path, and how many blocks it held when we chose to interrupt."""
    _, first = run.line()
    assert first.startswith("wcscmd: upload id: "), first
    upload_id = first.split()[-1]
    record = str(tmp_path / "records" / upload_id / "record.json")
    deadline = time.monotonic() + 60
    while _blocks_recorded(record) < 1:  # some progress to keep, and more blocks on their way
        assert time.monotonic() < deadline and run.proc.poll() is None, "no block recorded"
        time.sleep(0.05)
    return upload_id, record, _blocks_recorded(record)


def _resume_and_check(cfgfile, bucket, path, upload_id, kept, cwd):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "wcscmd"), "-c", cfgfile, "multiput",
                           "wcs://%s/sig.bin" % bucket, path, "--upload-id", upload_id, "--quiet"],
                          cwd=str(cwd), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    resumed = [line for line in proc.stderr.splitlines() if "already uploaded" in line]
    assert len(resumed) == 1, proc.stderr
    done = int(resumed[0].split("resuming: ", 1)[1].split()[0])
    assert done >= kept, (done, kept)  # nothing recorded before the signals was lost
    assert json.loads(proc.stdout)["body"]["hash"] == etag(path)


@pytest.mark.timeout(180)
def test_first_ctrl_c_says_it_is_stopping_at_once_then_prints_the_resume_command(
        slow_link, cfgfile, bucket, big, tmp_path):
    run = Multiput(cfgfile, bucket, big, tmp_path)
    try:
        upload_id, record, kept = _started(run, tmp_path)
        sent = time.monotonic()
        run.proc.send_signal(signal.SIGINT)
        when, line = run.line()
        assert line.startswith("wcscmd: stopping: waiting for "), line
        assert line.endswith(" in flight (Ctrl-C again to quit now)"), line
        assert when - sent < 2.0, "the stopping note came %.1f s after Ctrl-C" % (when - sent)
        rest = [text for _, text in run.rest()]
        assert run.proc.wait(30) == 130
        assert rest[0] == "wcscmd: error: interrupted", rest
        assert rest[1].startswith("wcscmd: to resume the upload run: ") and rest[1].endswith(
            "--upload-id %s" % upload_id), rest
        assert run.proc.stdout.read() == ""
    finally:
        run.kill()
    assert _blocks_recorded(record) >= kept
    _resume_and_check(cfgfile, bucket, big, upload_id, kept, tmp_path)


@pytest.mark.timeout(180)
def test_second_ctrl_c_quits_at_once_and_keeps_the_recorded_blocks(slow_link, cfgfile, bucket, big, tmp_path):
    run = Multiput(cfgfile, bucket, big, tmp_path)
    try:
        upload_id, record, kept = _started(run, tmp_path)
        run.proc.send_signal(signal.SIGINT)
        _, line = run.line()
        assert line.startswith("wcscmd: stopping: "), line
        sent = time.monotonic()
        run.proc.send_signal(signal.SIGINT)
        status = run.proc.wait(30)
        took = time.monotonic() - sent
        rest = [text for _, text in run.rest()]
        assert status == 130, rest
        assert took < 2.0, "the second Ctrl-C took %.1f s to end the command" % took
        assert rest[-1].endswith("--upload-id %s" % upload_id), rest
        assert "Traceback" not in "\n".join(rest)
    finally:
        run.kill()
    assert _blocks_recorded(record) >= kept
    _resume_and_check(cfgfile, bucket, big, upload_id, kept, tmp_path)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("signum, status, words", [(signal.SIGTERM, 143, "terminated (SIGTERM)"),
                                                    (signal.SIGHUP, 129, "hung up (SIGHUP)")])
def test_sigterm_and_sighup_print_the_resume_command_too(slow_link, cfgfile, bucket, big, tmp_path, signum,
                                                          status, words):
    run = Multiput(cfgfile, bucket, big, tmp_path)
    try:
        upload_id, record, kept = _started(run, tmp_path)
        run.proc.send_signal(signum)
        _, line = run.line()
        assert line.startswith("wcscmd: stopping: ") and line.endswith("(the signal again to quit now)"), line
        rest = [text for _, text in run.rest()]
        assert run.proc.wait(30) == status, rest
        assert rest[0] == "wcscmd: error: " + words, rest
        assert rest[1].startswith("wcscmd: to resume the upload run: ") and rest[1].endswith(
            "--upload-id %s" % upload_id), rest
    finally:
        run.kill()
    assert _blocks_recorded(record) >= kept


def test_handlers_are_restored_after_main(cfgfile):
    from wcs.cli.wcscmd import main

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    assert main(["-c", cfgfile, "--dump-config"], stdout=open(os.devnull, "w"), environ={}) == 0
    assert {s: signal.getsignal(s) for s in before} == before
