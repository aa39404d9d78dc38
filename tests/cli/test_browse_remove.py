"""``wcscmd ls``, ``du``, ``rm``, ``deletePrefix --wait``, ``sync`` between two prefixes and the
source-first order of ``put``/``get``/``multiput`` (issue 22): lines, JSON Lines, refusals, exit
statuses."""

import json

import pytest

from tests.cli.test_outputs import declared
from wcs.cli.status import ExitStatus

SITE = {"www/index.html": b"<p>index</p>", "www/about.html": b"about", "www/a.css": b"css",
        "www/img/logo.png": b"png!", "www2/x": b"x"}


@pytest.fixture
def site(emulator, bucket, tmp_path):
    from wcs.commons.config import Config
    from wcs.services.client import Client

    cfg = Config(access_key=emulator.access_key, secret_key=emulator.secret_key, put_url=emulator.url,
                 mgr_url=emulator.url)
    with Client(cfg) as client:
        for key, data in SITE.items():
            path = tmp_path / "seed"
            path.write_bytes(data)
            client.simple_upload(str(path), bucket, key, overwrite=1).raise_for_status()
    return bucket


def keys(emulator, bucket, prefix=""):
    return sorted(info.key for info in emulator.store.keys_under(bucket, prefix))


def lines(run):
    return [json.loads(line) for line in run.out.splitlines()]


# -- ls ---------------------------------------------------------------------------------------


def test_ls_buckets_then_one_level_then_everything(wcscmd, cfgfile, site):
    run = wcscmd("-c", cfgfile, "ls")
    assert run.status == 0 and "wcs://%s" % site in run.out.splitlines()
    run = wcscmd("-c", cfgfile, "ls", "wcs://%s/www/" % site)
    assert run.status == 0, run.err
    out = run.out.splitlines()
    assert out[0].split() == ["DIR", "www/img/"]
    assert [line.split()[-1] for line in out[1:]] == ["www/a.css", "www/about.html", "www/index.html"]
    assert out[1].split()[2] == "3" and len(out[1].split()[0]) == 10  # date time size key
    run = wcscmd("-c", cfgfile, "ls", "-r", "wcs://%s" % site)
    assert [line.split()[-1] for line in run.out.splitlines()] == sorted(SITE)


def test_ls_json_lines_and_summary(wcscmd, cfgfile, site):
    run = wcscmd("-c", cfgfile, "ls", "--json", "--summarize", "wcs://%s/www" % site)
    assert run.status == 0, run.err
    docs = lines(run)
    assert docs[0] == {"type": "dir", "bucket": site, "prefix": "www/img/"}
    obj = docs[1]
    assert list(obj) == ["type", "bucket", "key", "size", "hash", "time", "epoch_ms", "mime_type", "storage_class",
                         "restore_state", "restore_until"]
    assert obj["key"] == "www/a.css" and obj["size"] == 3 and isinstance(obj["epoch_ms"], int)
    assert obj["time"].endswith("Z") and obj["time"][10] == "T"
    assert docs[-1] == {"type": "summary", "objects": 3, "bytes": len(b"css") + len(b"about") + len(b"<p>index</p>")}


def test_ls_human_sizes_and_a_single_key(wcscmd, cfgfile, site):
    run = wcscmd("-c", cfgfile, "ls", "-H", "wcs://%s/www/index.html" % site)
    assert run.status == 0 and run.out.split()[-3:] == ["12", "B", "www/index.html"]


def test_ls_of_a_missing_bucket_is_a_service_error_without_a_document(wcscmd, cfgfile):
    run = wcscmd("-c", cfgfile, "ls", "wcs://no-such-bucket-here/")
    assert run.status == ExitStatus.SERVICE and run.out == "" and len(run.err_lines) == 1


@pytest.mark.parametrize("argv", [["ls", "--depth", "2", "wcs://b"], ["du", "--summarize", "wcs://b"],
                                  ["ls", "--dry-run", "wcs://b"], ["du", "-r", "wcs://b"]])
def test_options_of_other_commands_are_refused(wcscmd, cfgfile, argv):
    run = wcscmd("-c", cfgfile, *argv)
    assert run.status == ExitStatus.USAGE and "does not apply" in run.err


# -- du ---------------------------------------------------------------------------------------


def test_du_total_and_depth(wcscmd, cfgfile, site):
    run = wcscmd("-c", cfgfile, "du", "wcs://%s/www" % site)
    assert run.status == 0 and run.out.split() == [str(sum(len(v) for k, v in SITE.items() if k.startswith("www/"))),
                                                   "4", "wcs://%s/www/" % site]
    run = wcscmd("-c", cfgfile, "du", "--json", "--depth", "1", "wcs://%s" % site)
    docs = lines(run)
    assert [(d["prefix"], d["depth"], d["objects"]) for d in docs] == [("www/", 1, 4), ("www2/", 1, 1), ("", 0, 5)]
    assert list(docs[0]) == ["bucket", "prefix", "depth", "objects", "bytes"]


# -- rm ---------------------------------------------------------------------------------------


def test_rm_keys_globs_and_the_summary(wcscmd, cfgfile, emulator, site):
    run = wcscmd("-c", cfgfile, "rm", "wcs://%s/www/*.html" % site, "wcs://%s/www2/x" % site)
    assert run.status == 0, run.err
    assert list(run.json) == declared("rm") and run.json["deleted"] == 3 and run.json["failed"] == 0
    assert keys(emulator, site) == ["www/a.css", "www/img/logo.png"]
    assert "wcscmd: note: deleted 3 objects" in run.err_lines


def test_rm_of_a_missing_key_fails_by_its_status(wcscmd, cfgfile, emulator, site):
    run = wcscmd("-c", cfgfile, "rm", "wcs://%s/www/a.css" % site, "wcs://%s/nope" % site)
    assert run.status == ExitStatus.PARTIAL
    assert run.json["errors"] == [{"key": "wcs://%s/nope" % site, "error": "no such object"}]
    assert "wcscmd: error: wcs://%s/nope: no such object" % site in run.err_lines
    assert "www/a.css" not in keys(emulator, site)


def test_rm_r_dry_run_then_for_real(wcscmd, cfgfile, emulator, site):
    run = wcscmd("-c", cfgfile, "rm", "-r", "--dry-run", "wcs://%s/www" % site)
    assert run.status == 0 and run.json["planned"] == 4 and len(keys(emulator, site)) == 5
    assert "wcscmd: dry-run: delete wcs://%s/www/img/logo.png" % site in run.err_lines
    run = wcscmd("-c", cfgfile, "rm", "-r", "wcs://%s/www/" % site, "--json")
    assert run.status == 0 and json.loads(run.out)["deleted"] == 4 and keys(emulator, site) == ["www2/x"]


@pytest.mark.parametrize("argv, message", [
    (["rm", "-r", "wcs://b"], "refusing to delete the whole bucket"),
    (["rm", "-r", "wcs://b/"], "refusing to delete the whole bucket"),
    (["rm", "-r", "wcs://b/x/*"], "-r takes prefixes, not patterns"),
    (["rm", "wcs://b"], "missing object key"),
    (["rm", "local.txt"], "expected wcs://BUCKET"),
    (["rm", "--exclude", "x", "wcs://b/k"], "does not apply to rm"),
])
def test_rm_refusals(wcscmd, cfgfile, argv, message):
    run = wcscmd("-c", cfgfile, *argv)
    assert run.status == ExitStatus.USAGE and message in run.err, run.err


# -- deletePrefix --wait ----------------------------------------------------------------------


def test_delete_prefix_wait_prints_the_finished_job(wcscmd, cfgfile, emulator, site):
    run = wcscmd("-c", cfgfile, "deletePrefix", "wcs://%s" % site, "www", "--wait")
    assert run.status == 0, run.err
    assert list(run.json) == declared("deletePrefix --wait") and run.json["body"]["code"] == 3
    assert run.json["body"]["items"][0]["deleted"] == 4 and keys(emulator, site) == ["www2/x"]
    assert "submitted; waiting for it to finish" in run.err


def test_delete_prefix_wait_exits_by_a_failed_job(wcscmd, cfgfile):
    run = wcscmd("-c", cfgfile, "deletePrefix", "wcs://no-such-bucket-here", "p", "--wait")
    assert run.status == ExitStatus.JOB_FAILED, run.err
    assert run.json["body"]["items"][0]["code"] == 2 and "Bucket Not Found" in run.err_lines[-1]


# -- sync between prefixes, and the source-first order -----------------------------------------


def test_sync_between_two_prefixes(wcscmd, cfgfile, emulator, site):
    run = wcscmd("-c", cfgfile, "sync", "wcs://%s/www" % site, "wcs://%s/mirror" % site, "--delete")
    assert run.status == 0, run.err
    assert list(run.json) == declared("sync") + ["replaced"] and run.json["transferred"]["files"] == 4
    run = wcscmd("-c", cfgfile, "sync", "wcs://%s/www" % site, "wcs://%s/mirror" % site, "--delete", "-v")
    assert run.json["skipped"] == {"same": 4} and run.json["transferred"]["files"] == 0
    run = wcscmd("-c", cfgfile, "sync", "wcs://%s/www" % site, "wcs://%s/mirror" % site, "--follow-symlinks")
    assert run.status == ExitStatus.USAGE and "is for a local folder" in run.err


def test_put_get_and_multiput_take_the_source_first_too(wcscmd, cfgfile, emulator, bucket, tmp_path):
    local = tmp_path / "f.txt"
    local.write_bytes(b"either order")
    assert wcscmd("-c", cfgfile, "put", local, "wcs://%s/a.txt" % bucket).status == 0
    assert wcscmd("-c", cfgfile, "multiput", local, "wcs://%s/b.txt" % bucket).status == 0
    run = wcscmd("-c", cfgfile, "get", tmp_path / "got.txt", "wcs://%s/a.txt" % bucket)
    assert run.status == 0 and run.err == "" and (tmp_path / "got.txt").read_bytes() == b"either order"
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "x").write_bytes(b"x")
    assert wcscmd("-c", cfgfile, "put", "-r", folder, "wcs://%s/t" % bucket).status == 0
    assert wcscmd("-c", cfgfile, "get", "-r", tmp_path / "back", "wcs://%s/t" % bucket).status == 0
    assert (tmp_path / "back" / "x").read_bytes() == b"x"
    assert keys(emulator, bucket) == ["a.txt", "b.txt", "t/x"]
    # The official order still works.
    assert wcscmd("-c", cfgfile, "put", "wcs://%s/c.txt" % bucket, local).status == 0


@pytest.mark.slow
def test_ls_streams_many_keys_with_flat_memory(cfgfile, monkeypatch):
    import tracemalloc

    from wcs.cli.wcscmd import main
    from wcs.commons.result import ObjectInfo
    from wcs.services.client import Client

    def listing(self, bucket, prefix="", recursive=True):
        for i in range(8000):
            yield ObjectInfo(key="logs/%06d.txt" % i, size=i, hash="F" + "x" * 27, put_time=1765000000000 + i)

    class Sink:
        lines = 0

        def write(self, text):
            self.lines += text.count("\n")

        def flush(self):
            pass

    monkeypatch.setattr(Client, "list_entries", listing)
    out = Sink()
    tracemalloc.start()
    try:
        assert main(["-c", cfgfile, "ls", "-r", "--json", "wcs://b/logs/"], stdout=out) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.lines == 8000
    # Measured: 0.8 MB for 2,000 keys and for 8,000 (the parser, the config...). 8,000 lines of ~250
    # bytes kept would add 2 MB, their ObjectInfo several times more.
    assert peak < 1.5 * 1024 * 1024, peak
