"""``wcscmd sync``, ``put -r``, ``get -r`` as a user runs them (issue 15): summary, lines, exit statuses."""

import io
import json
import os

import pytest

from tests.helpers.files import make_tree
from wcs.cli.status import ExitStatus
from wcs.cli.wcscmd import main
from wcs.commons.util import etag


@pytest.fixture(autouse=True)
def _no_machine_cache(monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)  # the default cache goes under the test's HOME


def keys(emulator, bucket):
    return {info.key: info.hash for info in emulator.store.keys_under(bucket, "")}


FILES = {"index.html": b"<html>", "css/site.css": b"body{}", "img/a b.png": b"\x89PNG", "文档/说明.txt": b"hi",
         "empty": b""}


def test_sync_up_and_down_with_reasons(wcscmd, cfgfile, emulator, bucket, tmp_path):
    src = make_tree(tmp_path / "site", FILES)
    run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s/www" % bucket, "-v")
    assert run.status == 0, run.err
    doc = run.json
    assert doc["transferred"] == {"files": 5, "bytes": sum(len(v) for v in FILES.values())}
    assert doc["failed"] == 0 and doc["delete"] == "not requested" and doc["destination"] == "wcs://%s/www/" % bucket
    assert "wcscmd: upload css/site.css (missing)" in run.err_lines
    assert sorted(keys(emulator, bucket)) == sorted("www/" + k for k in FILES)

    make_tree(src, {"index.html": b"<html>!", "css/site.css": b"body{]"})  # a size change, a same-size edit
    run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s/www" % bucket, "-v")
    assert run.status == 0, run.err
    assert "wcscmd: upload index.html (size)" in run.err_lines
    assert "wcscmd: upload css/site.css (hash)" in run.err_lines
    assert "wcscmd: skip empty (same)" in run.err_lines
    assert run.json["skipped"] == {"same": 3}

    dst = tmp_path / "copy"
    run = wcscmd("-c", cfgfile, "sync", "wcs://%s/www/" % bucket, str(dst))
    assert run.status == 0, run.err
    assert run.err_lines == []  # quiet unless asked: no bar off a terminal, no status line in a short run
    for rel in FILES:
        path = os.path.join(str(dst), *rel.split("/"))
        assert etag(path) == etag(os.path.join(src, *rel.split("/")))


def test_dry_run_prints_the_plan_and_changes_nothing(wcscmd, cfgfile, emulator, bucket, tmp_path):
    src = make_tree(tmp_path / "src", {"a": b"1", "b": b"2"})
    assert wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket).status == 0
    os.remove(os.path.join(src, "a"))
    make_tree(src, {"c": b"3"})
    before = keys(emulator, bucket)
    emulator.reset_counters()
    run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket, "--delete", "--dry-run")
    assert run.status == 0, run.err
    assert run.err_lines == ["wcscmd: dry-run: upload c (missing)", "wcscmd: dry-run: delete a (extra)"]
    doc = run.json
    assert doc["dry_run"] is True and doc["planned"] == {"files": 1, "bytes": 1, "deletes": 1}
    assert emulator.counters == {"faults_injected": 0, "mgr": 1}
    assert keys(emulator, bucket) == before


def test_put_r_and_get_r_take_the_remote_first(wcscmd, cfgfile, emulator, bucket, tmp_path):
    src = make_tree(tmp_path / "src", {"x/1": b"1", "x/2": b"22"})
    run = wcscmd("-c", cfgfile, "put", "-r", "wcs://%s/up" % bucket, src)
    assert run.status == 0, run.err
    assert sorted(keys(emulator, bucket)) == ["up/x/1", "up/x/2"]
    run = wcscmd("-c", cfgfile, "put", "-r", "--skip-existing", "wcs://%s/up" % bucket, src)
    assert run.json["skipped"] == {"exists": 2}
    run = wcscmd("-c", cfgfile, "get", "-r", "wcs://%s/up" % bucket, str(tmp_path / "down"))
    assert run.status == 0 and run.json["transferred"]["files"] == 2
    assert (tmp_path / "down" / "x" / "2").read_bytes() == b"22"
    # the single-file forms are unchanged
    run = wcscmd("-c", cfgfile, "get", "wcs://%s/up/x/1" % bucket, str(tmp_path / "one"))
    assert run.status == 0 and (tmp_path / "one").read_bytes() == b"1"


@pytest.mark.parametrize("argv, message", [
    (["sync", "a", "b"], "wcs://BUCKET[/PREFIX] on at least one side"),
    (["get", "-r", "wcs://b/p"], "get -r needs LOCAL_DIR"),
    (["get", "-r", "http://h/x", "d"], "get -r needs wcs://"),
    (["put", "--skip-existing", "wcs://b/k", "f"], "--skip-existing needs -r"),
    (["sync", ".", "wcs://b", "--max-delete", "3"], "--max-delete needs --delete"),
    (["sync", ".", "wcs://b", "--transfers", "0"], "expected a positive integer"),
    (["sync", ".", "wcs://b", "--exclude", "[x"], "unclosed"),
])
def test_usage_errors(wcscmd, cfgfile, argv, message):
    run = wcscmd("-c", cfgfile, *argv)
    assert run.status == ExitStatus.USAGE, run.err
    assert message in run.err and len(run.err_lines) == 1


def test_missing_local_folder_is_a_local_file_error(wcscmd, cfgfile, bucket, tmp_path):
    run = wcscmd("-c", cfgfile, "sync", str(tmp_path / "nope"), "wcs://%s" % bucket, "--delete")
    assert run.status == ExitStatus.LOCAL_FILE and "no such directory" in run.err


def test_failed_files_are_named_and_the_exit_status_is_partial(wcscmd, cfgfile, emulator, bucket, tmp_path):
    with open(cfgfile, "a") as fp:
        fp.write("connection_retries = 0\n")
    src = make_tree(tmp_path / "src", {"ok-first": b"1"})
    assert wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket).status == 0
    make_tree(src, {"bad-1": b"x", "bad-2": b"y"})
    emulator.set_faults("upload:500:1.0")
    try:
        run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket, "--delete")
    finally:
        emulator.set_faults(None)
    assert run.status == ExitStatus.PARTIAL
    assert sorted(run.err_lines) == ["wcscmd: error: bad-1: upload failed: HTTP 500: injected fault (wcs-emulator "
                                     "--faults)", "wcscmd: error: bad-2: upload failed: HTTP 500: injected fault "
                                     "(wcs-emulator --faults)"]
    doc = run.json
    assert doc["failed"] == 2 and doc["skipped"] == {"same": 1} and doc["delete"].startswith("not done")


def test_max_delete_and_empty_source(wcscmd, cfgfile, emulator, bucket, tmp_path):
    src = make_tree(tmp_path / "src", {"a": b"1", "b": b"2", "c": b"3"})
    assert wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket).status == 0
    for name in ("a", "b"):
        os.remove(os.path.join(src, name))
    run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket, "--delete", "--max-delete", "1")
    assert run.status == ExitStatus.PARTIAL and "more than the maximum of 1" in run.err
    assert len(keys(emulator, bucket)) == 3
    os.remove(os.path.join(src, "c"))
    run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket, "--delete")
    assert run.status == ExitStatus.PARTIAL and "the source has no files" in run.err
    assert run.json["delete"].startswith("refused")
    assert len(keys(emulator, bucket)) == 3
    make_tree(src, {"c": b"3"})
    run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket, "--delete", "--max-delete", "2")
    assert run.status == 0 and run.json["deleted"] == 2 and sorted(keys(emulator, bucket)) == ["c"]


def test_filter_from_file_in_command_line_order(wcscmd, cfgfile, emulator, bucket, tmp_path):
    src = make_tree(tmp_path / "src", {"a.log": b"1", "keep.log": b"2", "b.txt": b"3", "tmp/x": b"4"})
    rules = tmp_path / "rules"
    rules.write_text("+ keep.log\n- *.log\n", encoding="utf-8")
    run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket, "--exclude", "tmp/", "--filter-from", str(rules))
    assert run.status == 0, run.err
    assert sorted(keys(emulator, bucket)) == ["b.txt", "keep.log"]
    assert run.json["skipped"] == {"excluded": 2}


def test_symlinks_are_noted(wcscmd, cfgfile, emulator, bucket, tmp_path):
    src = make_tree(tmp_path / "src", {"f": b"1"})
    os.symlink("f", os.path.join(src, "l"))
    run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket)
    assert run.status == 0
    assert run.err_lines == ["wcscmd: note: %s: symlink, skipped (--follow-symlinks follows symlinks)"
                             % os.path.join(src, "l")]
    assert run.json["skipped"] == {"symlink": 1}


@pytest.mark.slow  # about 3 s of waiting for status lines
def test_status_lines_off_a_terminal_and_quiet(wcscmd, cfgfile, emulator, bucket, tmp_path):
    src = make_tree(tmp_path / "src", {"f%d" % i: b"x" * 100 for i in range(6)})
    emulator.set_faults("upload:slow:1.0", seed=1)
    try:
        run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s" % bucket, "--stats", "0.1", "--transfers", "2")
        assert run.status == 0
        status = [line for line in run.err_lines if line.startswith("wcscmd: status: ")]
        assert status and " of 6 files" in status[-1] and "failed" in status[-1]
        run = wcscmd("-c", cfgfile, "sync", src, "wcs://%s/q" % bucket, "--stats", "0.1", "-q")
        assert run.status == 0 and run.err_lines == []
    finally:
        emulator.set_faults(None)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_one_overall_bar_on_a_terminal(cfgfile, emulator, bucket, tmp_path, capsys):
    src = make_tree(tmp_path / "src", {"f%d" % i: os.urandom(20000) for i in range(5)})
    err = FakeTerminal()
    out = io.StringIO()
    status = main(["-c", cfgfile, "sync", src, "wcs://%s" % bucket], stdout=out, stderr=err)
    assert status == 0
    drawn = err.getvalue()
    assert "5/5 files" in drawn and "upload" in drawn
    assert json.loads(out.getvalue())["transferred"]["files"] == 5


def test_help_lists_the_tree_options_and_partial_status(wcscmd):
    run = wcscmd("sync", "--help")
    assert run.status == 0
    for text in ("--delete", "--max-delete", "--size-only", "--exclude", "--filter-from", "--dry-run", "--transfers",
                 "--fail-fast", "--stats", "--follow-symlinks", "10   partial failure"):
        assert text in run.out
    assert "-r, --recursive" in wcscmd("put", "--help").out
    assert "--max-delete" not in wcscmd("put", "--help").out
    assert "--recursive" not in wcscmd("list", "--help").out
