"""Malformed and extreme input over real HTTP: the emulator answers with its JSON errors, never a 500."""

import http.client
import json
import logging
import socket
import time
from urllib.parse import quote

import pytest

from tests.helpers.waiting import wait_until
from wcs.commons.util import entry, urlsafe_base64_encode
from wcs.emulator.api.wire import raw_target
from wcs.emulator.httpd import PREBUFFER

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


def short(value):
    """Readable test ids for parameters holding thousands of digits."""
    return value.replace(VERY_LONG, "<5000 digits>") if isinstance(value, str) else None


@pytest.mark.parametrize("path", [
    "/mkblk/%s/0" % HUGE, "/mkblk/4194304/%s" % HUGE, "/mkblk/%s" % VERY_LONG, "/mkblk/5/%s" % VERY_LONG,
    "/mkblk/%d/0" % ((1 << 32) + 1), "/mkblk/0/0",
    "/bput/%s-%s-%s/%s" % ("0" * 32, HUGE, "0" * 20, HUGE), "/bput/x/%s" % VERY_LONG,
    "/mkfile/%s" % HUGE, "/mkfile/%s/key/%s" % (VERY_LONG, "aw=="),
], ids=short)
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


@pytest.mark.parametrize("days", [HUGE, VERY_LONG, "1000001", "-2"], ids=short)
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
], ids=short)
def test_huge_list_numbers_are_400(api, bucket, query):
    resp = api.mgr("GET", "/list?bucket=%s&%s" % (bucket, query))
    assert resp.status_code == 400, resp.text


@pytest.mark.parametrize("query", ["start=" + HUGE, "limit=" + HUGE, "limit=" + VERY_LONG], ids=short)
def test_huge_wslive_numbers_are_400(api, bucket, query):
    resp = api.mgr("GET", "/wslive/list?channelname=c&startTime=20000101000000&endTime=20990101000000"
                          "&bucket=%s&%s" % (bucket, query))
    assert resp.status_code == 400, resp.text


@pytest.mark.parametrize("target", ["/setdeadline", "/mkblk/5/0", "/mkblk/5/0 token"], ids=short)
def test_client_disconnect_mid_body_is_not_logged_as_an_error(api, emu, caplog, target):
    caplog.set_level(logging.DEBUG, logger="wcs.emulator")
    path, _, auth = target.partition(" ")
    header = "Authorization: %s\r\n" % api.token("b1:gone") if auth else ""
    # more than the server gathers before it starts the handler, far less than announced
    request = ("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: 100000000\r\n\r\n" % (path, header)).encode()
    request += b"abc" * (PREBUFFER // 3 + 1)
    with socket.create_connection(("127.0.0.1", emu.port)) as sock:
        sock.sendall(request)
        assert wait_until(lambda: not emu.wait_idle(0), timeout=5)  # the app is handling it: now hang up
    wait_until(lambda: any("disconnect" in r.getMessage() or "drained" in r.getMessage() or "Error on request"
                           in r.getMessage() for r in caplog.records), timeout=5, interval=0.02)
    time.sleep(0.1)  # werkzeug would log its warning only after the app returned
    assert emu.wait_idle(5)
    # INFO is the request log line (shown with --verbose only); nothing may reach WARNING.
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not loud
    assert any(r.levelno == logging.DEBUG and ("disconnect" in r.getMessage() or "drained" in r.getMessage())
               for r in caplog.records)


RANGE_DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.mark.parametrize("header, status, content_range, span", [
    ("bytes=-2000", 206, "bytes 0-1023/1024", (0, 1024)),
    ("bytes=-1024", 206, "bytes 0-1023/1024", (0, 1024)),
    ("bytes=-1", 206, "bytes 1023-1023/1024", (1023, 1024)),
    ("bytes=0-", 206, "bytes 0-1023/1024", (0, 1024)),
    ("bytes=1000-5000", 206, "bytes 1000-1023/1024", (1000, 1024)),
    ("bytes=1023-1023", 206, "bytes 1023-1023/1024", (1023, 1024)),
    ("Bytes=0-0", 206, "bytes 0-0/1024", (0, 1)),
    ("bytes=0-%s" % ("9" * 5000), 206, "bytes 0-1023/1024", (0, 1024)),
    ("bytes=-%s" % ("9" * 5000), 206, "bytes 0-1023/1024", (0, 1024)),
    ("bytes=0-1,", 206, "bytes 0-1/1024", (0, 2)),
    ("items=0-1", 200, None, (0, 1024)),
    ("bytes=0-1,5-6", 200, None, (0, 1024)),
    ("bytes=-0", 416, "bytes */1024", None),
    ("bytes=2000-", 416, "bytes */1024", None),
    ("bytes=1024-", 416, "bytes */1024", None),
    ("bytes=%s-" % ("9" * 5000), 416, "bytes */1024", None),
    ("bytes=5-2", 416, "bytes */1024", None),
    ("bytes=abc", 416, "bytes */1024", None),
    ("bytes=-", 416, "bytes */1024", None),
], ids=short)
def test_download_range_follows_rfc_9110(api, bucket, header, status, content_range, span):
    api.put(bucket, "r.bin", RANGE_DATA)
    url = "%s/%s/r.bin" % (api.url, bucket)
    resp = api.session.get(url, headers={"Range": header})
    assert resp.status_code == status, resp.text
    assert resp.headers.get("Content-Range") == content_range
    if span is not None:
        assert resp.content == RANGE_DATA[span[0]:span[1]]
        assert resp.headers["Content-Length"] == str(span[1] - span[0])
    else:
        assert resp.json()["code"] == 416
    head = api.session.head(url, headers={"Range": header})
    assert head.status_code == status and head.content == b""
    assert head.headers.get("Content-Range") == content_range
    if span is not None:
        assert head.headers["Content-Length"] == str(span[1] - span[0])


@pytest.mark.parametrize("header", ["bytes=0-", "bytes=-5", "bytes=0-0"], ids=short)
def test_any_byte_range_of_an_empty_object_is_unsatisfiable(api, bucket, header):
    api.put(bucket, "empty", b"")
    resp = api.session.get("%s/%s/empty" % (api.url, bucket), headers={"Range": header})
    assert resp.status_code == 416 and resp.headers["Content-Range"] == "bytes */0"
    resp = api.session.get("%s/%s/empty" % (api.url, bucket), headers={"Range": "items=0-"})
    assert resp.status_code == 200 and resp.content == b""


def test_if_range_that_does_not_match_sends_the_whole_object(api, bucket):
    api.put(bucket, "r.bin", RANGE_DATA)
    url = "%s/%s/r.bin" % (api.url, bucket)
    full = api.session.get(url)
    same = api.session.get(url, headers={"Range": "bytes=0-9", "If-Range": full.headers["ETag"]})
    assert same.status_code == 206 and same.content == RANGE_DATA[:10]
    dated = api.session.get(url, headers={"Range": "bytes=0-9", "If-Range": full.headers["Last-Modified"]})
    assert dated.status_code == 206
    other = api.session.get(url, headers={"Range": "bytes=0-9", "If-Range": '"something-else"'})
    assert other.status_code == 200 and other.content == RANGE_DATA


def _raw_get(emu, target, token):
    """GET ``target`` byte for byte (requests would normalise its percent-escapes)."""
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        conn.request("GET", target, headers={"Authorization": token})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("target, decoded", [
    ("/list?bucket=%62%31&limit=1", "/list?bucket=b1&limit=1"),
    ("/stat/%s" % quote(entry("b1", "sig1"), safe=""), "/stat/%s" % entry("b1", "sig1")),  # '=' as %3D
    ("/st%%61t/%s" % entry("b1", "sig1"), "/stat/%s" % entry("b1", "sig1")),
])
def test_management_token_signs_the_raw_target_only(api, emu, target, decoded):
    api.put("b1", "sig1")
    assert "%" in target and "%" not in decoded
    status, body = _raw_get(emu, target, api.mgr_token(decoded))
    assert status == 401 and json.loads(body)["message"] == "Token Invalid"
    status, body = _raw_get(emu, target, api.mgr_token(target))
    assert status == 200, body


def test_raw_target_falls_back_to_a_requoted_path_only_without_a_raw_uri():
    environ = {"PATH_INFO": "/stat/a b=\u00c3\u00a9", "QUERY_STRING": "x=%62", "SCRIPT_NAME": ""}
    assert raw_target(environ) == ("/stat/a%20b=%C3%A9", "x=%62")
    environ["RAW_URI"] = "http://h/st%61t/\u00c3\u00a9?x=%62"  # absolute form, UTF-8 bytes as latin-1
    assert raw_target(environ) == ("/st%61t/\u00e9", "x=%62")


def _raw_exchange(emu, request):
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


@pytest.mark.parametrize("request_bytes, code", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /b1/k FOO/1.1\r\n\r\n", 400),
    (b"GET /b1/k HTTP/9.9\r\n\r\n", 505),
    (b"GET /b1/k HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431),
], ids=["garbage", "bad-version", "unsupported-version", "long-header"])
def test_requests_refused_before_the_app_get_a_json_error(emu, request_bytes, code):
    head, _, body = _raw_exchange(emu, request_bytes).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 %d " % code)
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Content-Type"] == "application/json" and headers["X-Reqid"]
    assert int(headers["Content-Length"]) == len(body)
    assert json.loads(body)["code"] == code
