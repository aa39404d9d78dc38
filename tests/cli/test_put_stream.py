"""put/multiput from stdin, a pipe or a FIFO: the bytes that come, never an empty object for a non-regular file."""

import io
import json
import os
import subprocess
import sys
import threading

import pytest

from tests.cli.conftest import assert_one_error_line
from wcs.cli.wcscmd import main
from wcs.commons.config import Config
from wcs.commons.util import EtagHasher
from wcs.services.client import Client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MiB = 1024 * 1024


def _etag(data):
    hasher = EtagHasher()
    hasher.update(data)
    return hasher.etag()


def _stored(cfgfile, bucket, key):
    with Client(Config(cfgfile)) as client:
        return client.stat(bucket, key).raise_for_status().body


def _shell(command, cfgfile, cwd):
    """Run ``command`` in sh with ``wcscmd`` being the installed script of this checkout."""
    env = dict(os.environ, WCSCMD="%s %s" % (sys.executable, os.path.join(ROOT, "bin", "wcscmd")), CFG=cfgfile)
    env.pop("PYTHONPATH", None)
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", ["put", "multiput"])
def test_dev_stdin_of_a_pipe_uploads_what_the_pipe_carries(cfgfile, bucket, tmp_path, command):
    proc = _shell("printf 'x\\n' | $WCSCMD -c \"$CFG\" %s wcs://%s/k /dev/stdin" % (command, bucket), cfgfile,
                  tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["body"]["hash"] == _etag(b"x\n")
    assert _stored(cfgfile, bucket, "k")["fsize"] == 2


@pytest.mark.slow
def test_process_substitution_and_dash_stream_many_blocks(cfgfile, bucket, tmp_path):
    data = os.urandom(9 * MiB + 5)
    (tmp_path / "data").write_bytes(data)
    proc = _shell("$WCSCMD -c \"$CFG\" multiput wcs://%s/sub <(cat data) --concurrency 2 && "
                  "cat data | $WCSCMD -c \"$CFG\" put wcs://%s/dash -" % (bucket, bucket), cfgfile, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "upload id" not in proc.stderr and "resume" not in proc.stderr  # nothing to resume
    for key in ("sub", "dash"):
        body = _stored(cfgfile, bucket, key)
        assert (body["fsize"], body["hash"]) == (len(data), _etag(data))


def test_dash_reads_the_injected_stdin_bytes(cfgfile, bucket):
    data = os.urandom(5 * MiB)
    stdin = io.TextIOWrapper(io.BytesIO(data))
    out, err = io.StringIO(), io.StringIO()
    assert main(["-c", cfgfile, "put", "wcs://%s/in" % bucket, "-"], stdin=stdin, stdout=out, stderr=err,
                environ={}) == 0, err.getvalue()
    assert json.loads(out.getvalue())["body"]["hash"] == _etag(data)
    assert err.getvalue() == ""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_read_to_its_end(wcscmd, cfgfile, bucket, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    data = os.urandom(300 * 1024)

    def feed():
        with open(str(fifo), "wb") as fp:
            fp.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    run = wcscmd("-c", cfgfile, "put", "wcs://%s" % bucket, str(fifo))  # the key: the FIFO's name
    writer.join(30)
    assert run.status == 0, run.err
    assert _stored(cfgfile, bucket, "fifo")["hash"] == _etag(data)


def test_stream_upload_refusals(wcscmd, cfgfile, bucket, tmp_path):
    line = assert_one_error_line(wcscmd("-c", cfgfile, "put", "wcs://%s" % bucket, "-"), 2)
    assert "object key" in line and "stdin" in line
    line = assert_one_error_line(wcscmd("-c", cfgfile, "multiput", "wcs://%s/k" % bucket, "-", "--upload-id",
                                        "abc"), 2)
    assert "cannot be resumed" in line
    (tmp_path / "f").write_bytes(b"old")
    assert wcscmd("-c", cfgfile, "put", "wcs://%s/exists" % bucket, str(tmp_path / "f")).status == 0
    stdin = io.TextIOWrapper(io.BytesIO(b"new bytes"))
    err = io.StringIO()
    status = main(["-c", cfgfile, "put", "wcs://%s/exists" % bucket, "-"], stdin=stdin, stdout=io.StringIO(),
                  stderr=err, environ={})
    assert status == 5 and "add --overwrite 1" in err.getvalue()
    assert stdin.buffer.tell() == 0  # refused before a byte of the stream was read
