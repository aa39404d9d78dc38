"""Flags users expect on uploads (issue 22, item 9): ``--mime-type``/``--content-type``, a content type guessed from
the key's extension (``--no-guess-mime-type`` leaves it to the service, as the official tool does), and
``--no-clobber`` (skip what exists, say so, succeed)."""

import json

import pytest

from tests.cli.conftest import assert_one_error_line


@pytest.fixture
def stat(wcscmd, cfgfile, bucket):
    def run(key):
        result = wcscmd("-c", cfgfile, "stat", "wcs://%s/%s" % (bucket, key))
        assert result.status == 0, result.err
        return result.json["body"]
    return run


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "payload.bin"
    path.write_bytes(b"some bytes\n" * 100)
    return str(path)


@pytest.mark.parametrize("command", ["put", "multiput"])
def test_the_content_type_is_guessed_from_the_key(wcscmd, cfgfile, bucket, data, stat, command):
    for key, expected in (("page.html", "text/html"), ("data.json", "application/json"),
                          ("backup.tar.gz", "application/gzip")):
        assert wcscmd("-c", cfgfile, command, "wcs://%s/%s" % (bucket, key), data).status == 0
        assert stat(key)["mimeType"] == expected


def test_no_guess_leaves_it_to_the_service(wcscmd, cfgfile, bucket, data, stat):
    # The service's own guess for a .tar.gz differs from ours (the tar, not the gzip): it decided.
    run = wcscmd("-c", cfgfile, "put", "wcs://%s/backup.tar.gz" % bucket, data, "--no-guess-mime-type")
    assert run.status == 0, run.err
    assert stat("backup.tar.gz")["mimeType"] == "application/x-tar"


@pytest.mark.parametrize("flag", ["--mime-type", "--content-type"])
def test_an_explicit_content_type_wins(wcscmd, cfgfile, bucket, data, stat, flag):
    assert wcscmd("-c", cfgfile, "put", "wcs://%s/page.html" % bucket, data, flag, "text/plain").status == 0
    assert stat("page.html")["mimeType"] == "text/plain"
    assert wcscmd("-c", cfgfile, "multiput", "wcs://%s/big.html" % bucket, data, flag, "application/x-custom",
                  "--no-guess-mime-type").status == 0
    assert stat("big.html")["mimeType"] == "application/x-custom"


@pytest.mark.parametrize("command", ["put", "multiput"])
def test_no_clobber_skips_an_existing_key_and_says_so(wcscmd, cfgfile, bucket, data, tmp_path, stat, command):
    obj = "wcs://%s/kept.txt" % bucket
    first = wcscmd("-c", cfgfile, command, obj, data, "--no-clobber")
    assert first.status == 0 and first.json["code"] == 200 and "skipped" not in first.json  # missing: uploaded
    before = stat("kept.txt")
    other = tmp_path / "other.txt"
    other.write_bytes(b"different")
    run = wcscmd("-c", cfgfile, command, obj, other, "--no-clobber", "--json")
    assert run.status == 0, run.err
    doc = json.loads(run.out)
    assert doc["skipped"] == "exists" and doc["code"] == 200 and doc["body"]["hash"] == before["hash"]
    assert [line for line in run.err_lines if "upload id" not in line] == \
        ["wcscmd: note: %s exists: not uploaded (--no-clobber)" % obj]
    assert stat("kept.txt") == before


def test_no_clobber_and_overwrite_contradict(wcscmd, cfgfile, bucket, data):
    line = assert_one_error_line(wcscmd("-c", cfgfile, "put", "wcs://%s/k" % bucket, data, "--no-clobber",
                                        "--overwrite", "1"), 2)
    assert "--no-clobber and --overwrite 1" in line


def test_no_clobber_on_get_keeps_the_local_file(wcscmd, cfgfile, bucket, data, tmp_path):
    assert wcscmd("-c", cfgfile, "put", "wcs://%s/k" % bucket, data).status == 0
    target = tmp_path / "here.txt"
    target.write_bytes(b"mine")
    run = wcscmd("-c", cfgfile, "get", "wcs://%s/k" % bucket, target, "--no-clobber")
    assert run.status == 0 and run.json["skipped"] == "exists" and target.read_bytes() == b"mine"
    assert wcscmd("-c", cfgfile, "get", "wcs://%s/k" % bucket, tmp_path / "new.txt", "--no-clobber").status == 0
    assert (tmp_path / "new.txt").read_bytes() == open(data, "rb").read()


def test_no_clobber_on_folders_skips_what_exists(wcscmd, cfgfile, bucket, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.txt").write_bytes(b"a")
    assert wcscmd("-c", cfgfile, "put", "-r", "wcs://%s/www" % bucket, site).status == 0
    (site / "a.txt").write_bytes(b"changed")
    (site / "b.txt").write_bytes(b"b")
    run = wcscmd("-c", cfgfile, "sync", site, "wcs://%s/www" % bucket, "--no-clobber")
    assert run.status == 0 and run.json["skipped"] == {"exists": 1} and run.json["transferred"]["files"] == 1
