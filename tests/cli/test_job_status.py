"""fopsStatus / fmgrStatus of a failed job: the JSON as always, and an exit status a script can wait on."""

import time

import pytest

from tests.cli.conftest import assert_one_error_line
from wcs.cli.status import ExitStatus


@pytest.fixture
def c(wcscmd, cfgfile):
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


def _finished(c, command, persistent_id):
    for _ in range(200):
        run = c(command, persistent_id)
        if run.json["body"].get("code") not in (0, 1, 4):
            return run
        time.sleep(0.05)
    raise AssertionError("job %s did not finish" % persistent_id)


def test_failed_fops_job_exits_job_failed(c, bucket, tmp_path):
    (tmp_path / "v.mp4").write_bytes(b"not really a video")
    assert c("put", "wcs://%s/v.mp4" % bucket, str(tmp_path / "v.mp4")).status == 0
    persistent_id = c("fops", "wcs://%s/v.mp4" % bucket, "avthumb/flv").json["body"]["persistentId"]
    run = _finished(c, "fopsStatus", persistent_id)
    assert ExitStatus.JOB_FAILED == 9
    line = assert_one_error_line(run, ExitStatus.JOB_FAILED)
    assert line.startswith("wcscmd: error: job %s failed: 1 of 1 operations failed (first: " % persistent_id)
    assert "avthumb" in line
    assert run.json["code"] == 200 and run.json["body"]["items"][0]["code"] == 2  # the JSON is still printed


def test_failed_fmgr_job_exits_job_failed_and_a_good_one_0(c, bucket, tmp_path):
    persistent_id = c("deletePrefix", "wcs://%s-missing" % bucket, "logs/").json["body"]["persistentId"]
    run = _finished(c, "fmgrStatus", persistent_id)
    assert_one_error_line(run, ExitStatus.JOB_FAILED)
    assert run.json["body"]["items"][0]["code"] == 2
    (tmp_path / "a").write_bytes(b"a")
    assert c("put", "wcs://%s/logs/a" % bucket, str(tmp_path / "a")).status == 0
    persistent_id = c("deletePrefix", "wcs://%s" % bucket, "logs/").json["body"]["persistentId"]
    run = _finished(c, "fmgrStatus", persistent_id)
    assert run.status == 0 and run.err == "" and run.json["body"]["items"][0]["code"] == 3


def test_job_failed_is_in_the_help(wcscmd):
    assert "9    job failed" in wcscmd("--help").out
