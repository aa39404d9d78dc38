"""A real browser for the CORS test: Debian's headless Chromium driven by Selenium through Debian's
``chromedriver``, and the vendor's browser SDK (``wcs-js-sdk`` from npm) for the page it loads.

The SDK is installed once with npm into ``~/.cache/wcs-tests/wcs-js-sdk-<version>`` (under an exclusive
``flock``, as the cached virtualenvs of :mod:`tests.helpers.official_sdk`); its package ships a UMD build,
``dist/wcs.min.js``, which a ``<script>`` tag loads as the global ``wcs`` (its README's first way), so no
bundler is needed. ``python3 -m tests.helpers.browser`` installs it (``.ci/run`` does, next to
``apt-get install chromium chromium-driver`` and the ``test`` extra that brings Selenium).

Chromium is started headless as root (``--no-sandbox``) with a new empty profile and every background
service off, so it sends nothing but the page's own requests, all to 127.0.0.1. Its DevTools performance
log (network events) is kept, so a test can read what went over the wire, preflights included
(:func:`preflight_exchanges`).
"""

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from typing import Any, Dict, Iterator, List

CACHE = os.path.join(os.path.expanduser("~"), ".cache", "wcs-tests")
JS_SDK_VERSION = "1.0.12"
JS_SDK_DIR = os.path.join(CACHE, "wcs-js-sdk-%s" % JS_SDK_VERSION)
JS_SDK_FILE = os.path.join(JS_SDK_DIR, "node_modules", "wcs-js-sdk", "dist", "wcs.min.js")

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")
"""``--disable-dev-shm-usage``: a container's small /dev/shm would crash renderers of 9 MiB uploads."""


class BrowserUnavailable(RuntimeError):
    """Something the browser test needs is missing and could not be installed."""


def js_sdk() -> str:
    """Path of ``wcs.min.js`` of ``wcs-js-sdk`` (the version pinned here), installed with npm if needed.

    Raises:
        BrowserUnavailable: npm is missing or the install failed (no registry).
    """
    if os.path.isfile(JS_SDK_FILE):
        return JS_SDK_FILE
    npm = shutil.which("npm")
    if npm is None:
        raise BrowserUnavailable("npm is not installed (it installs wcs-js-sdk)")
    os.makedirs(JS_SDK_DIR, exist_ok=True)
    with open(JS_SDK_DIR + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if not os.path.isfile(JS_SDK_FILE):  # whoever held the lock may have installed it meanwhile
            proc = subprocess.run([npm, "install", "--prefix", JS_SDK_DIR, "--no-save", "--no-audit", "--no-fund",
                                   "--ignore-scripts", "wcs-js-sdk@%s" % JS_SDK_VERSION],
                                  capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
            if proc.returncode != 0 or not os.path.isfile(JS_SDK_FILE):
                raise BrowserUnavailable("npm install wcs-js-sdk@%s failed (no registry?): %s"
                                         % (JS_SDK_VERSION, (proc.stderr or proc.stdout)[-500:]))
    return JS_SDK_FILE


def chromium_paths() -> Dict[str, str]:
    """``{"browser": ..., "driver": ...}``: Debian's ``chromium`` and ``chromedriver``.

    Raises:
        BrowserUnavailable: either is missing, or Selenium is.
    """
    commands = {"browser": "chromium", "driver": "chromedriver"}
    found = {name: shutil.which(command) for name, command in commands.items()}
    missing = [commands[name] for name, path in found.items() if path is None]
    if missing:
        raise BrowserUnavailable("Debian's chromium and chromium-driver are needed "
                                 "(apt-get install chromium chromium-driver): no %s on PATH" % " and ".join(missing))
    try:
        import selenium  # noqa: F401
    except ImportError:
        raise BrowserUnavailable("selenium is needed (the test extra: pip install -e '.[test]')") from None
    return {name: str(path) for name, path in found.items()}


@contextlib.contextmanager
def chromium(profile_dir: str) -> Iterator[Any]:
    """A Selenium driver of headless Chromium with a new profile in ``profile_dir``, quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = paths["browser"]
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument("--user-data-dir=%s" % profile_dir)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
    # With the driver's path given, Selenium never runs Selenium Manager (which would fetch a driver).
    driver = webdriver.Chrome(options=options, service=Service(executable_path=paths["driver"]))
    try:
        yield driver
    finally:
        driver.quit()


def network_events(driver: Any) -> List[Dict[str, Any]]:
    """The DevTools ``Network.*`` events logged since the last call: ``{"method": ..., "params": ...}``."""
    events = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method", "").startswith("Network."):
            events.append(message)
    return events


def preflight_exchanges(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each CORS preflight Chromium sent, as it went over the wire: ``{"url", "request_headers", "status",
    "response_headers"}`` (raw headers from the ``...ExtraInfo`` events, where Chromium logged them)."""
    by_id: Dict[str, Dict[str, Any]] = {}
    for event in events:
        params = event["params"]
        request_id = params.get("requestId")
        if event["method"] == "Network.requestWillBeSent" and params.get("request", {}).get("method") == "OPTIONS":
            by_id.setdefault(request_id, {}).update(url=params["request"]["url"],
                                                   request_headers=params["request"].get("headers", {}))
        elif event["method"] == "Network.requestWillBeSentExtraInfo":
            by_id.setdefault(request_id, {})["raw_request_headers"] = params.get("headers", {})
        elif event["method"] == "Network.responseReceivedExtraInfo":
            record = by_id.setdefault(request_id, {})
            record["raw_response_headers"] = params.get("headers", {})
            record.setdefault("status", params.get("statusCode"))
        elif event["method"] == "Network.responseReceived":
            record = by_id.setdefault(request_id, {})
            record["status"] = params["response"].get("status")
            record.setdefault("response_headers", params["response"].get("headers", {}))
    exchanges = []
    for record in by_id.values():
        if "url" not in record:
            continue
        request_headers = record.get("raw_request_headers") or record["request_headers"]
        if request_headers.get(":method", "OPTIONS") != "OPTIONS":
            continue
        exchanges.append({"url": record["url"], "request_headers": request_headers, "status": record.get("status"),
                          "response_headers": record.get("raw_response_headers") or record.get("response_headers", {})})
    return exchanges


def main() -> int:
    """Install ``wcs-js-sdk`` into the test cache (``.ci/run``); 1 when it cannot."""
    try:
        print("wcs-js-sdk %s: %s" % (JS_SDK_VERSION, js_sdk()))
    except BrowserUnavailable as exc:
        print("tests.helpers.browser: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
