"""The pure pieces of migrations and plans: list files, the journal, plain MD5s, the key order of an
fsspec walk, the journal's decisions, fact comparison, batch lines, the plan format."""

import json
import os
import uuid

import pytest

from wcs.commons.errors import InvalidArgument
from wcs.commons.result import ObjectInfo
from wcs.services import batchfile, plans
from wcs.services.migrate.engine import decide
from wcs.services.migrate.journal import DONE, FAILED, SUBMITTED, Journal, default_journal_path
from wcs.services.migrate.listfile import Listed, ListedPaths, parse_line
from wcs.services.migrate.source import Source, SourceObject, plain_md5
from wcs.services.plans import differences
from wcs.services.tree.plan import COMPARE, SKIP, TRANSFER, Action


def test_list_lines():
    assert parse_line("a/b.jpg\n") == Listed("a/b.jpg")
    assert parse_line("/a b\t12\t" + "AB" * 16) == Listed("a b", 12, "ab" * 16)
    assert parse_line("  # comment") is None and parse_line("\n") is None
    with pytest.raises(InvalidArgument, match="size 'x'"):
        parse_line("a\tx")
    with pytest.raises(InvalidArgument, match="32 hex"):
        parse_line("a\t1\tnothex")


def test_a_list_is_kept_sorted_on_disk(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("z\nb/\u00e9\nb/e\na\t3\n# x\na\t4\n", encoding="utf-8")
    with ListedPaths(str(path)) as listed:
        assert [e.rel for e in listed] == ["a", "b/e", "b/\u00e9", "z"]
        assert listed.count == 4 and "z" in listed and "y" not in listed and listed.get("a").size == 4
        folder = listed._dir
    assert not os.path.exists(folder)


def test_plain_md5_only_where_it_is_one():
    md5 = "9e107d9d372bb6826bd81d3542a419d6"
    assert plain_md5({"ETag": '"%s"' % md5}) == md5
    assert plain_md5({"ETag": '"%s-3"' % md5}) is None  # a multipart upload's ETag
    assert plain_md5({"md5Hash": "nhB9nTcrtoJr2B01QqQZ1g=="}) == md5  # GCS, Base64
    assert plain_md5({"md5": md5.upper()}) == md5
    assert plain_md5({"size": 3}) is None


def test_a_filesystem_walk_is_in_key_order():
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    root = "/walk-" + uuid.uuid4().hex[:8]
    rels = ["a-b", "a/b", "a/c/d", "a0", "b", "\u00e9", "a/b-", "a/b/c"[:3] + "x"]
    for rel in rels:
        fs.pipe_file("%s/%s" % (root, rel), b"x")
    listed = [obj.rel for obj in Source(fs, root)]
    assert listed == sorted(rels) and len(listed) == len(set(rels))


def test_the_journal_records_and_survives(tmp_path):
    path = str(tmp_path / "j.sqlite")
    version = (5, "etag", "2026-01-01T00:00:00Z")
    with Journal(path, "m") as journal:
        journal.submitted("job1", [("a", version, "p/a"), ("b", version, "p/b")])
        journal.done("a", version, "p/a", "Fhash")
        journal.failed("c", version, "boom")
    with Journal(path, "m") as journal, Journal(path, "other") as other:
        assert journal.get("a").state == DONE and journal.get("a").hash == "Fhash" and journal.get("a").job is None
        assert [e.rel for e in journal.in_flight()["job1"]] == ["b"] and journal.get("b").state == SUBMITTED
        assert journal.get("c").state == FAILED and journal.counts() == {DONE: 1, SUBMITTED: 1, FAILED: 1}
        assert other.get("a") is None
        journal.forget(["a"])
        assert journal.get("a") is None
    assert default_journal_path({"XDG_CACHE_HOME": "/x"}) == "/x/wcs/migrations.sqlite"


def test_equal_sizes_are_decided_by_the_journal():
    journal = Journal(None, "m")
    obj = SourceObject("k", "b/k", 5, "e1", "t1")
    info = ObjectInfo("p/k", 5, "Fstored")
    compare = Action(COMPARE, "k", "compare", obj, info)
    assert decide(compare, journal, False).reason == "unverified"
    assert decide(compare, journal, True).op == SKIP
    journal.done("k", obj.version, "p/k", "Fstored")
    assert decide(compare, journal, False).op == SKIP
    assert decide(Action(COMPARE, "k", "compare", obj, ObjectInfo("p/k", 5, "Fother")), journal, False).reason \
        == "replaced"
    changed = SourceObject("k", "b/k", 5, "e2", "t2")
    assert decide(Action(COMPARE, "k", "compare", changed, info), journal, False).reason == "changed"
    missing = Action(TRANSFER, "k", "missing", obj, None)
    assert decide(missing, journal, False) is missing


def test_differences_compare_only_what_the_plan_recorded():
    planned = {"bucket": "b", "key": "k", "size": 3, "hash": "Fa", "put_time": 1}
    assert differences(planned, dict(planned, put_time=2)) is None
    assert "hash" in differences(planned, dict(planned, hash="Fb"))
    assert "gone" in differences(planned, {"bucket": "b", "key": "k", "exists": False})
    assert "exists now" in differences({"bucket": "b", "key": "k", "exists": False}, planned)
    assert differences({"bucket": "b", "key": "k"}, {"bucket": "b", "key": "k", "exists": False}) is None
    url = {"url": "s3://b/k", "size": 3, "etag": None, "mtime": "t1", "md5": None}
    assert "modified" in differences(url, dict(url, mtime="t2"))


def test_batch_lines():
    up = batchfile.parse_line("cp './a b.txt' wcs://bk/dir/")
    assert up["op"] == "upload" and up["dst"] == {"bucket": "bk", "key": "dir/a b.txt"}
    assert up["src"] == {"path": os.path.abspath("a b.txt")}
    assert batchfile.parse_line("mv wcs://b/x wcs://c/y")["op"] == "move"
    assert batchfile.parse_line("fetch https://h/p/logo.png wcs://b/")["dst"]["key"] == "logo.png"
    assert batchfile.parse_line("rm wcs://b/k") == plans.action("delete", "k", "batch", None,
                                                               {"bucket": "b", "key": "k"})
    assert batchfile.parse_line("  # only a comment") is None
    for line, message in (("cp a", "SOURCE and DESTINATION"), ("cp a b", "cannot copy"),
                          ("mv https://h/x wcs://b/x", "mv cannot remove"), ("rm wcs://b", "rm takes"),
                          ("sync a b", "unknown command")):
        with pytest.raises(InvalidArgument, match=message):
            batchfile.parse_line(line)


def test_a_plan_round_trips_and_a_truncated_one_is_refused(tmp_path):
    path = str(tmp_path / "p.jsonl")
    with plans.PlanWriter(path, command="sync", source="s", destination="d") as writer:
        writer.add("delete", "z", "extra", None, {"bucket": "b", "key": "z", "size": 1, "hash": "F"})
        writer.add("upload", "a", "missing", plans.local_facts("/x/a", 3, 7), plans.wcs_facts("b", "a"), moves=3)
    header, actions = plans.read_plan(path)
    assert header["source"] == "s" and [a["rel"] for a in actions] == ["a", "z"]
    lines = open(path).read().splitlines()
    assert json.loads(lines[-1])["bytes"] == 3
    with open(path, "w") as fp:
        fp.write("\n".join(lines[:-1]))
    with pytest.raises(plans.PlanError, match="cut short"):
        plans.read_plan(path)
    with pytest.raises(InvalidArgument, match="unknown plan op"):
        plans.action("rename", "a", "")


def test_a_failed_plan_leaves_no_file(tmp_path):
    path = tmp_path / "p.jsonl"
    with pytest.raises(RuntimeError):
        with plans.PlanWriter(str(path), command="sync", source="s", destination="d") as writer:
            writer.add("skip", "a", "same")
            raise RuntimeError("stop")
    assert not path.exists()


class FakeJobs:
    """An fmgr service whose answers a test scripts: ``submits`` and ``statuses`` are lists of Results."""

    def __init__(self, submits, statuses):
        self.submits = list(submits)
        self.statuses = list(statuses)
        self.sent = []

    def submit(self, operation, fops, **options):
        self.sent.append((operation, fops, options))
        return self.submits.pop(0)

    def status(self, job):
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


def _fetch_jobs(jobs, journal, timeout=10.0):
    from wcs.services.migrate.fetches import FetchJobs

    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    return FetchJobs(jobs, "b", journal, timeout=timeout, sleep=sleep, clock=lambda: clock[0])


def test_a_fetch_job_is_followed_and_each_item_checked():
    from wcs.commons.http import Result
    from wcs.services.migrate.fetches import Fetch

    journal = Journal(None, "m")
    batch = [Fetch("a", (3, "e", None), "p/a", "http://h/a", "0" * 32), Fetch("b", (4, "e", None), "p/b", "http://h/b"),
             Fetch("c", (5, "e", None), "p/c", "http://h/c")]
    items = [{"code": 3, "fsize": 3, "hash": "Fa", "key": "p/a"}, {"code": 3, "fsize": 9, "hash": "Fb", "key": "p/b"},
             {"code": 2, "error": "refused by origin"}]
    jobs = FakeJobs([Result(200, {"persistentId": "J1"})],
                    [Result(200, {"code": 1, "items": []}), Result(200, {"code": 3, "items": items})])
    outcomes = _fetch_jobs(jobs, journal).run(batch)
    assert [(o.hash, o.error) for o in outcomes] == [
        ("Fa", None), (None, "fetched 9 bytes where the source listed 4"), (None, "fetch failed: refused by origin")]
    operation, fops, options = jobs.sent[0]
    assert operation == "fetch" and options["force"] == 1 and fops.count(";") == 2
    assert fops.split(";")[0].endswith("/md5/" + "0" * 32) and "/md5/" not in fops.split(";")[1]
    assert journal.get("a").state == DONE and journal.get("b").state == FAILED and journal.get("c").state == FAILED


def test_a_job_still_running_stays_submitted_for_the_next_run():
    from wcs.commons.http import Result
    from wcs.services.migrate.fetches import Fetch

    journal = Journal(None, "m")
    jobs = FakeJobs([Result(200, {"persistentId": "J2"})], [Result(200, {"code": 1, "items": []})])
    outcomes = _fetch_jobs(jobs, journal, timeout=5).run([Fetch("a", (3, None, None), "p/a", "http://h/a")])
    assert outcomes[0].unfinished and not outcomes[0].retry
    assert journal.get("a").state == SUBMITTED and list(journal.in_flight()) == ["J2"]
    unknown = FakeJobs([], [Result(404, {"code": 404, "message": "persistentId Not Found"})])
    again = _fetch_jobs(unknown, journal).follow("J2", [Fetch("a", (3, None, None), "p/a")])
    assert "unknown to the service" in again[0].error and journal.get("a").state == FAILED


def test_a_refused_job_is_retried_only_when_a_retry_may_help():
    from wcs.commons.http import Result
    from wcs.services.migrate.fetches import Fetch

    journal = Journal(None, "m")
    jobs = FakeJobs([Result(503, {"code": 503, "message": "busy"})] * 3, [Result(200, {})])
    outcomes = _fetch_jobs(jobs, journal).run([Fetch("a", (3, None, None), "p/a", "http://h/a")])
    assert len(jobs.sent) == 3 and outcomes[0].retry and "HTTP 503" in outcomes[0].error
    jobs = FakeJobs([Result(401, {"code": 401, "message": "bad token"})], [Result(200, {})])
    outcomes = _fetch_jobs(jobs, journal).run([Fetch("a", (3, None, None), "p/a", "http://h/a")])
    assert len(jobs.sent) == 1 and not outcomes[0].retry
