"""Issue 26, point 3 — plans a person can review: ``sync(..., plan=FILE)`` in both local directions writes
every decision with its facts and changes nothing; ``apply_plan`` carries out exactly that plan, each
action only after its facts are checked again; ``run_batch`` runs a file of cp/mv/rm/fetch lines."""

import json
import os

import pytest

from tests.helpers.files import etag_of as _etag
from tests.helpers.servers import FilesHandler as Origin
from tests.helpers.servers import loopback_server
from wcs.services.plans import PlanError
from wcs.services.tree import Remote


def _lines(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


class Results:
    def __init__(self):
        self.seen = []

    def on_result(self, action, outcome, message):
        self.seen.append((action["op"], action["rel"], outcome, message))

    def outcome(self, rel):
        return next(outcome for _op, r, outcome, _m in self.seen if r == rel)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "site"
    (root / "css").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<h1>home</h1>")
    (root / "css" / "a.css").write_bytes(b"a{}")
    (root / "same.txt").write_bytes(b"same")
    (root / "edited.txt").write_bytes(b"new text")
    return root


def test_an_upload_plan_is_reviewed_then_applied_with_every_fact_checked_again(client, bucket, tree, tmp_path,
                                                                               emulator):
    for key, data in {"www/same.txt": b"same", "www/edited.txt": b"old text", "www/extra.txt": b"extra",
                      "www/index.html": b"<h1>HOME</h1>"}.items():
        (tmp_path / "up").write_bytes(data)
        assert client.simple_upload(str(tmp_path / "up"), bucket, key).ok
    plan = str(tmp_path / "plan.jsonl")
    emulator.reset_counters()
    summary = client.sync(str(tree), Remote(bucket, "www"), plan=plan, delete=True, hash_cache=None)
    assert summary.dry_run and summary.planned_files == 3 and summary.planned_deletes == 1
    assert not {"upload", "mkblk", "mkfile"} & set(emulator.counters)
    lines = _lines(plan)
    header, actions, footer = lines[0], lines[1:-1], lines[-1]
    assert header["wcs_plan"] == 1 and header["local_root"] == str(tree) and header["options"]["delete"] is True
    assert [(a["op"], a["rel"], a["reason"]) for a in actions] == [  # in key order
        ("upload", "css/a.css", "missing"), ("upload", "edited.txt", "hash"), ("delete", "extra.txt", "extra"),
        ("upload", "index.html", "hash"), ("skip", "same.txt", "same")]
    index = actions[3]
    assert index["src"] == {"path": str(tree / "index.html"), "size": 13,
                            "mtime_ns": os.stat(tree / "index.html").st_mtime_ns}
    assert index["dst"]["hash"] == _etag(b"<h1>HOME</h1>") and index["dst"]["size"] == 13
    assert actions[0]["dst"] == {"bucket": bucket, "key": "www/css/a.css", "exists": False}
    assert actions[2]["dst"]["hash"] == _etag(b"extra") and actions[2]["src"] is None
    assert footer == {"end": True, "actions": {"delete": 1, "skip": 1, "upload": 3}, "bytes": 3 + 8 + 13,
                      "delete": "dry run: 1 file(s) would be deleted"}

    # After the review, someone edits a local file and someone else replaces a planned object.
    (tree / "edited.txt").write_bytes(b"newer text!")
    (tmp_path / "up").write_bytes(b"replaced meanwhile")
    assert client.simple_upload(str(tmp_path / "up"), bucket, "www/index.html", overwrite=1).ok
    results = Results()
    applied = client.apply_plan(plan, observer=results)
    assert applied.to_json()["done"] == {"delete": 1, "upload": 1} and applied.changed == 2 and applied.ok
    assert not applied.complete
    assert results.outcome("edited.txt") == "changed" and results.outcome("index.html") == "changed"
    assert client.stat_object(bucket, "www/index.html").hash == _etag(b"replaced meanwhile")  # not overwritten
    assert client.stat_object(bucket, "www/edited.txt").hash == _etag(b"old text")
    assert client.stat_object(bucket, "www/css/a.css").hash == _etag(b"a{}")
    assert client.stat(bucket, "www/extra.txt").code == 404
    # Applied again, every action finds the world changed since the plan: nothing is done twice.
    again = client.apply_plan(plan)
    assert again.done == {} and again.changed == 4


def test_a_download_plan_and_its_apply(client, bucket, tmp_path):
    for key, data in {"d/a.txt": b"alpha", "d/sub/b.txt": b"beta"}.items():
        (tmp_path / "up").write_bytes(data)
        client.simple_upload(str(tmp_path / "up"), bucket, key)
    local = tmp_path / "copy"
    local.mkdir()
    (local / "stale.txt").write_bytes(b"stale")
    plan = str(tmp_path / "down.jsonl")
    client.sync(Remote(bucket, "d"), str(local), plan=plan, delete=True, hash_cache=None)
    actions = _lines(plan)[1:-1]
    assert [(a["op"], a["rel"]) for a in actions] == [("download", "a.txt"), ("delete", "stale.txt"),
                                                      ("download", "sub/b.txt")]
    assert actions[0]["dst"] == {"path": str(local / "a.txt"), "exists": False}
    assert actions[1]["dst"]["size"] == 5 and not (local / "a.txt").exists()
    summary = client.apply_plan(plan)
    assert summary.complete, summary.to_json()
    assert (local / "sub" / "b.txt").read_bytes() == b"beta" and not (local / "stale.txt").exists()


def test_a_plan_cut_short_is_refused(client, tmp_path, bucket, tree):
    plan = tmp_path / "plan.jsonl"
    client.sync(str(tree), Remote(bucket, "x"), plan=str(plan), hash_cache=None)
    text = plan.read_text().splitlines()
    plan.write_text("\n".join(text[:-1]) + "\n")
    with pytest.raises(PlanError, match="cut short"):
        client.apply_plan(str(plan))
    plan.write_text('{"not": "a plan"}\n')
    with pytest.raises(PlanError, match="not a plan"):
        client.apply_plan(str(plan))


def test_a_batch_file_runs_as_one_plan_with_one_summary(client, bucket, tmp_path):
    pytest.importorskip("aiohttp")
    (tmp_path / "up").write_bytes(b"to copy")
    client.simple_upload(str(tmp_path / "up"), bucket, "src/k")
    client.simple_upload(str(tmp_path / "up"), bucket, "src/m")
    (tmp_path / "doomed").write_bytes(b"doomed")
    client.simple_upload(str(tmp_path / "doomed"), bucket, "old/doomed")
    local = tmp_path / "local file.txt"
    local.write_bytes(b"local")
    moving = tmp_path / "moving.txt"
    moving.write_bytes(b"moves")
    with loopback_server(Origin, files={"/pub/logo.png": b"\x89PNG..."}) as origin:
        url = "http://127.0.0.1:%d/pub/logo.png" % origin.server_port
        batch = tmp_path / "jobs.txt"
        batch.write_text("\n".join([
            "# one line per command",
            "cp '%s' wcs://%s/up/" % (local, bucket),
            "mv %s wcs://%s/up/moved.txt" % (moving, bucket),
            "cp wcs://%s/src/k wcs://%s/copy/k" % (bucket, bucket),
            "mv wcs://%s/src/m wcs://%s/moved/m" % (bucket, bucket),  # lines run in parallel, as s5cmd's
            "cp wcs://%s/src/k %s/" % (bucket, tmp_path / "downloads"),
            "fetch %s wcs://%s/fetched/" % (url, bucket),
            "rm wcs://%s/old/doomed" % bucket,
            ""]))
        (tmp_path / "downloads").mkdir()
        results = Results()
        summary = client.run_batch(str(batch), observer=results)
    assert summary.complete, results.seen
    assert summary.done == {"copy": 1, "delete": 1, "download": 1, "fetch": 1, "move": 2, "upload": 1}
    assert client.stat_object(bucket, "up/local file.txt").hash == _etag(b"local")
    assert client.stat_object(bucket, "up/moved.txt").hash == _etag(b"moves") and not moving.exists()
    assert client.stat_object(bucket, "copy/k").size == 7 and client.stat_object(bucket, "moved/m").size == 7
    assert client.stat(bucket, "src/m").code == 404
    assert (tmp_path / "downloads" / "k").read_bytes() == b"to copy"
    assert client.stat_object(bucket, "fetched/logo.png").hash == _etag(b"\x89PNG...")
    assert client.stat(bucket, "old/doomed").code == 404


def test_a_batch_file_with_a_bad_line_does_nothing(client, bucket, tmp_path):
    from wcs.commons.errors import InvalidArgument

    batch = tmp_path / "jobs.txt"
    batch.write_text("rm wcs://%s/a\ncopy a b\nrm ./local\n" % bucket)
    with pytest.raises(InvalidArgument, match=r"line 2: unknown command 'copy'.*line 3: rm takes a wcs://"):
        client.run_batch(str(batch))


def test_files_from_limits_a_folder_upload_and_download(client, bucket, tree, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("css/a.css\nsame.txt\nnot-there.txt\n")
    summary = client.sync(str(tree), Remote(bucket, "ff"), files_from=str(listing), hash_cache=None)
    assert summary.transferred_files == 2 and summary.skipped == {"excluded": 2}
    assert sorted(o.key for o in client.list_objects(bucket, "ff/")) == ["ff/css/a.css", "ff/same.txt"]
    listing.write_text("same.txt\n")
    back = client.download_tree(bucket, "ff", str(tmp_path / "back"), files_from=str(listing), hash_cache=None)
    assert back.transferred_files == 1 and sorted(os.listdir(tmp_path / "back")) == ["same.txt"]


def test_a_plan_between_two_prefixes_and_its_apply(client, bucket, tmp_path):
    for key, data in {"a/same": b"same", "a/changed": b"new!", "a/new": b"new", "b/same": b"same",
                      "b/changed": b"old!", "b/extra": b"extra"}.items():
        (tmp_path / "up").write_bytes(data)
        client.simple_upload(str(tmp_path / "up"), bucket, key)
    plan = str(tmp_path / "remote.jsonl")
    summary = client.sync(Remote(bucket, "a"), Remote(bucket, "b"), plan=plan, delete=True)
    assert summary.dry_run and summary.planned_files == 2
    actions = _lines(plan)[1:-1]
    assert [(a["op"], a["rel"], a["reason"]) for a in actions] == [
        ("copy", "changed", "hash"), ("delete", "extra", "extra"), ("copy", "new", "missing"), ("skip", "same", "same")]
    assert actions[0]["src"]["key"] == "a/changed" and actions[0]["dst"]["hash"] == _etag(b"old!")
    assert actions[2]["dst"] == {"bucket": bucket, "key": "b/new", "exists": False}
    assert client.stat_object(bucket, "b/changed").hash == _etag(b"old!")
    applied = client.apply_plan(plan)
    assert applied.complete and applied.done == {"copy": 2, "delete": 1}, applied.to_json()
    assert client.stat_object(bucket, "b/changed").hash == _etag(b"new!")
    assert client.stat_object(bucket, "b/new").hash == _etag(b"new") and client.stat(bucket, "b/extra").code == 404
