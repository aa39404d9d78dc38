"""Issue 26 — sources other than S3: a plain HTTP origin whose keys come from a list file (fetched by
the service), and filesystems the service cannot reach (copied through the client's block pipeline);
``--files-from`` on a source that can be listed; a plan of a migration."""

import hashlib
import http.server
import json
import os
import uuid

import pytest

from tests.helpers.files import etag_of as _etag
from tests.helpers.servers import loopback_server
from wcs.services.tree import Remote

fsspec = pytest.importorskip("fsspec")

MiB = 1024 * 1024


class Origin(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` ({path: bytes}) for GET and HEAD; counts requests by User-Agent."""

    def log_message(self, *args):
        pass

    def _serve(self, body: bool) -> None:
        who = "emulator" if self.headers.get("User-Agent", "").startswith("wcs-emulator") else "client"
        self.server.requests.append((who, self.command, self.path))
        data = self.server.files.get(self.path)
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):
        self._serve(True)

    def do_HEAD(self):
        self._serve(False)


def test_an_http_origin_listed_in_a_file_is_fetched_by_the_service(client, bucket, tmp_path):
    pytest.importorskip("aiohttp")
    files = {"index.html": b"<h1>hi</h1>", "css/site.css": b"body{}" * 100, "img/ph\u00f6to 1.jpg": os.urandom(5000),
             "img/big.bin": os.urandom(4 * MiB + 10)}
    served = {"/site/" + "/".join(_quote(part) for part in rel.split("/")): data for rel, data in files.items()}
    listing = tmp_path / "list.txt"
    # Sizes and MD5s where the list has them; the other lines make the client ask the origin (HEAD).
    lines = ["# the site", "index.html", "css/site.css\t%d" % len(files["css/site.css"])]
    lines += ["%s\t%d\t%s" % (rel, len(files[rel]), hashlib.md5(files[rel]).hexdigest())
              for rel in ("img/ph\u00f6to 1.jpg", "img/big.bin")]
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with loopback_server(Origin, files=served, requests=[]) as origin:
        url = "http://127.0.0.1:%d/site/" % origin.server_port
        summary = client.sync(url, Remote(bucket, "www"), files_from=str(listing), journal=str(tmp_path / "j"))
        assert summary.ok, summary.to_json()
        assert (summary.fetched_files, summary.streamed_files) == (4, 0)
        client_requests = [r for r in origin.requests if r[0] == "client"]
        assert sorted(method for _who, method, _path in client_requests) == ["HEAD"]  # index.html's size
        assert sorted(p for who, m, p in origin.requests if who == "emulator" and m == "GET") == sorted(served)
    for rel, data in files.items():
        info = client.stat_object(bucket, "www/" + rel)
        assert (info.size, info.hash) == (len(data), _etag(data)), rel


def test_an_http_origin_needs_a_list(client, bucket):
    from wcs.commons.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="list file"):
        client.sync("http://127.0.0.1:9/site/", Remote(bucket, "www"), journal=None)


def _quote(part):
    from urllib.parse import quote

    return quote(part)


def test_a_source_the_service_cannot_reach_is_copied_through_the_client(client, bucket, tmp_path):
    fs = fsspec.filesystem("memory")
    root = "/mig-" + uuid.uuid4().hex[:8]
    data = {"a.txt": b"alpha", "sub/b.bin": os.urandom(4 * MiB + 3), "sub/c/\u00e9t\u00e9.txt": b"summer"}
    for rel, content in data.items():
        fs.pipe_file("%s/%s" % (root, rel), content)
    journal = str(tmp_path / "journal.sqlite")
    summary = client.sync((fs, root), Remote(bucket, "mem"), journal=journal)
    assert summary.ok, summary.to_json()
    assert (summary.streamed_files, summary.fetched_files, summary.jobs) == (3, 0, 0)
    assert summary.streamed_bytes == sum(len(v) for v in data.values())
    for rel, content in data.items():
        assert client.stat_object(bucket, "mem/" + rel).hash == _etag(content)
    fs.pipe_file("%s/a.txt" % root, b"ALPHA")  # same size, new content: the journal's mtime tells
    again = client.sync((fs, root), Remote(bucket, "mem"), journal=journal)
    assert again.streamed_files == 1 and again.skipped == {"same": 2}
    assert client.stat_object(bucket, "mem/a.txt").hash == _etag(b"ALPHA")


def test_files_from_limits_a_listed_source_and_a_plan_changes_nothing(client, bucket, tmp_path, emulator):
    fs = fsspec.filesystem("memory")
    root = "/plan-" + uuid.uuid4().hex[:8]
    for rel in ("keep/1.txt", "keep/2.txt", "other/3.txt"):
        fs.pipe_file("%s/%s" % (root, rel), rel.encode())
    client.simple_upload(_file(tmp_path / "x", b"old"), bucket, "p/gone.txt")
    listing = tmp_path / "list.txt"
    listing.write_text("keep/1.txt\nother/3.txt\n")
    plan = tmp_path / "plan.jsonl"
    emulator.reset_counters()
    summary = client.sync((fs, root), Remote(bucket, "p"), files_from=str(listing), plan=str(plan), delete=True,
                          journal=str(tmp_path / "j"))
    assert summary.dry_run and summary.planned_files == 2 and summary.planned_deletes == 1
    assert not {"upload", "mkblk", "mkfile"} & set(emulator.counters)
    lines = [json.loads(line) for line in plan.read_text().splitlines()]
    assert lines[0]["wcs_plan"] == 1 and lines[0]["source"].startswith("memory://")
    actions = lines[1:-1]
    assert [(a["op"], a["rel"], a["reason"]) for a in actions] == [
        ("delete", "gone.txt", "extra"), ("upload", "keep/1.txt", "missing"), ("upload", "other/3.txt", "missing")]
    assert actions[1]["src"]["size"] == len(b"keep/1.txt") and actions[1]["dst"] == {
        "bucket": bucket, "key": "p/keep/1.txt", "exists": False}
    assert actions[0]["dst"]["hash"] == _etag(b"old")
    assert lines[-1] == {"end": True, "actions": {"delete": 1, "upload": 2}, "bytes": 10 + 11,
                         "delete": "dry run: 1 object(s) would be deleted"}
    assert client.stat(bucket, "p/keep/1.txt").code == 404


def _file(path, data):
    path.write_bytes(data)
    return str(path)
