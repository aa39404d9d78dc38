"""CORS over raw HTTP: preflights of the browser SDK's requests, CORS headers on every answer (errors and
injected faults included), and origins restricted with ``cors_origins`` / ``--cors-origin``."""

import os
import signal
import subprocess
import sys

import pytest
import requests

from wcs.commons.util import entry
from wcs.emulator import Emulator
from wcs.emulator.cors import CorsPolicy, normalize_origin

PAGE = "http://127.0.0.1:5173"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def preflight(url, path, method="POST", headers=None, origin=PAGE):
    extra = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        extra["Access-Control-Request-Headers"] = headers
    return requests.options(url + path, headers=extra)


def assert_cors(resp, origin=PAGE):
    assert resp.headers.get("Access-Control-Allow-Origin") == origin, (resp.status_code, dict(resp.headers))
    exposed = [name.strip().lower() for name in resp.headers["Access-Control-Expose-Headers"].split(",")]
    assert "x-reqid" in exposed and "etag" in exposed
    assert "Origin" in resp.headers["Vary"]


def assert_no_cors(resp):
    assert not [name for name in resp.headers if name.lower().startswith("access-control-")], dict(resp.headers)


# -- origins ------------------------------------------------------------------------------------------------


def test_origins_are_compared_in_their_serialized_form():
    assert normalize_origin("HTTP://LocalHost:80/") == "http://localhost"
    assert normalize_origin("https://a.test:443") == "https://a.test"
    assert normalize_origin("http://[::1]:3000") == "http://[::1]:3000"
    assert normalize_origin("null") == "null"
    for bad in ("localhost:3000", "ftp://a.test", "http://a.test/app", "http://a.test?x=1", "http://u@a.test",
                "http://a.test:99999", "http://"):
        with pytest.raises(ValueError):
            normalize_origin(bad)
    policy = CorsPolicy(["http://localhost:3000/", "https://app.test"])
    assert policy.allows("http://localhost:3000") and policy.allows("https://APP.test:443")
    assert not policy.allows("http://localhost:3001") and not policy.allows("http://app.test")
    assert not policy.allows("garbage") and not policy.allows("null")
    assert CorsPolicy().allows("http://anything.test") and CorsPolicy(["*"]).allows("null")


# -- preflights ---------------------------------------------------------------------------------------------


def test_preflight_of_a_form_upload(emu):
    emu.reset_counters()
    resp = preflight(emu.url, "/file/upload")
    assert resp.status_code == 200 and resp.content == b""
    assert resp.headers["Access-Control-Allow-Origin"] == PAGE
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert int(resp.headers["Access-Control-Max-Age"]) > 0
    assert resp.headers["Vary"] == "Origin" and resp.headers["X-Reqid"]
    counters = emu.counters
    assert counters["preflight"] == 1 and "upload" not in counters and "mgr" not in counters


def test_preflight_of_a_slice_upload_allows_the_headers_asked_for(emu):
    resp = preflight(emu.url, "/mkblk/4194304/0?chunk=0&chunks=3",
                     headers="authorization,uploadbatch,key,mimetype,deadline")
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == PAGE
    assert resp.headers["Access-Control-Allow-Headers"] == "authorization, uploadbatch, key, mimetype, deadline"
    for path in ("/bput/ctx-0-abc/4194304", "/mkfile/9437184", "/stat/" + entry("b1", "k"), "/no/such/route"):
        assert preflight(emu.url, path, headers="authorization,content-type").status_code == 200


def test_preflight_never_echoes_a_malformed_header_name(emu):
    resp = preflight(emu.url, "/file/upload", headers="key, bad name, x-ok")
    assert resp.headers["Access-Control-Allow-Headers"] == "key, x-ok"


def test_private_network_preflight_is_allowed(emu):
    resp = requests.options(emu.url + "/file/upload", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Private-Network": "true"})
    assert resp.status_code == 200 and resp.headers["Access-Control-Allow-Private-Network"] == "true"


def test_preflights_are_never_faulted(emu):
    emu.set_faults("*:500:1")
    emu.reset_counters()
    try:
        assert preflight(emu.url, "/file/upload").status_code == 200
        assert preflight(emu.url, "/mkfile/1").status_code == 200
        assert emu.counters == {"faults_injected": 0, "preflight": 2}
    finally:
        emu.set_faults(None)


def test_options_without_a_preflight_is_still_405(emu):
    assert requests.options(emu.url + "/file/upload").status_code == 405
    resp = requests.options(emu.url + "/file/upload", headers={"Origin": PAGE})
    assert resp.status_code == 405
    assert_cors(resp)


# -- answers ------------------------------------------------------------------------------------------------


def test_upload_answer_is_readable_by_the_page(api, bucket):
    token = api.token(bucket + ":page.txt")
    files = {"token": (None, token), "file": ("page.txt", b"from a page", "text/plain")}
    resp = requests.post(api.url + "/file/upload", files=files, headers={"Origin": PAGE})
    assert resp.status_code == 200
    assert_cors(resp)
    assert resp.headers["X-Reqid"]
    # the same upload again: 406, readable too
    again = requests.post(api.url + "/file/upload", files=files, headers={"Origin": PAGE})
    assert again.status_code == 406
    assert_cors(again)


def test_every_kind_of_error_carries_the_headers(api, bucket):
    origin = {"Origin": PAGE}
    upload_token = api.token(bucket)
    answers = {
        "401": requests.post(api.url + "/mkblk/4", data=b"abcd", headers=dict(origin, Authorization="UpToken x")),
        "701": requests.post(api.url + "/bput/0-0-forged/4", data=b"abcd",
                             headers=dict(origin, Authorization="UpToken " + upload_token)),
        "404 route": requests.get(api.url + "/", headers=origin),
        "405": requests.get(api.url + "/file/upload", headers=origin),
        "404 download": requests.get(api.url + "/%s/missing" % bucket, headers=origin),
        "404 bucket": api.mgr("GET", "/stat/" + entry("no-such-bucket", "k"), headers=origin),
        "631": requests.post(api.url + "/mkblk/4", data=b"abcd",
                             headers=dict(origin, Authorization="UpToken " + api.token("no-such-bucket"))),
    }
    codes = {name: resp.status_code for name, resp in answers.items()}
    assert codes == {"401": 401, "701": 701, "404 route": 404, "405": 405, "404 download": 404,
                     "404 bucket": 404, "631": 631}
    for resp in answers.values():
        assert_cors(resp)


def test_injected_faults_carry_the_headers(api, bucket):
    api.emu.set_faults("upload:503:1,mgr:500:1")
    try:
        resp = requests.post(api.url + "/file/upload", files={"token": (None, api.token(bucket)),
                                                              "file": ("f", b"x")}, headers={"Origin": PAGE})
        assert resp.status_code == 503 and resp.json()["message"].startswith("injected fault")
        assert_cors(resp)
        resp = api.mgr("GET", "/bucket/list", headers={"Origin": PAGE})
        assert resp.status_code == 500
        assert_cors(resp)
    finally:
        api.emu.set_faults(None)


def test_download_headers_are_exposed(api, bucket):
    api.put(bucket, "d.txt", b"0123456789")
    resp = requests.get(api.url + "/%s/d.txt" % bucket, headers={"Origin": PAGE, "Range": "bytes=2-4"})
    assert resp.status_code == 206 and resp.content == b"234"
    assert_cors(resp)
    assert "content-range" in resp.headers["Access-Control-Expose-Headers"].lower()


def test_requests_without_origin_get_no_cors_headers(api, bucket):
    resp = api.mgr("GET", "/bucket/list")
    assert resp.status_code == 200
    assert_no_cors(resp)
    assert resp.headers["Vary"] == "Origin"


# -- restricted origins -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def restricted(tmp_path_factory):
    with Emulator(data_dir=str(tmp_path_factory.mktemp("cors")), buckets=["b"],
                  cors_origins=["HTTP://App.test:3000/", "http://127.0.0.1:8080"]) as emulator:
        yield emulator


def test_an_allowed_origin_is_served(restricted):
    resp = preflight(restricted.url, "/file/upload", origin="http://app.test:3000")
    assert resp.status_code == 200 and resp.headers["Access-Control-Allow-Origin"] == "http://app.test:3000"
    resp = requests.get(restricted.url + "/b/missing", headers={"Origin": "http://127.0.0.1:8080"})
    assert resp.status_code == 404
    assert_cors(resp, "http://127.0.0.1:8080")


def test_a_refused_origin_gets_no_cors_headers(restricted):
    resp = preflight(restricted.url, "/file/upload", origin="http://evil.test",
                     headers="authorization,uploadbatch")
    assert resp.status_code == 403 and "not allowed" in resp.json()["message"]
    assert_no_cors(resp)
    resp = requests.get(restricted.url + "/b/missing", headers={"Origin": "http://app.test:3001"})
    assert resp.status_code == 404  # served, but the browser keeps the answer from the page
    assert_no_cors(resp)


def test_cors_origin_option(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir", str(tmp_path),
                             "--cors-origin", "http://localhost:3000", "--cors-origin", "http://127.0.0.1:4000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = proc.stdout.readline().split()[-1]
        assert preflight(url, "/file/upload", origin="http://127.0.0.1:4000").status_code == 200
        assert preflight(url, "/file/upload", origin="http://localhost:3000").status_code == 200
        refused = preflight(url, "/file/upload", origin="http://localhost:3001")
        assert refused.status_code == 403
        assert_no_cors(refused)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        proc.stdout.close()
        proc.stderr.close()
