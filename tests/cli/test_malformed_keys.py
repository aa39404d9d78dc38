"""A listed key that no file name can hold (an unpaired surrogate, issue 21 item 12): refused like
any unsafe key, the other keys fetched, exit status 10, the key named in the report.

The emulator stores keys as UTF-8 and cannot hold such a key, so the listing comes through a
loopback proxy in front of the real emulator that renames one listed key; everything else (the
other listing fields, the downloads) is the emulator's own, over HTTP.
"""

import http.client
import http.server
import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

from tests.helpers.servers import loopback_server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLACEHOLDER = "b-placeholder.txt"
MALFORMED = "b\\ud800.txt"  # as JSON text: the listing decodes it to "b" + U+D800 + ".txt"


class _ListingProxy(http.server.BaseHTTPRequestHandler):
    """Forwards every request to ``server.upstream``; in /list answers, the placeholder key is renamed."""

    protocol_version = "HTTP/1.1"

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = urlsplit(self.server.upstream)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if self.path.startswith("/list"):
            data = data.replace(PLACEHOLDER.encode(), MALFORMED.encode())
        self.send_response(resp.status)
        for name, value in resp.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _forward  # names fixed by http.server

    def log_message(self, *args):
        pass


def test_get_r_refuses_an_unpaired_surrogate_and_fetches_the_rest(client, emulator, bucket, tmp_path):
    for key in ("a.txt", PLACEHOLDER, "c.txt"):
        path = tmp_path / "src"
        path.write_bytes(key.encode())
        assert client.simple_upload(str(path), bucket, key).ok
    with loopback_server(_ListingProxy, upstream=emulator.url) as proxy:
        cfg = tmp_path / "proxied.wcscfg"
        emulator.write_config(str(cfg))
        with open(str(cfg), "a", encoding="utf-8") as fp:
            fp.write("mgr_url = http://127.0.0.1:%d\n" % proxy.server_address[1])
        dst = tmp_path / "dst"
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "wcscmd"), "-c", str(cfg), "get", "-r",
                               "wcs://%s/" % bucket, str(dst)], cwd=str(tmp_path), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 10, err
    assert "Traceback" not in err and "unexpected" not in err
    summary = json.loads(proc.stdout)
    assert summary["transferred"]["files"] == 2 and summary["failed"] == 1
    assert sorted(os.listdir(str(dst))) == ["a.txt", "c.txt"]
    refused = [line for line in err.splitlines() if "b\\ud800.txt" in line]
    assert len(refused) == 1 and "unpaired surrogate" in refused[0], err
