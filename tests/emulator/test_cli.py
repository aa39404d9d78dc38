"""The ``wcs-emulator`` command: listening line, --write-config, buckets, signals, bad arguments, TLS."""

import os
import shutil
import signal
import stat
import subprocess
import sys

import pytest
import requests

from wcs.emulator.cli import default_data_dir, main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start(args, cmd=None):
    cmd = cmd or [sys.executable, "-m", "wcs.emulator"]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(cmd + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    return proc, line


def stop(proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=15)
    finally:
        proc.stdout.close()
        proc.stderr.close()


def test_listening_line_config_buckets_and_sigterm(tmp_path):
    config = tmp_path / "conf" / ".wcscfg"
    proc, line = start(["--port", "0", "--data-dir", str(tmp_path / "d"), "--bucket", "one", "--bucket", "two",
                        "--write-config", str(config), "--access-key", "AK", "--secret-key", "SK"])
    try:
        assert line.startswith("WCS emulator listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        assert requests.get(url + "/one/missing").status_code == 404
        assert requests.get(url + "/three/missing").json()["message"] == "Bucket Not Found"
        assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
        text = config.read_text()
        assert "[default]" in text and "access_key = AK" in text and "secret_key = SK" in text
        assert "put_url = %s" % url in text and "mgr_url = %s" % url in text and "ishttps = False" in text
    finally:
        assert stop(proc) == 0
    # buckets persist: restart without --bucket, SIGINT stops it too
    proc, line = start(["--port", "0", "--data-dir", str(tmp_path / "d")])
    try:
        assert requests.get(line.split()[-1] + "/two/missing").json()["message"] == "File Not Found"
    finally:
        assert stop(proc, signal.SIGINT) == 0


def test_connection_options_reach_the_server(tmp_path):
    proc, line = start(["--port", "0", "--data-dir", str(tmp_path / "d"), "--keepalive-timeout", "0",
                        "--min-rate", "1000", "--rate-grace", "5", "--io-timeout", "5"])
    try:
        resp = requests.get(line.split()[-1] + "/b/missing")
        assert resp.status_code == 404 and resp.headers["Connection"] == "close"
    finally:
        assert stop(proc) == 0
    proc, line = start(["--port", "0", "--data-dir", str(tmp_path / "d")])
    try:
        assert "Connection" not in requests.get(line.split()[-1] + "/b/missing").headers  # kept alive
    finally:
        assert stop(proc) == 0


def test_bin_shim(tmp_path):
    proc, line = start(["--port", "0", "--data-dir", str(tmp_path)], cmd=[sys.executable,
                                                                          os.path.join(ROOT, "bin", "wcs-emulator")])
    try:
        assert line.startswith("WCS emulator listening on http://")
    finally:
        assert stop(proc) == 0


@pytest.mark.parametrize("args", [["--bucket", "list"], ["--faults", "x:y:z"], ["--tls-cert", "only-one.pem"],
                                  ["--port", "70000"], ["--min-rate", "-1"], ["--rate-grace", "0"],
                                  ["--keepalive-timeout", "-1"], ["--io-timeout", "0"]])
def test_bad_arguments_exit_2(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2


def test_port_in_use_exits_1(tmp_path):
    proc, line = start(["--port", "0", "--data-dir", str(tmp_path / "a")])
    try:
        port = line.split(":")[-1].strip()
        second = subprocess.run([sys.executable, "-m", "wcs.emulator", "--port", port, "--data-dir",
                                 str(tmp_path / "b")], capture_output=True, text=True, timeout=30,
                                env=dict(os.environ, PYTHONPATH=ROOT))
        assert second.returncode == 1 and second.stdout == ""
        assert "cannot listen on 127.0.0.1:%s" % port in second.stderr
        # nothing was created for a server that never started
        assert not (tmp_path / "b").exists()
        (tmp_path / "c").mkdir()
        third = subprocess.run([sys.executable, "-m", "wcs.emulator", "--port", port, "--data-dir",
                                str(tmp_path / "c")], capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, PYTHONPATH=ROOT))
        assert third.returncode == 1 and os.listdir(tmp_path / "c") == []
    finally:
        stop(proc)


def test_version(capsys):
    from wcs import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == "wcs-emulator %s" % __version__


def test_default_data_dir_honours_xdg(monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", "/somewhere")
    assert default_data_dir() == "/somewhere/wcs-emulator"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_data_dir() == os.path.join(os.path.expanduser("~"), ".local", "share", "wcs-emulator")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_tls(tmp_path):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    config = tmp_path / "cfg"
    proc, line = start(["--port", "0", "--data-dir", str(tmp_path / "d"), "--bucket", "s", "--tls-cert", str(cert),
                        "--tls-key", str(key), "--write-config", str(config)])
    try:
        assert line.startswith("WCS emulator listening on https://127.0.0.1:"), line
        assert requests.get(line.split()[-1] + "/s/k", verify=str(cert)).status_code == 404
        assert "ishttps = True" in config.read_text()
    finally:
        assert stop(proc) == 0
