"""A stalled multipart body never delays another upload: no shared lock is held across network reads.

Every block id is made to start with the same hex digits, so all blocks would share one lock of any
fixed stripe keyed by id."""

import socket
import time
import uuid

import pytest
import requests

import wcs.emulator.state.blocks as block_state
from wcs.emulator.httpd import PREBUFFER


@pytest.fixture
def same_stripe_ids(monkeypatch):
    class _Ids:
        @staticmethod
        def uuid4():
            return uuid.UUID("0000" + uuid.uuid4().hex[4:])

    monkeypatch.setattr(block_state, "uuid", _Ids)


def _stall(api, path, token, length, sent):
    sock = socket.create_connection(("127.0.0.1", api.emu.port), timeout=10)
    head = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nAuthorization: UpToken %s\r\n\r\n" % (
        path, length, token)
    sock.sendall(head.encode() + b"s" * sent)
    return sock


def _upload(api, token, data):
    resp = requests.post(api.url + "/mkblk/%d/0" % len(data), data=data, headers={"Authorization": token},
                         timeout=10)
    assert resp.status_code == 200, resp.text
    resp = requests.post(api.url + "/mkfile/%d" % len(data), data=resp.json()["ctx"],
                         headers={"Authorization": token}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_stalled_mkblk_and_bput_do_not_delay_other_uploads(api, bucket, same_stripe_ids):
    token = api.token(bucket)
    first = requests.post(api.url + "/mkblk/%d/0" % (4 * PREBUFFER), data=b"a" * 1024,
                          headers={"Authorization": token}, timeout=10).json()
    # Each sends more than the server gathers before it starts the handler, then stalls.
    stalled = [_stall(api, "/mkblk/4194304/0", token, 4194304, PREBUFFER + 1000) for _ in range(4)]
    stalled.append(_stall(api, "/bput/%s/1024" % first["ctx"], token, 2 * PREBUFFER, PREBUFFER + 100))
    try:
        time.sleep(0.3)
        assert not api.emu.wait_idle(0)  # the stalled requests are inside their handlers, reading
        started = time.monotonic()
        for i in range(3):
            answer = _upload(api, api.token("%s:k%d" % (bucket, i)), b"other upload %d" % i)
            assert answer["key"] == "k%d" % i
        assert time.monotonic() - started < 3.0
    finally:
        for sock in stalled:
            sock.close()
    assert api.emu.wait_idle(10)
