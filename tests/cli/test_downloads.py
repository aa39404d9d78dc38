"""``get`` and ``cat`` as a user runs them: download domains, pipes, directories, kill -9 and resume."""

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers.waiting import wait_until
from wcs.commons.util import etag
from wcs.services.ranged import CHECKPOINT_NAME, staging_path

from .conftest import assert_one_error_line

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MiB = 1024 * 1024


def wcscmd_process(*argv, cwd, **kwargs):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.Popen([sys.executable, os.path.join(ROOT, "bin", "wcscmd"), *argv], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


@pytest.fixture
def uploaded_object(wcscmd, cfgfile, bucket, tmp_path):
    def upload(name, size, seed=1):
        path = tmp_path / name
        path.write_bytes(os.urandom(size))
        assert wcscmd("-c", cfgfile, "put", "wcs://%s/%s" % (bucket, name), str(path)).status == 0
        return path
    return upload


def test_get_without_a_download_domain_is_a_config_error(wcscmd, cfgfile, bucket, tmp_path):
    text = open(cfgfile).read().replace("download_url", "# download_url")
    open(cfgfile, "w").write(text)
    line = assert_one_error_line(wcscmd("-c", cfgfile, "get", "wcs://%s/k" % bucket, "out"), 3)
    assert "download_url" in line
    assert not (tmp_path / "out").exists()


def test_get_into_a_directory_uses_the_default_name(wcscmd, cfgfile, bucket, tmp_path, uploaded_object):
    path = uploaded_object("in-dir.bin", 1000)
    (tmp_path / "dest").mkdir()
    for where in ("dest", "dest/", "."):
        os.chdir(tmp_path / "dest" if where == "." else tmp_path)
        run = wcscmd("-c", cfgfile, "get", "wcs://%s/in-dir.bin" % bucket, where)
        assert run.status == 0, run.err
        assert (tmp_path / "dest" / "in-dir.bin").read_bytes() == path.read_bytes()
        os.unlink(tmp_path / "dest" / "in-dir.bin")


@pytest.mark.parametrize("argv", [["get", "{uri}", "-"], ["cat", "{uri}"]])
def test_get_dash_and_cat_stream_to_stdout(cfgfile, bucket, tmp_path, uploaded_object, argv):
    path = uploaded_object("piped.bin", 3 * MiB + 11)
    uri = "wcs://%s/piped.bin" % bucket
    proc = wcscmd_process("-c", cfgfile, *[a.format(uri=uri) for a in argv], cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out == path.read_bytes() and err == b""
    assert sorted(os.listdir(tmp_path)) == sorted(["emulator.wcscfg", "home", "piped.bin"] +
                                                 (["records"] if (tmp_path / "records").exists() else []))


def test_cat_of_a_missing_object_is_one_error_line(wcscmd, cfgfile, bucket):
    run = wcscmd("-c", cfgfile, "cat", "wcs://%s/missing" % bucket)
    assert_one_error_line(run, 5)
    assert run.out == ""


@pytest.mark.slow
def test_get_killed_half_way_resumes_with_only_the_missing_parts(cfgfile, emulator, bucket, tmp_path):
    with open(cfgfile, "a") as fp:
        fp.write("download_threshold = 8388608\ndownload_part_size = 4194304\nconcurrency = 2\n")
    big = tmp_path / "big.bin"
    with open(big, "wb") as fp:
        for _ in range(24):
            fp.write(os.urandom(4 * MiB))
    uri = "wcs://%s/big.bin" % bucket
    up = wcscmd_process("-c", cfgfile, "multiput", uri, str(big), cwd=tmp_path)
    assert up.wait(120) == 0, up.stderr.read()
    checkpoint = tmp_path / os.path.basename(staging_path(str(tmp_path / "out.bin"))) / CHECKPOINT_NAME
    emulator.set_faults("download:slow:1", seed=1)  # every part waits 0.2-1 s: time to kill it half way
    try:
        proc = wcscmd_process("-c", cfgfile, "get", uri, "out.bin", cwd=tmp_path)

        def parts_done():
            try:
                return len(json.loads(checkpoint.read_text())["parts"])
            except (OSError, ValueError):  # not written yet, or being replaced this instant
                return 0

        done = wait_until(lambda: parts_done() >= 12 and parts_done(), timeout=60, interval=0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        emulator.set_faults(None)
    assert done >= 12 and not (tmp_path / "out.bin").exists()
    recorded = len(json.loads(checkpoint.read_text())["parts"])
    emulator.reset_counters()
    again = wcscmd_process("-c", cfgfile, "get", uri, "out.bin", cwd=tmp_path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert etag(str(tmp_path / "out.bin")) == etag(str(big))
    assert emulator.counters.get("download", 0) <= 24 - recorded  # no recorded part is fetched again
    assert not os.path.exists(staging_path(str(tmp_path / "out.bin")))
