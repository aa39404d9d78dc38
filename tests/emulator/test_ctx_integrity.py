"""A ctx is bound to its upload, a committed object never changes, and a crash inside mkfile leaves
either the blocks or the object (a real crash of an emulator process, injected at a test-only point)."""

import io
import os
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest
import requests

from wcs.commons.util import BLOCK_SIZE, etag_stream
from wcs.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from wcs.emulator.crashpoints import ENVIRONMENT, EXIT_STATUS
from wcs.emulator.httpd import PREBUFFER

from .test_cli import ROOT


def _post(api, path, data, token, **headers):
    headers["Authorization"] = token
    return requests.post(api.url + path, data=data, headers=headers, timeout=30)


def _stored(api, bucket, key):
    data = requests.get("%s/%s/%s" % (api.url, bucket, key), timeout=30).content
    return data, etag_stream(io.BytesIO(data))


def test_ctx_is_bound_to_its_bucket_key_and_batch(api, bucket):
    api.emu.create_bucket(bucket + "x")
    token = api.token(bucket + ":mine")
    ctx = _post(api, "/mkblk/10/0", b"12345", token, UploadBatch="batch-a").json()["ctx"]
    for other in (api.token(bucket + "x:mine"), api.token(bucket + ":theirs"), api.token(bucket)):
        assert _post(api, "/bput/%s/5" % ctx, b"67890", other).status_code == 701
    assert _post(api, "/bput/%s/5" % ctx, b"67890", token, UploadBatch="batch-b").status_code == 701
    done = _post(api, "/bput/%s/5" % ctx, b"67890", token, UploadBatch="batch-a")
    assert done.status_code == 200
    full = done.json()["ctx"]
    for other in (api.token(bucket + "x:mine"), api.token(bucket + ":theirs")):
        resp = _post(api, "/mkfile/10", full, other)
        assert resp.status_code == 701 and resp.json()["code"] == 701
    assert _post(api, "/mkfile/10", full, token, UploadBatch="batch-b").status_code == 701
    assert _post(api, "/mkfile/10", full, token, UploadBatch="batch-a").status_code == 200
    assert _stored(api, bucket, "mine")[0] == b"1234567890"
    # a block made under a token for the whole bucket may become any key of that bucket
    wide = _post(api, "/mkblk/3/0", b"abc", api.token(bucket)).json()["ctx"]
    assert _post(api, "/mkfile/3", wide, api.token(bucket + ":any")).status_code == 200


def test_late_bput_cannot_change_a_committed_object(api, bucket):
    token = api.token(bucket + ":fixed")
    first = _post(api, "/mkblk/10/0", b"12345", token).json()["ctx"]
    full = _post(api, "/bput/%s/5" % first, b"67890", token).json()["ctx"]
    resp = _post(api, "/mkfile/10", full, token)
    assert resp.status_code == 200
    late = _post(api, "/bput/%s/5" % first, b"XXXXX", token)
    assert late.status_code == 701
    data, etag = _stored(api, bucket, "fixed")
    assert data == b"1234567890" and etag == resp.json()["hash"]


def test_bput_in_flight_during_mkfile_never_changes_the_object(api, bucket):
    """A retried chunk still arriving when mkfile merges an upload written in place in its batch file:
    mkfile waits for it, and the stored hash always describes the stored bytes."""
    token = api.token(bucket + ":inflight")
    half = BLOCK_SIZE // 2
    data = os.urandom(BLOCK_SIZE)
    first = _post(api, "/mkblk/%d/0" % BLOCK_SIZE, data[:half], token, UploadBatch="inflight").json()["ctx"]
    full = _post(api, "/bput/%s/%d" % (first, half), data[half:], token, UploadBatch="inflight").json()["ctx"]
    retry = os.urandom(half)
    sent = PREBUFFER + 1024  # more than the server gathers before it starts the handler
    sock = socket.create_connection(("127.0.0.1", api.emu.port), timeout=30)
    with sock:
        sock.sendall(("POST /bput/%s/%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nAuthorization: %s\r\n"
                      "UploadBatch: inflight\r\n\r\n" % (first, half, half, token)).encode() + retry[:sent])
        time.sleep(0.3)  # the retry is inside bput, writing into the block
        answers = []
        merger = threading.Thread(target=lambda: answers.append(
            _post(api, "/mkfile/%d" % BLOCK_SIZE, full, token, UploadBatch="inflight")))
        merger.start()
        time.sleep(0.3)
        sock.sendall(retry[sent:])
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        merger.join(30)
    (resp,) = answers
    stored, etag = _stored(api, bucket, "inflight")
    if resp.status_code == 200:
        assert etag == resp.json()["hash"]
        assert stored in (data, data[:half] + retry)
    else:  # the retry left the block short of its end: the ctx of the full block no longer holds
        assert resp.status_code == 412 and stored == b""
    assert _post(api, "/bput/%s/%d" % (first, half), retry, token, UploadBatch="inflight").status_code == 701
    assert _stored(api, bucket, "inflight") == (stored, etag)


def test_a_block_whose_data_is_missing_is_701(api, bucket):
    token = api.token(bucket + ":gone")
    ctx = _post(api, "/mkblk/5/0", b"12345", token).json()["ctx"]
    (block_id,) = [name for name in os.listdir(api.emu.store.blocks_dir) if ctx.startswith(name)]
    os.remove(os.path.join(api.emu.store.blocks_dir, block_id))
    resp = _post(api, "/mkfile/5", ctx, token)
    assert resp.status_code == 701, resp.text


def _start(data_dir, **env):
    environ = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    environ.pop(ENVIRONMENT, None)
    environ.update(env)
    proc = subprocess.Popen([sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir", str(data_dir),
                             "--bucket", "b"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environ)
    return proc, proc.stdout.readline().split()[-1]


def _finish(proc):
    if proc.poll() is None:
        proc.terminate()
    code = proc.wait(timeout=15)
    proc.stdout.close()
    proc.stderr.close()
    return code


@pytest.mark.parametrize("blocks", [1, 2], ids=["in-place", "in-place-plus-short-block"])
def test_crash_between_rename_and_commit_keeps_the_blocks(tmp_path, blocks):
    from .conftest import Api

    data = os.urandom(BLOCK_SIZE * blocks - (0 if blocks == 1 else BLOCK_SIZE // 2))
    proc, url = _start(tmp_path, **{ENVIRONMENT: "after-rename"})
    try:
        token = Api(SimpleNamespace(url=url, access_key=DEFAULT_ACCESS_KEY, secret_key=DEFAULT_SECRET_KEY)
                    ).token("b:crashed")
        ctxs = []
        for order, start in enumerate(range(0, len(data), BLOCK_SIZE)):
            resp = requests.post("%s/mkblk/%d/%d" % (url, min(BLOCK_SIZE, len(data) - start), order),
                                 data=data[start:start + BLOCK_SIZE], timeout=30,
                                 headers={"Authorization": token, "UploadBatch": "crash-batch"})
            assert resp.status_code == 200, resp.text
            ctxs.append(resp.json()["ctx"])
        with pytest.raises(requests.ConnectionError):
            requests.post("%s/mkfile/%d" % (url, len(data)), data=",".join(ctxs), timeout=30,
                          headers={"Authorization": token, "UploadBatch": "crash-batch"})
        assert _finish(proc) == EXIT_STATUS
        proc, url = _start(tmp_path)
        assert requests.get(url + "/b/crashed", timeout=30).status_code == 404  # not committed
        resp = requests.post("%s/mkfile/%d" % (url, len(data)), data=",".join(ctxs), timeout=30,
                             headers={"Authorization": token, "UploadBatch": "crash-batch"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["hash"] == etag_stream(io.BytesIO(data))
        assert requests.get(url + "/b/crashed", timeout=30).content == data
    finally:
        _finish(proc)
