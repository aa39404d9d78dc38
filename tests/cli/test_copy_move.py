"""``wcscmd cp`` and ``mv`` in every direction, source then destination (issue 22): single objects and
files, ``-`` for stdin/stdout, ``-r`` for folders and prefixes, the overwrite rule, refusals, exit
statuses and the JSON document."""

import io
import os

import pytest

from tests.cli.test_outputs import declared
from wcs.cli.status import ExitStatus
from wcs.cli.wcscmd import main


def put(emulator, bucket, key, data, tmp_path):
    path = tmp_path / ("seed-" + key.replace("/", "_"))
    path.write_bytes(data)
    from wcs.commons.config import Config
    from wcs.services.client import Client

    cfg = Config(access_key=emulator.access_key, secret_key=emulator.secret_key, put_url=emulator.url,
                 mgr_url=emulator.url)
    with Client(cfg) as client:
        client.simple_upload(str(path), bucket, key, overwrite=1).raise_for_status()


def keys(emulator, bucket, prefix=""):
    return sorted(info.key for info in emulator.store.keys_under(bucket, prefix))


def size(emulator, bucket, key):
    info = emulator.store.get(bucket, key)
    return None if info is None else info.fsize


def test_cp_between_keys_replaces_and_says_so(wcscmd, cfgfile, emulator, bucket, tmp_path):
    put(emulator, bucket, "big", b"x" * 10240, tmp_path)
    put(emulator, bucket, "small", b"twelve bytes", tmp_path)
    run = wcscmd("-c", cfgfile, "cp", "wcs://%s/small" % bucket, "wcs://%s/big" % bucket)
    assert run.status == 0, run.err
    doc = run.json
    assert list(doc) == declared("cp")
    assert doc["action"] == "copied" and doc["replaced"] is True and doc["code"] == 200
    assert "wcscmd: note: replaced wcs://%s/big" % bucket in run.err_lines
    assert size(emulator, bucket, "big") == 12

    run = wcscmd("-c", cfgfile, "cp", "--no-clobber", "wcs://%s/big" % bucket, "wcs://%s/small" % bucket)
    assert run.status == 0 and run.json["action"] == "skipped" and run.json["replaced"] is False
    assert "not replaced (--no-clobber)" in run.err


def test_cp_into_a_directory_key_and_an_empty_key(wcscmd, cfgfile, emulator, bucket, tmp_path):
    put(emulator, bucket, "a/file.txt", b"f", tmp_path)
    other = bucket + "-2"
    emulator.create_bucket(other)
    assert wcscmd("-c", cfgfile, "cp", "wcs://%s/a/file.txt" % bucket, "wcs://%s/dir/" % bucket).status == 0
    assert wcscmd("-c", cfgfile, "cp", "wcs://%s/a/file.txt" % bucket, "wcs://%s" % other).status == 0
    assert keys(emulator, bucket) == ["a/file.txt", "dir/file.txt"] and keys(emulator, other) == ["a/file.txt"]


def test_cp_of_a_missing_object_is_the_services_404(wcscmd, cfgfile, bucket):
    run = wcscmd("-c", cfgfile, "cp", "wcs://%s/nope" % bucket, "wcs://%s/x" % bucket)
    assert run.status == ExitStatus.SERVICE and run.json["code"] == 404 and run.json["action"] == "failed"


def test_cp_up_and_down_and_the_directory_forms(wcscmd, cfgfile, emulator, bucket, tmp_path):
    local = tmp_path / "page.html"
    local.write_bytes(b"<p>hello</p>")
    run = wcscmd("-c", cfgfile, "cp", local, "wcs://%s/www/" % bucket)
    assert run.status == 0, run.err
    assert run.json["destination"] == "wcs://%s/www/page.html" % bucket and run.json["action"] == "uploaded"
    assert emulator.store.get(bucket, "www/page.html").mime_type == "text/html"

    run = wcscmd("-c", cfgfile, "cp", "wcs://%s/www/page.html" % bucket, str(tmp_path / "new") + "/")
    assert run.status == 0, run.err
    assert (tmp_path / "new" / "page.html").read_bytes() == b"<p>hello</p>" and run.json["action"] == "downloaded"
    run = wcscmd("-c", cfgfile, "cp", "--no-clobber", "wcs://%s/www/page.html" % bucket, tmp_path / "new")
    assert run.status == 0 and run.json["action"] == "skipped"


def test_cp_with_stdin_and_stdout(capsys, cfgfile, emulator, bucket):
    stdin = io.TextIOWrapper(io.BytesIO(b"from a pipe\n"))
    out = io.StringIO()
    assert main(["-c", cfgfile, "cp", "-", "wcs://%s/piped" % bucket], stdin=stdin, stdout=out) == 0
    assert '"action": "uploaded"' in out.getvalue()
    out = io.TextIOWrapper(io.BytesIO(), write_through=True)
    assert main(["-c", cfgfile, "cp", "wcs://%s/piped" % bucket, "-"], stdout=out) == 0
    assert out.buffer.getvalue() == b"from a pipe\n"


def test_mv_up_removes_the_file_only_after_the_upload(wcscmd, cfgfile, emulator, bucket, tmp_path):
    local = tmp_path / "f.bin"
    local.write_bytes(b"move me")
    run = wcscmd("-c", cfgfile, "mv", local, "wcs://%s/f.bin" % bucket)
    assert run.status == 0 and run.json["action"] == "moved" and not local.exists()
    local.write_bytes(b"again")
    run = wcscmd("-c", cfgfile, "mv", "--no-clobber", local, "wcs://%s/f.bin" % bucket)
    assert run.status == 0 and run.json["action"] == "skipped" and local.exists()


def test_mv_down_and_between_keys(wcscmd, cfgfile, emulator, bucket, tmp_path):
    put(emulator, bucket, "m", b"down", tmp_path)
    run = wcscmd("-c", cfgfile, "mv", "wcs://%s/m" % bucket, tmp_path / "m.txt")
    assert run.status == 0 and (tmp_path / "m.txt").read_bytes() == b"down" and keys(emulator, bucket) == []
    put(emulator, bucket, "a", b"a", tmp_path)
    put(emulator, bucket, "b", b"bbbb", tmp_path)
    run = wcscmd("-c", cfgfile, "mv", "wcs://%s/a" % bucket, "wcs://%s/b" % bucket)
    assert run.status == 0 and run.json["replaced"] is True and keys(emulator, bucket) == ["b"]


@pytest.mark.parametrize("argv, message", [
    (["cp", "a", "b"], "one of SOURCE and DEST must be wcs://"),
    (["mv", "-", "wcs://b/k"], "mv needs a file to remove"),
    (["mv", "wcs://b/k", "-"], "mv cannot write to stdout"),
    (["cp", "-r", "-", "wcs://b/k"], "'-' (stdin, stdout) is for one object"),
    (["cp", "-r", "x", "y"], "one of SOURCE and DEST must be wcs://"),
    (["cp", "--delete", "wcs://b/a", "wcs://b/c"], "--delete does not apply to cp"),
    (["cp", "--exclude", "*.tmp", "wcs://b/a", "wcs://b/c"], "--filter-from needs -r"),
    (["cp", "-r", "--mime-type", "text/plain", "d", "wcs://b/c"], "--mime-type does not apply to cp -r"),
])
def test_refusals_are_usage_errors(wcscmd, cfgfile, argv, message):
    run = wcscmd("-c", cfgfile, *argv)
    assert run.status == ExitStatus.USAGE and message in run.err, run.err


def test_cp_of_a_missing_local_file(wcscmd, cfgfile, bucket, tmp_path):
    run = wcscmd("-c", cfgfile, "cp", tmp_path / "missing", "wcs://%s/x" % bucket)
    assert run.status == ExitStatus.LOCAL_FILE and "no such file" in run.err


def test_cp_r_puts_the_folder_contents_under_the_prefix(wcscmd, cfgfile, emulator, bucket, tmp_path):
    site = tmp_path / "site"
    (site / "img").mkdir(parents=True)
    (site / "index.html").write_bytes(b"i")
    (site / "img" / "a.png").write_bytes(b"p")
    run = wcscmd("-c", cfgfile, "cp", "-r", site, "wcs://%s/www/" % bucket)
    assert run.status == 0, run.err
    assert list(run.json) == declared("cp -r") and run.json["transferred"]["files"] == 2
    assert keys(emulator, bucket) == ["www/img/a.png", "www/index.html"]

    run = wcscmd("-c", cfgfile, "cp", "-r", "wcs://%s/www" % bucket, "wcs://%s/www3/" % bucket)
    assert run.status == 0, run.err
    assert run.json["direction"] == "remote" and run.json["replaced"] == 0
    assert keys(emulator, bucket, "www3/") == ["www3/img/a.png", "www3/index.html"]

    run = wcscmd("-c", cfgfile, "cp", "-r", "wcs://%s/www3" % bucket, tmp_path / "back")
    assert run.status == 0 and (tmp_path / "back" / "img" / "a.png").read_bytes() == b"p"

    run = wcscmd("-c", cfgfile, "cp", "-r", "--dry-run", "wcs://%s/www" % bucket, "wcs://%s/www4" % bucket)
    assert run.status == 0 and run.json["planned"]["files"] == 2 and keys(emulator, bucket, "www4/") == []
    assert "wcscmd: dry-run: copy index.html (copy)" in run.err_lines


def test_mv_r_between_prefixes_and_up(wcscmd, cfgfile, emulator, bucket, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "a").write_bytes(b"a")
    (site / "b").write_bytes(b"b")
    run = wcscmd("-c", cfgfile, "mv", "-r", site, "wcs://%s/up" % bucket)
    assert run.status == 0 and run.json["sources_deleted"] == 2 and os.listdir(site) == []
    run = wcscmd("-c", cfgfile, "mv", "-r", "wcs://%s/up" % bucket, "wcs://%s/moved" % bucket)
    assert run.status == 0 and list(run.json) == declared("mv -r") + ["replaced", "sources_deleted"]
    assert keys(emulator, bucket) == ["moved/a", "moved/b"]


def test_overlapping_prefixes_are_refused(wcscmd, cfgfile, bucket):
    run = wcscmd("-c", cfgfile, "cp", "-r", "wcs://%s/www" % bucket, "wcs://%s/www/sub" % bucket)
    assert run.status == ExitStatus.USAGE and "overlap" in run.err
