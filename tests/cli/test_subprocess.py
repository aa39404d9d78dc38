"""The installed entry points as a user runs them: a real process, real exit codes, real streams."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(script, *argv, cwd):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the shim must find the package by itself
    return subprocess.run([sys.executable, os.path.join(ROOT, "bin", script), *argv], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def test_wcscmd_script_against_the_emulator(cfgfile, bucket, tmp_path):
    data = tmp_path / "data.txt"
    data.write_bytes(b"subprocess smoke test\n")
    proc = run("wcscmd", "put", "wcs://%s/smoke/data.txt" % bucket, str(data), "-c", cfgfile, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    uploaded = json.loads(proc.stdout)
    assert proc.stderr == ""  # not a terminal: no progress bar, nothing to say

    proc = run("wcscmd", "-c", cfgfile, "stat", "wcs://%s/smoke/data.txt" % bucket, cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout)["body"]["hash"] == uploaded["body"]["hash"]

    proc = run("wcscmd", "-c", cfgfile, "stat", "wcs://%s/smoke/missing" % bucket, cwd=tmp_path)
    assert proc.returncode == 5 and json.loads(proc.stdout)["code"] == 404
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("wcscmd: error: wcs://%s/smoke/missing: HTTP 404" % bucket)

    proc = run("wcscmd", "-c", str(tmp_path / "nope"), "listbucket", cwd=tmp_path)
    assert proc.returncode == 3 and "--configure" in proc.stderr and "Traceback" not in proc.stderr

    proc = run("wcscmd", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "wcscmd multiput wcs://BUCKET/OBJECT LOCALFILE" in proc.stdout

    proc = run("wcs_etag_cal", "etag", str(data), cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.splitlines()[-1] == uploaded["body"]["hash"]


def test_crc64_cal_script(tmp_path):
    data = tmp_path / "data.txt"
    data.write_bytes(b"hello")
    proc = run("wcs_crc64_cal", "crc64", str(data), cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "%s\n11177612005948864433\n" % [str(data)], "")
    proc = run("wcs_crc64_cal", "crc64", str(tmp_path / "missing"), cwd=tmp_path)
    assert proc.returncode == 4 and proc.stdout == "" and proc.stderr.count("\n") == 1
