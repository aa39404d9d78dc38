"""``wcscmd sync SRC wcs://...`` from other stores, ``--plan``, ``apply``, ``batch`` and ``--files-from`` as a
user runs them (issue 26): summaries, lines, exit statuses, refusals."""

import json
import os

import pytest

from tests.cli.conftest import assert_one_error_line
from tests.helpers.files import etag_of as _etag
from tests.helpers.servers import FilesHandler as Origin
from tests.helpers.servers import loopback_server
from wcs.cli.status import ExitStatus


@pytest.fixture(autouse=True)
def _no_machine_cache(monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)  # the journal goes under the test's HOME


FILES = {"/site/index.html": b"<h1>hi</h1>", "/site/img/logo.png": b"\x89PNG" * 100, "/site/a%20b.txt": b"space"}


def test_sync_from_an_http_origin_listed_in_a_file(wcscmd, cfgfile, bucket, tmp_path, emulator):
    pytest.importorskip("aiohttp")
    listing = tmp_path / "keys.txt"
    listing.write_text("index.html\nimg/logo.png\t400\na b.txt\n")
    with loopback_server(Origin, files=FILES) as origin:
        url = "http://127.0.0.1:%d/site/" % origin.server_port
        run = wcscmd("-c", cfgfile, "sync", url, "wcs://%s/web" % bucket, "--files-from", str(listing), "-v")
        assert run.status == ExitStatus.SUCCESS, run.err
        doc = run.json
        assert doc["fetched"] == {"files": 3, "bytes": 11 + 400 + 5} and doc["streamed"]["files"] == 0
        assert doc["jobs"] == {"submitted": 1, "followed": 0} and doc["source"] == url
        assert doc["journal"].endswith("migrations.sqlite")
        assert "wcscmd: fetch img/logo.png (missing)" in run.err_lines
        assert emulator.store.get(bucket, "web/a b.txt").hash == _etag(b"space")

        again = wcscmd("-c", cfgfile, "sync", url, "wcs://%s/web" % bucket, "--files-from", str(listing), "--json")
        assert again.status == 0 and json.loads(again.out)["skipped"] == {"same": 3}


def test_an_http_origin_without_a_list_and_other_refusals(wcscmd, cfgfile, bucket, tmp_path):
    run = wcscmd("-c", cfgfile, "sync", "https://127.0.0.1:9/site/", "wcs://%s/web" % bucket)
    assert "--files-from" in assert_one_error_line(run, ExitStatus.USAGE)
    run = wcscmd("-c", cfgfile, "sync", "https://127.0.0.1:9/site/", str(tmp_path / "local"))
    assert "needs wcs://BUCKET" in assert_one_error_line(run, ExitStatus.USAGE)
    run = wcscmd("-c", cfgfile, "sync", "nosuchproto://x/y", "wcs://%s/web" % bucket)
    assert "cannot open" in assert_one_error_line(run, ExitStatus.USAGE)
    run = wcscmd("-c", cfgfile, "sync", "https://h/x/", "wcs://%s/w" % bucket, "--storage-option", "novalue")
    assert "KEY=VALUE" in assert_one_error_line(run, ExitStatus.USAGE)
    run = wcscmd("-c", cfgfile, "put", "wcs://%s/k" % bucket, str(tmp_path), "--plan", "p.jsonl")
    assert "--plan does not apply to put" in assert_one_error_line(run, ExitStatus.USAGE)


def test_plan_then_apply_from_the_command_line(wcscmd, cfgfile, bucket, tmp_path, emulator):
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.txt").write_bytes(b"alpha")
    (site / "b.txt").write_bytes(b"beta")
    plan = tmp_path / "plan.jsonl"
    run = wcscmd("-c", cfgfile, "sync", str(site), "wcs://%s/p" % bucket, "--plan", str(plan))
    assert run.status == 0, run.err
    assert run.json["dry_run"] is True and run.json["planned"]["files"] == 2
    assert emulator.store.get(bucket, "p/a.txt") is None
    actions = [json.loads(line) for line in plan.read_text().splitlines()][1:-1]
    assert [(a["op"], a["rel"]) for a in actions] == [("upload", "a.txt"), ("upload", "b.txt")]
    (site / "b.txt").write_bytes(b"BETA!")  # edited after the review
    run = wcscmd("-c", cfgfile, "apply", str(plan))
    assert run.status == ExitStatus.PARTIAL
    assert run.json["done"] == {"upload": 1} and run.json["changed"] == 1
    assert any(line.startswith("wcscmd: warning: upload b.txt: not done, changed since the plan") for line in
               run.err_lines)
    assert emulator.store.get(bucket, "p/a.txt").hash == _etag(b"alpha")
    assert emulator.store.get(bucket, "p/b.txt") is None
    plan.write_text("{}\n")
    assert "not a plan" in assert_one_error_line(wcscmd("-c", cfgfile, "apply", str(plan)), ExitStatus.USAGE)


def test_batch_from_the_command_line(wcscmd, cfgfile, bucket, tmp_path, emulator):
    local = tmp_path / "f.txt"
    local.write_bytes(b"file")
    batch = tmp_path / "jobs.txt"
    batch.write_text("cp %s wcs://%s/x/\ncp %s wcs://%s/y/f.txt\n" % (local, bucket, local, bucket))
    run = wcscmd("-c", cfgfile, "batch", str(batch), "-v")
    assert run.status == 0, run.err
    assert run.json["done"] == {"upload": 2} and run.json["failed"] == 0
    assert "wcscmd: upload x/f.txt: done" in run.err_lines
    assert emulator.store.get(bucket, "y/f.txt").hash == _etag(b"file")
    batch.write_text("cp a\n")
    line = assert_one_error_line(wcscmd("-c", cfgfile, "batch", str(batch)), ExitStatus.USAGE)
    assert "line 1: cp takes SOURCE and DESTINATION" in line


def test_a_batch_file_or_a_list_that_cannot_be_read_is_one_local_file_error(wcscmd, cfgfile, bucket, tmp_path):
    missing = tmp_path / "missing.txt"
    line = assert_one_error_line(wcscmd("-c", cfgfile, "batch", str(missing)), ExitStatus.LOCAL_FILE)
    assert "cannot read the batch file %s: No such file or directory" % missing in line
    site = tmp_path / "site"
    site.mkdir()
    run = wcscmd("-c", cfgfile, "put", "-r", "wcs://%s/ff" % bucket, str(site), "--files-from", str(missing))
    assert "cannot read the list %s: No such file or directory" % missing in assert_one_error_line(
        run, ExitStatus.LOCAL_FILE)


def test_files_from_on_put_r_and_get_r(wcscmd, cfgfile, bucket, tmp_path, emulator):
    site = tmp_path / "site"
    (site / "d").mkdir(parents=True)
    for name in ("a", "b", "d/c"):
        (site / name).write_bytes(name.encode())
    listing = tmp_path / "list.txt"
    listing.write_text("a\nd/c\n")
    run = wcscmd("-c", cfgfile, "put", "-r", "wcs://%s/ff" % bucket, str(site), "--files-from", str(listing))
    assert run.status == 0, run.err
    assert sorted(i.key for i in emulator.store.keys_under(bucket, "ff/")) == ["ff/a", "ff/d/c"]
    run = wcscmd("-c", cfgfile, "get", "-r", "wcs://%s/ff" % bucket, str(tmp_path / "back"), "--files-from",
                 str(listing))
    assert run.status == 0 and sorted(os.listdir(tmp_path / "back")) == ["a", "d"]
