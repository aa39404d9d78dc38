"""An existing object and ``overwrite = 0``: refused with a hint that names the cure, before any block is sent."""

import os

import pytest

from tests.cli.conftest import assert_one_error_line
from wcs.commons.util import etag


@pytest.fixture
def c(wcscmd, cfgfile):
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


def test_put_onto_an_existing_object_suggests_overwrite(c, bucket, tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"one\n")
    assert c("put", "wcs://%s/f.txt" % bucket, str(path)).status == 0
    run = c("put", "wcs://%s/f.txt" % bucket, str(path))
    assert run.status == 5 and run.json["code"] == 406
    line = assert_one_error_line(run, 5)
    assert line.startswith("wcscmd: error: wcs://%s/f.txt: HTTP 406" % bucket)
    assert line.endswith("; the object exists: add --overwrite 1 to replace it")


def test_multiput_onto_an_existing_object_is_refused_before_any_block(c, bucket, tmp_path, emulator):
    small = tmp_path / "small.txt"
    small.write_bytes(b"already there\n")
    assert c("put", "wcs://%s/big.bin" % bucket, str(small)).status == 0
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))
    emulator.reset_counters()
    run = c("multiput", "wcs://%s/big.bin" % bucket, str(big))
    assert run.status == 5, run.err
    assert emulator.counters.get("mkblk", 0) == 0 and emulator.counters.get("bput", 0) == 0
    assert run.json["code"] == 406 and run.json["body"]["message"] == "File Already Exist"
    assert run.json["checked_by"] == "stat" and run.json["reqid"]
    line = assert_one_error_line(run, 5)
    assert line.startswith("wcscmd: error: wcs://%s/big.bin: HTTP 406: File Already Exist" % bucket)
    assert line.endswith("; the object exists: add --overwrite 1 to replace it")
    assert "resume" not in run.err and "upload id" not in run.err
    assert not os.path.exists(tmp_path / "records") or os.listdir(tmp_path / "records") == []
    run = c("multiput", "wcs://%s/big.bin" % bucket, str(big), "--overwrite", "1")
    assert run.status == 0, run.err
    assert run.json["body"]["hash"] == etag(str(big))


def test_multiput_whose_object_appears_meanwhile_tells_how_to_replace_it(c, cfgfile, bucket, tmp_path,
                                                                          monkeypatch):
    import shlex

    from wcs.cli.wcscmd import main
    from wcs.commons.config import Config
    from wcs.services import blocksteps
    from wcs.services.client import Client

    other = tmp_path / "other.txt"
    other.write_bytes(b"stored by someone else\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(5 * 1024 * 1024))
    mkfile = blocksteps.BlockSteps.mkfile
    intruders = []

    def someone_else_first(self, *args, **kwargs):
        if not intruders:  # the object appears after the blocks were sent, before mkfile
            with Client(Config(cfgfile)) as client:
                intruders.append(client.simple_upload(str(other), bucket, "race.bin").raise_for_status())
        return mkfile(self, *args, **kwargs)

    monkeypatch.setattr(blocksteps.BlockSteps, "mkfile", someone_else_first)
    run = c("multiput", "wcs://%s/race.bin" % bucket, str(big), "--overwrite", "0")
    assert run.status == 5, run.err
    assert run.err_lines[1].startswith("wcscmd: error: wcs://%s/race.bin: HTTP 406" % bucket)
    prefix = "wcscmd: the object exists: to replace it with this upload run: wcscmd "
    assert run.err_lines[2].startswith(prefix) and len(run.err_lines) == 3, run.err_lines
    argv = shlex.split(run.err_lines[2][len(prefix):])
    assert argv[-4:] == ["--overwrite", "1", "--upload-id", run.json["upload_id"]]
    assert argv.count("--overwrite") == 1
    sent = []
    send_block = blocksteps.BlockSteps.send_block
    monkeypatch.setattr(blocksteps.BlockSteps, "send_block", lambda self, *a: sent.append(1) or send_block(self, *a))
    assert main(argv) == 0
    assert sent == []  # every block was kept: the replace only ran mkfile
    with Client(Config(cfgfile)) as client:
        assert client.stat(bucket, "race.bin").body["hash"] == etag(str(big))


@pytest.mark.parametrize("argv, expected", [
    (["multiput", "wcs://b/k", "f"], ["multiput", "wcs://b/k", "f", "--overwrite", "1", "--upload-id", "NEW"]),
    (["multiput", "wcs://b/k", "f", "--overwrite", "0", "--ov=0", "--upload-id", "OLD"],
     ["multiput", "wcs://b/k", "f", "--overwrite", "1", "--upload-id", "NEW"]),
    (["multiput", "--output", "x", "wcs://b/k", "--", "-f"],
     ["multiput", "--output", "x", "wcs://b/k", "--overwrite", "1", "--upload-id", "NEW", "--", "-f"]),
])
def test_resume_argv_with_overwrite(argv, expected):
    from wcs.cli.wcscmd import resume_argv

    assert resume_argv(argv, "NEW", overwrite=True) == expected
