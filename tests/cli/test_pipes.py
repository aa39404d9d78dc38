"""Pipes as Unix tools have them (issue 22, item 6): a reader that goes away stops the command at once, with
nothing printed and exit 141, whatever the command; progress only on a terminal's stderr, never over data.

Real processes, real pipes and a pseudo-terminal: what is measured is the exit status of the wcscmd process
and what it wrote, as a shell pipeline sees them.
"""

import os
import pty
import subprocess
import sys
import threading
import uuid

import pytest

from tests.helpers.terminal import screen
from wcs.commons.util import etag

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MiB = 1024 * 1024


def _env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("WCS_")}
    env["PYTHONPATH"] = ROOT
    return env


def _argv(*words):
    return [sys.executable, os.path.join(ROOT, "bin", "wcscmd")] + [str(w) for w in words]


@pytest.fixture(scope="module")
def seeded(emulator, tmp_path_factory):
    """A bucket with ``big`` (12 MiB), ``text`` (a readable 64 KiB) and 800 small keys under ``many/`` (a
    listing of ~100 KiB, more than a pipe holds); ``(bucket, contents)``."""
    bucket = "pipes-" + uuid.uuid4().hex[:12]
    emulator.create_bucket(bucket)
    folder = tmp_path_factory.mktemp("seed")
    big = os.urandom(12 * MiB)
    text = b"".join(b"line %05d of the object\n" % i for i in range(2700))
    items = []
    contents = [("big", big), ("text", text)] + [("many/key-%04d" % i, b"x") for i in range(800)]
    for i, (key, data) in enumerate(contents):
        path = folder / ("seed-%d" % i)
        path.write_bytes(data)
        items.append((key, str(path), len(data), etag(str(path)), "application/octet-stream"))
    emulator.store.put_files(bucket, items)
    return bucket, {"big": big, "text": text}


@pytest.fixture
def bucket(seeded):
    return seeded[0]


@pytest.fixture
def objects(seeded):
    return seeded[1]


# Every kind of output: data, a streamed listing, one document, the configuration, help, a script.
COMMANDS = [
    ["cat", "wcs://{b}/big"],
    ["listall", "wcs://{b}", "-"],
    ["--dump-config"],
    ["stat", "--help"],
]
MORE_COMMANDS = [
    ["get", "wcs://{b}/big", "-"],
    ["list", "wcs://{b}", "-"],
    ["stat", "wcs://{b}/big"],
    ["listbucket"],
    ["--help"],
    ["completion", "bash"],
    ["records"],
    ["crc64", "{cfg}"],
]


def _all_gone_early(cfgfile, bucket, commands):
    procs = {}
    for argv in commands:  # all at once: interpreters starting one after the other would take long
        words = [w.format(b=bucket, cfg=cfgfile) for w in argv]
        proc = subprocess.Popen(_argv("-c", cfgfile, *words), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=_env())
        proc.stdout.close()  # the reader is gone before the command writes anything (the interpreter starts slower)
        procs[" ".join(argv)] = proc
    results = {name: (proc.wait(timeout=60), proc.stderr.read()) for name, proc in procs.items()}
    for proc in procs.values():
        proc.stderr.close()
    assert results == {name: (141, b"") for name in procs}


def test_a_reader_gone_before_the_first_byte_ends_the_command_with_141_and_no_word(cfgfile, bucket, objects):
    _all_gone_early(cfgfile, bucket, COMMANDS)


@pytest.mark.slow  # a dozen interpreters: a few seconds on a busy machine
def test_a_reader_gone_ends_every_command_with_141_and_no_word(cfgfile, bucket, objects):
    _all_gone_early(cfgfile, bucket, MORE_COMMANDS)


@pytest.mark.parametrize("argv, reader", [
    (["cat", "wcs://{b}/big"], ["head", "-c", "10"]),
    (["get", "wcs://{b}/big", "-"], ["head", "-c", "10"]),
    (["listall", "wcs://{b}", "-"], ["head", "-n", "1"]),
])
def test_head_takes_what_it_wants_and_the_command_stops_at_once(cfgfile, bucket, objects, argv, reader):
    words = [w.format(b=bucket) for w in argv]
    writer = subprocess.Popen(_argv("-c", cfgfile, *words), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, env=_env())
    head = subprocess.Popen(reader, stdin=writer.stdout, stdout=subprocess.PIPE)
    writer.stdout.close()  # head holds the only reading end now, as in a shell pipeline
    out, _ = head.communicate(timeout=60)
    err = writer.stderr.read()
    assert writer.wait(timeout=60) == 141
    assert err == b""
    if argv[0] != "listall":
        assert out == objects["big"][:10]
    else:
        assert out == b"[\n"


def _run_on_terminal(argv, stdout_to_terminal):
    """Run with stderr on a pseudo-terminal (and stdout too, or a pipe); ``(status, terminal bytes, stdout bytes)``."""
    master, slave = pty.openpty()
    seen = []

    def drain():
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every slave end is closed
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=slave,
                                stdout=slave if stdout_to_terminal else subprocess.PIPE, env=_env())
    finally:
        os.close(slave)
    out = b"" if stdout_to_terminal else proc.stdout.read()
    status = proc.wait(timeout=60)
    reader.join(timeout=10)
    os.close(master)
    return status, b"".join(seen), out


def test_no_bar_over_data_that_goes_to_the_terminal(cfgfile, bucket, objects):
    status, terminal, _ = _run_on_terminal(_argv("-c", cfgfile, "cat", "wcs://%s/text" % bucket), True)
    assert status == 0
    assert b"%" not in terminal and b"B/s" not in terminal and b"MB" not in terminal
    assert terminal.replace(b"\r\n", b"\n") == objects["text"]  # the data and nothing else


def test_piped_data_gets_a_bar_with_its_total_on_the_terminal(cfgfile, bucket, objects):
    status, terminal, out = _run_on_terminal(_argv("-c", cfgfile, "cat", "wcs://%s/big" % bucket), False)
    assert status == 0 and out == objects["big"]
    text = terminal.decode()
    drawings = [part for part in text.split("\r") if part.strip()]
    assert "/12.0MB" in drawings[0] and "%|" in drawings[0]  # the total is known from the first drawing on
    assert screen(text.replace("\r\n", "\n")) == ["stdout  12.0MB  in " + text.rsplit(" in ", 1)[1].strip()]


def test_progress_never_goes_to_stdout(cfgfile, bucket, objects, tmp_path):
    status, terminal, out = _run_on_terminal(
        _argv("-c", cfgfile, "get", "wcs://%s/big" % bucket, tmp_path / "copy.bin"), False)
    assert status == 0
    assert b"\r" not in out and b"B/s" not in out and out.startswith(b"{")
    assert b"12.0MB" in terminal
