"""Fault injection over HTTP: deterministic with a seed, applied before any state change."""

import io
import time
import zlib

import pytest
import requests

from wcs.commons.util import entry, etag_stream, urlsafe_base64_decode
from wcs.emulator import Emulator
from wcs.emulator.faults import FaultInjector, FaultRule, parse_faults


def test_parse_spec():
    rules = parse_faults("mkblk:500:0.5, *:slow:1,download:reset:0")
    assert rules == [FaultRule("mkblk", "500", 0.5), FaultRule("*", "slow", 1.0), FaultRule("download", "reset", 0)]
    assert parse_faults(None) == [] and parse_faults("") == []
    assert parse_faults([("bput", "503", "0.1")]) == [FaultRule("bput", "503", 0.1)]
    assert parse_faults("*:corrupt:0.5") == [FaultRule("*", "corrupt", 0.5)]
    for bad in ("mkblk:500", "nowhere:500:1", "mkblk:404:1", "mkblk:500:2", "mkblk:500:x"):
        with pytest.raises(ValueError):
            parse_faults(bad)


def test_same_seed_same_decisions():
    def run(seed):
        injector = FaultInjector("upload:500:0.5,mgr:503:0.3", seed)
        return [injector.pick(endpoint) for endpoint in ["upload", "mgr", "download"] * 30]

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert run(7).count(None) not in (0, 90)


def test_500_and_503_leave_state_untouched(api, bucket):
    api.emu.set_faults("upload:503:1")
    api.emu.reset_counters()
    resp = api.upload(api.token(bucket + ":f"), b"x")
    assert resp.status_code == 503 and resp.json()["code"] == 503 and resp.headers["X-Reqid"]
    api.emu.set_faults("mgr:500:1")
    assert api.mgr("GET", "/stat/" + entry(bucket, "f")).status_code == 500
    api.emu.set_faults(None)
    assert api.mgr("GET", "/stat/" + entry(bucket, "f")).status_code == 404  # the faulted upload stored nothing
    counters = api.emu.counters
    assert counters["faults_injected"] == 2 and counters["upload"] == 1 and counters["mgr"] == 2


def test_reset_drops_the_connection(api, bucket):
    api.emu.set_faults("mkblk:reset:1")
    token = api.token(bucket + ":r")
    with pytest.raises(requests.ConnectionError):
        requests.post(api.url + "/mkblk/4/0", data=b"abcd", headers={"Authorization": token})
    assert api.emu.mkblk_log == [] or all(entry[2] != 4 for entry in api.emu.mkblk_log)
    api.emu.set_faults(None)
    resp = requests.post(api.url + "/mkblk/4/0", data=b"abcd", headers={"Authorization": token})
    assert resp.status_code == 200


def test_reset_mid_form_upload(api, bucket):
    api.emu.set_faults("upload:reset:1")
    with pytest.raises(requests.ConnectionError):
        api.upload(api.token(bucket + ":big"), b"z" * (4 * 1024 * 1024))
    api.emu.set_faults(None)
    assert api.mgr("GET", "/stat/" + entry(bucket, "big")).status_code == 404


def test_slow_delays_then_serves(api, bucket):
    api.put(bucket, "s", b"slow")
    api.emu.set_faults("download:slow:1")
    started = time.monotonic()
    resp = requests.get("%s/%s/s" % (api.url, bucket))
    assert resp.content == b"slow" and time.monotonic() - started >= 0.2


def test_seeded_emulator_fails_the_same_requests(tmp_path):
    def statuses(seed):
        with Emulator(data_dir=str(tmp_path / str(seed)), faults="download:500:0.5", fault_seed=seed) as emu:
            return [requests.get(emu.url + "/nobucket/k").status_code for _ in range(20)]

    first = statuses(3)
    assert first == statuses(3)
    assert set(first) == {404, 500}


def test_corrupt_inverts_one_received_byte_and_answers_for_the_damaged_content(api, bucket):
    data = bytes(range(256)) * 64
    api.emu.set_faults("mkblk:corrupt:1")
    token = api.token(bucket + ":c")
    resp = requests.post(api.url + "/mkblk/%d/0" % len(data), data=data, headers={"Authorization": token})
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF
    assert resp.status_code == 200
    assert resp.json()["crc32"] == zlib.crc32(bytes(damaged)) != zlib.crc32(data)

    api.emu.set_faults("upload:corrupt:1")
    resp = api.upload(api.token(bucket + ":f", overwrite=1), data)
    damaged = bytearray(data)
    damaged[-1] ^= 0xFF
    stored_hash = etag_stream(io.BytesIO(bytes(damaged)))
    assert resp.status_code == 200 and urlsafe_base64_decode(resp.text) == b"hash=" + stored_hash.encode()
    api.emu.set_faults("mgr:corrupt:1,mkfile:corrupt:1")  # nothing to corrupt there: no fault at all
    before = api.emu.counters["faults_injected"]
    assert api.mgr("GET", "/stat/" + entry(bucket, "f")).json()["hash"] == stored_hash
    assert api.emu.counters["faults_injected"] == before


def test_corrupt_download_inverts_the_first_byte_and_keeps_the_etag(api, bucket):
    api.put(bucket, "d", b"abcdef")
    api.emu.set_faults("download:corrupt:1")
    resp = requests.get("%s/%s/d" % (api.url, bucket))
    assert resp.content == bytes([ord("a") ^ 0xFF]) + b"bcdef"
    assert resp.headers["ETag"] == '"%s"' % etag_stream(io.BytesIO(b"abcdef"))


class _Endpoints:
    """A WSGI app standing for the endpoints: it notes each call and answers 200 ``abcdef``."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
        return [b"abc", b"def"]


def _through_middleware(spec, category, method="POST"):
    from werkzeug.test import create_environ, run_wsgi_app

    from wcs.emulator.faults import CATEGORY_KEY, FaultMiddleware

    endpoints, counted = _Endpoints(), []
    middleware = FaultMiddleware(endpoints, FaultInjector(spec, 1), counted.append)
    environ = create_environ("/x", method=method, data=b"body" if method == "POST" else None)
    if category:
        environ[CATEGORY_KEY] = category
    body, status, headers = run_wsgi_app(middleware, environ, buffered=True)
    return endpoints.calls, counted, status, b"".join(body)


def test_fault_middleware_answers_before_the_app_behind_it_runs():
    # 500 / 503: the endpoints never see the request, so nothing can have changed
    assert _through_middleware("upload:503:1", "upload")[:3] == (0, ["faults_injected"], "503 Service Unavailable")
    calls, counted, status, body = _through_middleware("mgr:500:1", "mgr")
    assert (calls, counted, status) == (0, ["faults_injected"], "500 Internal Server Error")
    assert b"injected fault" in body
    # no rule for the category, no category (a refused route) or a kind that cannot apply: passed on
    assert _through_middleware("upload:500:1", "mgr") == (1, [], "200 OK", b"abcdef")
    assert _through_middleware("*:500:1", None) == (1, [], "200 OK", b"abcdef")
    assert _through_middleware("mgr:corrupt:1", "mgr") == (1, [], "200 OK", b"abcdef")
    assert _through_middleware("upload:cut:1", "upload") == (1, [], "200 OK", b"abcdef")
    # corrupt on a download: served, first byte of the body inverted
    calls, counted, status, body = _through_middleware("download:corrupt:1", "download", "GET")
    assert (calls, counted, status, body) == (1, ["faults_injected"], "200 OK", bytes([ord("a") ^ 0xFF]) + b"bcdef")
