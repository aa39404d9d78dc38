"""``fmgr/fetch`` against slow and large origins: other jobs never wait behind fetches, a fetch has a
deadline and a size cap, and a stop (SIGTERM) does not wait on an origin."""

import os
import signal
import subprocess
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler

import pytest

from tests.helpers.emulator_api import Api
from tests.helpers.servers import loopback_server
from tests.helpers.waiting import wait_until
from wcs.commons.util import entry, urlsafe_base64_encode
from wcs.emulator import Emulator
from wcs.emulator.server import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from wcs.emulator.settings import Settings

from .test_cli import ROOT


class Origin(BaseHTTPRequestHandler):
    """``/trickle``: announces 1 MB, then sends a byte a second until released; ``/sized/N`` and
    ``/unsized/N``: N bytes with and without a Content-Length."""

    def do_GET(self):
        kind, _, size = self.path.strip("/").partition("/")
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if kind == "trickle":
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.server.trickling.append(self.path)
            while not self.server.release.wait(1.0):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
            return
        if kind == "sized":
            self.send_header("Content-Length", size)
        self.end_headers()
        self.wfile.write(b"y" * int(size))

    def log_message(self, *args):
        pass


def _origin():
    return loopback_server(Origin, release=threading.Event(), trickling=[])


def _b64(text):
    return urlsafe_base64_encode(text)


def _fetch(api, url, key):
    body = "fops=fetchURL/%s/bucket/%s/key/%s" % (_b64(url), _b64("b"), _b64(key))
    resp = api.mgr("POST", "/fmgr/fetch", body.encode())
    assert resp.status_code == 200, resp.text
    return resp.json()["persistentId"]


def _item(api, job):
    return api.session.get(api.url + "/fmgr/status", params={"persistentId": job}).json()["items"][0]


def _until_fetching(api, jobs, origin):
    assert wait_until(lambda: all(_item(api, job)["code"] == 1 for job in jobs) and
                      len(origin.trickling) == len(jobs), 10, interval=0.05), [_item(api, job) for job in jobs]


def test_a_delete_job_does_not_wait_behind_slow_fetches(tmp_path):
    with _origin() as origin, Emulator(data_dir=str(tmp_path), buckets=["b"]) as emu:
        try:
            api = Api(emu)
            api.put("b", "doomed", b"x")
            origin_url = "http://127.0.0.1:%d" % origin.server_address[1]
            fetches = [_fetch(api, "%s/trickle/%d" % (origin_url, n), "slow-%d" % n) for n in range(2)]
            _until_fetching(api, fetches, origin)
            body = "fops=bucket/%s/key/%s" % (_b64("b"), _b64("doomed"))
            delete = api.mgr("POST", "/fmgr/delete", body.encode()).json()["persistentId"]
            status = api.wait_job(delete, timeout=10)  # before: pending for as long as the fetches ran
            assert status["items"][0]["code"] == 3
            assert api.mgr("GET", "/stat/" + entry("b", "doomed")).status_code == 404
            assert all(_item(api, job)["code"] == 1 for job in fetches)
        finally:
            origin.release.set()


@pytest.mark.slow
def test_a_fetch_past_its_deadline_fails_and_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("WCS_EMULATOR_FETCH_TIMEOUT", "1")
    with _origin() as origin, Emulator(data_dir=str(tmp_path), buckets=["b"]) as emu:
        try:
            api = Api(emu)
            job = _fetch(api, "http://127.0.0.1:%d/trickle" % origin.server_address[1], "late")
            item = api.wait_job(job, timeout=20)["items"][0]
            assert item["code"] == 2 and "took longer than 1 s" in item["error"], item
            assert api.mgr("GET", "/stat/" + entry("b", "late")).status_code == 404
        finally:
            origin.release.set()


def test_a_fetch_over_the_size_cap_fails_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WCS_EMULATOR_FETCH_MAX_BYTES", "1000")
    with _origin() as origin, Emulator(data_dir=str(tmp_path), buckets=["b"]) as emu:
        api = Api(emu)
        base = "http://127.0.0.1:%d" % origin.server_address[1]
        announced = api.wait_job(_fetch(api, base + "/sized/5000", "announced"))["items"][0]
        assert announced["code"] == 2, announced
        assert "5000 bytes exceed the fetch limit of 1000 bytes" in announced["error"]
        unannounced = api.wait_job(_fetch(api, base + "/unsized/5000", "unannounced"))["items"][0]
        assert unannounced["code"] == 2 and "exceeds the fetch limit of 1000 bytes" in unannounced["error"]
        for key in ("announced", "unannounced"):
            assert api.mgr("GET", "/stat/" + entry("b", key)).status_code == 404
        at_cap = api.wait_job(_fetch(api, base + "/unsized/1000", "at-cap"))["items"][0]
        assert at_cap["code"] == 3 and at_cap["fsize"] == 1000
        assert os.listdir(os.path.join(emu.data_dir, "tmp")) == []


def test_sigterm_does_not_wait_on_slow_fetches(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with _origin() as origin:
        proc = subprocess.Popen([sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir",
                                 str(tmp_path), "--bucket", "b"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env)
        try:
            port = int(proc.stdout.readline().decode().rsplit(":", 1)[1])
            api = Api(types.SimpleNamespace(url="http://127.0.0.1:%d" % port, access_key=DEFAULT_ACCESS_KEY,
                                            secret_key=DEFAULT_SECRET_KEY))
            origin_url = "http://127.0.0.1:%d" % origin.server_address[1]
            jobs = [_fetch(api, "%s/trickle/%d" % (origin_url, n), "slow-%d" % n) for n in range(2)]
            _until_fetching(api, jobs, origin)
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=6) == 0  # before: it waited on the origin for as long as it trickled
            elapsed = time.monotonic() - started
            assert elapsed < 6, elapsed
        finally:
            origin.release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
            api.session.close()
        with Emulator(data_dir=str(tmp_path)) as emu:  # the interrupted items are failed, not re-run
            api = Api(emu)
            for job in jobs:
                item = api.wait_job(job)["items"][0]
                assert item["code"] == 2 and "stop" in item["error"], item


def test_settings_from_the_environment():
    assert Settings.from_env({}) == Settings()
    custom = Settings.from_env({"WCS_EMULATOR_FETCH_TIMEOUT": "2.5", "WCS_EMULATOR_FETCH_MAX_BYTES": "10",
                                "WCS_EMULATOR_SPOOL_BEFORE_TOKEN": "4096", "WCS_EMULATOR_FETCH_WORKERS": "1"})
    assert custom == Settings(spool_before_token=4096, fetch_timeout=2.5, fetch_max_bytes=10, fetch_workers=1)
    for bad in ({"WCS_EMULATOR_FETCH_TIMEOUT": "soon"}, {"WCS_EMULATOR_FETCH_MAX_BYTES": "0"},
                {"WCS_EMULATOR_FETCH_WORKERS": "-1"}):
        with pytest.raises(ValueError):
            Settings.from_env(bad)
