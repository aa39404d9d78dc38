"""Malformed and extreme input over real HTTP: the emulator answers with its JSON errors, never a 500."""

import logging
import socket
import time

import pytest

from wcs.commons.util import entry, urlsafe_base64_encode

b64 = urlsafe_base64_encode


@pytest.mark.parametrize("policy", [
    {"deadline": float("inf")},
    {"deadline": "1e400"},
    {"deadline": float("nan")},
    {"overwrite": float("inf")},
    {"fsizeLimit": "-1e999"},
    {"separate": "1e400"},
])
def test_non_finite_policy_numbers_are_a_malformed_token(api, policy):
    token = api.token("b1:nonfinite.txt", **policy)  # json.dumps writes Infinity / NaN
    resp = api.upload(token)
    assert resp.status_code == 401, resp.text
    assert resp.json()["message"].startswith("Token Format Invalid")
    assert "X-Reqid" in resp.headers
    resp = api.session.post(api.url + "/mkblk/5/0", data=b"hello", headers={"Authorization": token})
    assert resp.status_code == 401, resp.text


HUGE = "9" * 25  # past a 64-bit integer
VERY_LONG = "9" * 5000  # past Python 3.11's int() digit limit


@pytest.mark.parametrize("path", [
    "/mkblk/%s/0" % HUGE, "/mkblk/4194304/%s" % HUGE, "/mkblk/%s" % VERY_LONG, "/mkblk/5/%s" % VERY_LONG,
    "/mkblk/%d/0" % ((1 << 32) + 1), "/mkblk/0/0",
    "/bput/%s-%s-%s/%s" % ("0" * 32, HUGE, "0" * 20, HUGE), "/bput/x/%s" % VERY_LONG,
    "/mkfile/%s" % HUGE, "/mkfile/%s/key/%s" % (VERY_LONG, "aw=="),
])
def test_huge_numbers_in_upload_paths_are_400(api, bucket, path):
    token = api.token("%s:huge" % bucket)
    resp = api.session.post(api.url + path, data=b"hello", headers={"Authorization": token})
    assert resp.status_code == 400, resp.text
    assert resp.headers["Content-Type"] == "application/json" and "X-Reqid" in resp.headers
    assert resp.json()["code"] == 400


def test_forged_ctx_with_a_huge_offset_is_701(api, bucket):
    token = api.token("%s:huge" % bucket)
    ctx = "%s-%s-%s" % ("0" * 32, HUGE, "0" * 20)
    resp = api.session.post(api.url + "/bput/%s/5" % ctx, data=b"x", headers={"Authorization": token})
    assert resp.status_code == 701, resp.text
    resp = api.session.post(api.url + "/mkfile/5", data=ctx.encode(), headers={"Authorization": token})
    assert resp.status_code == 701, resp.text


@pytest.mark.parametrize("days", [HUGE, VERY_LONG, "1000001", "-2"])
def test_huge_retention_is_400(api, bucket, days):
    api.put(bucket, "k")
    body = ("bucket=%s&key=%s&deadline=%s" % (b64(bucket), b64("k"), days)).encode()
    resp = api.mgr("POST", "/setdeadline", body)
    assert resp.status_code == 400, resp.text
    assert api.upload(api.token("%s:k2" % bucket), deadline=days).status_code == 400
    token = api.token("%s:k3" % bucket)
    ctx = api.session.post(api.url + "/mkblk/5/0", data=b"hello", headers={"Authorization": token}).json()["ctx"]
    resp = api.session.post(api.url + "/mkfile/5", data=ctx.encode(),
                            headers={"Authorization": token, "Deadline": days})
    assert resp.status_code == 400, resp.text
    resp = api.mgr("POST", "/fmgr/setdeadline",
                   ("fops=bucket/%s/prefix/%s/deadline/%s" % (b64(bucket), b64("k"), days)).encode())
    assert resp.status_code == 200, resp.text
    status = api.wait_job(resp.json()["persistentId"])
    assert status["items"][0]["code"] == 2 and "deadline" in status["items"][0]["desc"]


def test_largest_retention_is_accepted(api, bucket):
    api.put(bucket, "k")
    body = ("bucket=%s&key=%s&deadline=1000000" % (b64(bucket), b64("k"))).encode()
    assert api.mgr("POST", "/setdeadline", body).status_code == 200
    assert api.mgr("GET", "/stat/" + entry(bucket, "k")).json()["expirationDate"].startswith("47")


@pytest.mark.parametrize("query", [
    "limit=" + HUGE, "startTime=" + HUGE, "endTime=" + HUGE, "endTime=" + VERY_LONG, "mode=" + HUGE,
])
def test_huge_list_numbers_are_400(api, bucket, query):
    resp = api.mgr("GET", "/list?bucket=%s&%s" % (bucket, query))
    assert resp.status_code == 400, resp.text


@pytest.mark.parametrize("query", ["start=" + HUGE, "limit=" + HUGE, "limit=" + VERY_LONG])
def test_huge_wslive_numbers_are_400(api, bucket, query):
    resp = api.mgr("GET", "/wslive/list?channelname=c&startTime=20000101000000&endTime=20990101000000"
                          "&bucket=%s&%s" % (bucket, query))
    assert resp.status_code == 400, resp.text


@pytest.mark.parametrize("target", ["/setdeadline", "/mkblk/5/0", "/mkblk/5/0 token"])
def test_client_disconnect_mid_body_is_not_logged_as_an_error(api, emu, caplog, target):
    caplog.set_level(logging.DEBUG, logger="wcs.emulator")
    path, _, auth = target.partition(" ")
    header = "Authorization: %s\r\n" % api.token("b1:gone") if auth else ""
    request = ("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: 100000000\r\n\r\nabc" % (path, header)).encode()
    with socket.create_connection(("127.0.0.1", emu.port)) as sock:
        sock.sendall(request)
        time.sleep(0.3)
    deadline = time.time() + 5
    while not any("disconnect" in r.getMessage() or "drained" in r.getMessage() or "Error on request"
                  in r.getMessage() for r in caplog.records) and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # werkzeug would log its warning only after the app returned
    assert emu.wait_idle(5)
    # INFO is the request log line (shown with --verbose only); nothing may reach WARNING.
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not loud
    assert any(r.levelno == logging.DEBUG and ("disconnect" in r.getMessage() or "drained" in r.getMessage())
               for r in caplog.records)
