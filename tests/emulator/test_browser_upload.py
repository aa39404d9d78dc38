"""A web app on the emulator, as web apps use WCS: a backend that makes upload tokens with this SDK, and a page
on another origin that uploads straight to the emulator with the vendor's browser SDK (``wcs-js-sdk``) in
headless Chromium: a form upload and a 9 MiB slice upload (mkblk / mkfile), with key, mime type and deadline.

The page and its backend are one ``http.server`` on a second 127.0.0.1 port (another origin than the
emulator's). The user's part is played by Selenium: it picks a file in the page's ``<input type=file>`` and
starts the upload. The test checks the stored objects against etags computed here, and prints what Chromium
sent and received for one preflight (from its DevTools network log).

Slow (Chromium starts in a few seconds). Needs Debian's ``chromium`` and ``chromium-driver``, Selenium and
npm; ``.ci/run`` installs them, so in CI (``CI=true``) a missing one fails the test; elsewhere it skips
with the reason.
"""

import http.server
import json
import os
import time
from typing import Any, Dict
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.helpers.browser import (
    BrowserUnavailable,
    chromium,
    chromium_paths,
    js_sdk,
    network_events,
    preflight_exchanges,
)
from tests.helpers.servers import loopback_server
from tests.helpers.waiting import wait_until
from wcs.commons.auth import Auth
from wcs.commons.putpolicy import PutPolicy
from wcs.commons.util import entry, etag, urlsafe_base64_decode
from wcs.emulator import Emulator

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
BUCKET = "web-uploads"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>upload</title><script src="/wcs.min.js"></script></head>
<body>
<input type="file" id="form-file"> <input type="file" id="slice-file">
<script>
window.results = {};
// What a web app does: ask its backend for a token, then send the file straight to WCS.
window.startUpload = async function (inputId, key, mimeType, deadline, scopeKey) {
    try {
        var file = document.getElementById(inputId).files[0];
        var answer = await fetch("/token?key=" + encodeURIComponent(scopeKey ? key : ""));
        var grant = await answer.json();
        var upload = wcs.wcsUpload(file, grant.token, grant.uploadUrl,
                                   {key: key, mimeType: mimeType, deadline: deadline});
        upload.onComplete = function (res) { window.results[inputId] = {ok: true, kind: upload.getUploadType(),
                                                                       data: res.data}; };
        upload.onError = function (err) { window.results[inputId] = {ok: false, kind: upload.getUploadType(),
                                                                    error: err}; };
        upload.putFile();
    } catch (err) {
        window.results[inputId] = {ok: false, error: String(err)};
    }
};
// What a page can read of an answer from the emulator: its status, X-Reqid and JSON error body.
window.probe = async function (url, done) {
    try {
        var answer = await fetch(url);
        done({status: answer.status, reqid: answer.headers.get("X-Reqid"), body: await answer.json()});
    } catch (err) {
        done({error: String(err)});
    }
};
</script>
</body></html>
"""


class AppHandler(http.server.BaseHTTPRequestHandler):
    """The web app's own origin: its page, the SDK script, and its backend's token endpoint."""

    server: Any

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/":
            self._send(200, "text/html; charset=utf-8", PAGE.encode("utf-8"))
        elif url.path == "/wcs.min.js":
            with open(self.server.sdk_file, "rb") as fp:
                self._send(200, "application/javascript", fp.read())
        elif url.path == "/token":
            key = parse_qs(url.query).get("key", [""])[0]
            scope = "%s:%s" % (BUCKET, key) if key else BUCKET
            # Our SDK makes the token, as the app's backend would; the page never sees the secret key.
            token = self.server.auth.uploadtoken(PutPolicy({"scope": scope, "deadline": 600}).putpolicy)
            body = json.dumps({"token": token, "uploadUrl": self.server.upload_url}).encode("utf-8")
            self._send(200, "application/json", body)
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _needs(call: Any) -> Any:
    """``call()``, or skip the test with the reason (fail it in CI, where .ci/run installs everything)."""
    try:
        return call()
    except BrowserUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail("the browser test cannot run in CI: %s" % exc)
        pytest.skip(str(exc))


def _pattern(size: int, seed: int) -> bytes:
    unit = bytes((i * 31 + seed) % 256 for i in range(4093))  # a prime length: no block repeats another
    return (unit * (size // len(unit) + 1))[:size]


def _run(driver: Any, input_id: str, path: str, key: str, mime: str, deadline: int, scope_key: bool) -> Dict:
    driver.find_element("id", input_id).send_keys(path)
    driver.execute_script("startUpload(arguments[0], arguments[1], arguments[2], arguments[3], arguments[4])",
                          input_id, key, mime, deadline, scope_key)
    result = wait_until(lambda: driver.execute_script("return window.results[arguments[0]]", input_id),
                        timeout=120, interval=0.1)
    assert result, "the page's %s upload did not finish within 120 s" % input_id
    assert result["ok"], "the page's %s upload failed: %r" % (input_id, result)
    return result


def _stat(emu: Emulator, key: str) -> Dict:
    auth = Auth(emu.access_key, emu.secret_key)
    url = "%s/stat/%s" % (emu.url, entry(BUCKET, key))
    resp = requests.get(url, headers={"Authorization": auth.managertoken(url)})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _show(exchange: Dict) -> str:
    lines = ["OPTIONS %s" % exchange["url"]]
    lines += ["  > %s: %s" % item for item in sorted(exchange["request_headers"].items())]
    lines.append("  < status %s" % exchange["status"])
    lines += ["  < %s: %s" % item for item in sorted(exchange["response_headers"].items())]
    return "\n".join(lines)


def test_official_browser_sdk_uploads_from_a_page_on_another_origin(tmp_path):
    _needs(chromium_paths)
    sdk_file = _needs(js_sdk)
    form_file, slice_file = tmp_path / "form.txt", tmp_path / "movie.mp4"
    form_file.write_bytes(_pattern(MiB + 7, 1))
    slice_file.write_bytes(_pattern(9 * MiB, 2))
    form_etag, slice_etag = etag(str(form_file)), etag(str(slice_file))  # computed here, from the files
    with Emulator(data_dir=str(tmp_path / "emulator"), buckets=[BUCKET]) as emu, \
            loopback_server(AppHandler, sdk_file=sdk_file, upload_url=emu.url,
                            auth=Auth(emu.access_key, emu.secret_key)) as app, \
            chromium(str(tmp_path / "profile")) as driver:
        page_origin = "http://127.0.0.1:%d" % app.server_address[1]
        assert page_origin != emu.url
        driver.get(page_origin + "/")
        assert driver.execute_script("return typeof wcs.wcsUpload") == "function"
        network_events(driver)  # drop the page load's events
        emu.reset_counters()
        started = time.time()

        form = _run(driver, "form-file", str(form_file), "pages/form.txt", "text/markdown", 3, True)
        form_events = network_events(driver)
        sliced = _run(driver, "slice-file", str(slice_file), "pages/movie.mp4", "video/mp4", 30, False)
        slice_events = network_events(driver)

        # An error answer is readable by the page too, X-Reqid included.
        driver.set_script_timeout(30)
        missing = driver.execute_async_script("probe(arguments[0], arguments[1])", emu.url + "/%s/missing" % BUCKET)
        assert missing["status"] == 404 and missing["body"]["message"] == "File Not Found", missing
        assert missing["reqid"], missing

        # What the SDK reported: the form upload's Base64 answer, the mkfile JSON.
        assert form["kind"] == "uploadDirect" and sliced["kind"] == "uploadChunk"
        assert urlsafe_base64_decode(form["data"]).decode() == "hash=%s" % form_etag
        assert sliced["data"]["hash"] == slice_etag and sliced["data"]["key"] == "pages/movie.mp4"
        # What the emulator stored.
        for key, path, tag, mime, days in (("pages/form.txt", form_file, form_etag, "text/markdown", 3),
                                           ("pages/movie.mp4", slice_file, slice_etag, "video/mp4", 30)):
            info = _stat(emu, key)
            assert (info["hash"], info["fsize"], info["mimeType"]) == (tag, path.stat().st_size, mime)
            expires = time.mktime(time.strptime(info["expirationDate"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
            assert abs(expires - (started + days * 86400)) < 600, info["expirationDate"]
        counters = emu.counters
        assert counters["upload"] == 1 and counters["mkblk"] == 3 and counters["mkfile"] == 1, counters
        assert counters["preflight"] >= 2, counters  # the form needs none: a simple request

        preflights = preflight_exchanges(form_events + slice_events)
        urls = [p["url"] for p in preflights]
        mkblk = [p for p in preflights if "/mkblk/4194304/0?" in p["url"]]
        mkfile = [p for p in preflights if "/mkfile/" in p["url"]]
        assert mkblk and mkfile, "preflights in Chromium's network log: %s" % urls
        print("\nWhat Chromium sent and received for the preflights of the first mkblk and of mkfile:\n%s\n%s"
              % (_show(mkblk[0]), _show(mkfile[0])))
        for exchange, needed in ((mkblk[0], {"authorization", "uploadbatch", "key"}),
                                 (mkfile[0], {"authorization", "uploadbatch", "key", "mimetype", "deadline"})):
            request_headers = {k.lower(): v for k, v in exchange["request_headers"].items()}
            response_headers = {k.lower(): v for k, v in exchange["response_headers"].items()}
            assert request_headers["origin"] == page_origin
            assert request_headers["access-control-request-method"] == "POST"
            asked = {name.strip() for name in request_headers["access-control-request-headers"].split(",")}
            assert needed <= asked
            assert exchange["status"] == 200
            assert response_headers["access-control-allow-origin"] == page_origin
            allowed = {name.strip().lower() for name in response_headers["access-control-allow-headers"].split(",")}
            assert asked <= allowed and "POST" in response_headers["access-control-allow-methods"]
            assert int(response_headers["access-control-max-age"]) > 0
