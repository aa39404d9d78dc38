"""Issue 7, point 5 — security: private config files, no secret in any output, no code from data,
TLS verified by default, forged tokens refused.

* Every file holding the secret key is created 0600 even under umask 0, also over an existing
  world-readable file: ``wcscmd --configure``, ``Emulator.write_config``, ``wcs-emulator --write-config``.
* A recognisable secret key never appears on stdout, stderr or in any log record (raw records,
  before the CLI's masking) of successful and failing commands, with and without ``--debug``, given
  in the file or in ``WCS_SECRET_KEY`` - except on ``--dump-config``, which exists to show it.
* No ``eval``/``exec``/``pickle``/``marshal``/``yaml.load`` anywhere under wcs/:
  tests/unit/test_services_hygiene.py (``test_no_code_from_data_anywhere_in_the_package``); a resume
  record holding Python code is refused, not run: test_crash_resume.py (``python_not_json``).
* TLS: against ``wcs-emulator --tls-cert`` (a self-signed certificate made with ``openssl``), the
  default ``isverify = True`` fails (exit 6, one line naming the certificate problem), ``isverify =
  False`` works, and so does verification once the certificate is trusted (``REQUESTS_CA_BUNDLE``):
  the check is real, not a blanket failure. Library level: tests/functional/test_https.py.
* Tokens: tampered, expired and out-of-scope tokens are refused (401) by mkblk, bput, mkfile and the
  management API, and nothing changes. Form uploads: tests/emulator/test_upload.py
  (``test_token_failures_are_401``, ``test_scope_mismatch_is_401``); management signatures:
  tests/emulator/test_manage.py (``test_management_auth_failures``).
"""

import io
import json
import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import time

import pytest
import requests

from tests.helpers.emulator_api import Api
from tests.helpers.files import MiB, etag_of, write_file
from wcs.cli.configure import QUESTIONS
from wcs.commons.auth import upload_token_from_encoded
from wcs.commons.config import Config
from wcs.commons.util import entry, etag, urlsafe_base64_encode
from wcs.emulator import Emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = "Rel7-SeCrEt-9f3a1c77e0b24d5c"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """This module's emulator signs with the recognisable SECRET."""
    with Emulator(data_dir=str(tmp_path_factory.mktemp("security-emulator")), secret_key=SECRET) as emu:
        yield emu


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


@pytest.fixture
def umask_zero():
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


# -- files holding the secret ----------------------------------------------------------------------

def test_configure_writes_0600_under_umask_0_over_a_public_file(wcscmd, tmp_path, monkeypatch, umask_zero):
    path = tmp_path / "public.wcscfg"
    path.write_text("[default]\naccess_key = old\n")
    os.chmod(str(path), 0o644)
    answers = "".join("%s\n" % {"access_key": "ak", "secret_key": SECRET}.get(key, "") for key, _, _ in QUESTIONS)
    monkeypatch.setattr("sys.stdin", io.StringIO(answers + "y\n"))
    run = wcscmd("-c", str(path), "--configure")
    assert run.status == 0, run.err
    assert mode(path) == 0o600 and Config(str(path)).secret_key == SECRET
    assert SECRET not in run.out + run.err


def test_emulator_write_config_is_0600_under_umask_0(emulator, tmp_path, umask_zero):
    path = tmp_path / "emu.wcscfg"
    path.write_text("old")
    os.chmod(str(path), 0o666)
    emulator.write_config(str(path))
    assert mode(path) == 0o600 and Config(str(path)).secret_key == SECRET


def test_wcs_emulator_write_config_is_0600_under_umask_0(tmp_path):
    path = tmp_path / "cli.wcscfg"
    path.write_text("old")
    os.chmod(str(path), 0o666)
    proc = subprocess.Popen([sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir", str(tmp_path / "d"),
                             "--write-config", str(path), "--secret-key", SECRET], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=ROOT),
                            preexec_fn=lambda: os.umask(0))
    try:
        assert proc.stdout.readline().startswith("WCS emulator listening on")
        assert mode(path) == 0o600 and Config(str(path)).secret_key == SECRET
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


# -- the secret never shows --------------------------------------------------------------------------

def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_secret_never_appears_in_output_errors_or_logs(emulator, bucket, cfgfile, wcscmd, tmp_path, caplog,
                                                       monkeypatch):
    cfg = cfgfile(connection_retries=0, mkblk_retries=0)
    port = closed_port()
    unreachable = cfgfile(put_url="http://127.0.0.1:%d" % port, mgr_url="http://127.0.0.1:%d" % port,
                          connection_retries=0, mkblk_retries=0)
    wrong_ak = cfgfile(access_key="somebody-else")
    env_only = str(tmp_path / "env-only.wcscfg")
    with open(env_only, "w", encoding="utf-8") as fp:
        fp.write("[default]\naccess_key = %s\nput_url = %s\nmgr_url = %s\n" % (emulator.access_key, emulator.url,
                                                                               emulator.url))
    broken = str(tmp_path / "broken.wcscfg")
    with open(broken, "w", encoding="utf-8") as fp:
        fp.write("[default]\nsecret_key: %s\n" % SECRET)
    small = write_file(tmp_path / "small.bin", 1000)
    big = write_file(tmp_path / "big.bin", 4 * MiB + 5)

    def commands(obj):
        return [
            (cfg, ["put", obj, small], 0),
            (cfg, ["multiput", obj + "-big", big], 0),
            (cfg, ["stat", obj], 0),
            (cfg, ["listbucket"], 0),
            (cfg, ["list", "wcs://%s" % bucket, "list.json"], 0),
            (cfg, ["listall", "wcs://%s" % bucket, "all.json"], 0),
            (cfg, ["get", obj, "copy.bin"], 0),
            (cfg, ["cp", obj, obj + "-copy"], 0),
            (cfg, ["setdeadline", obj, "3"], 0),
            (cfg, ["deletePrefix", "wcs://%s" % bucket, "nothing/"], 0),
            (cfg, ["del", obj], 0),
            (cfg, ["stat", obj], 5),
            (cfg, ["put", "wcs://no-such-bucket-r7/k", small], 5),
            (cfg, ["multiput", "wcs://no-such-bucket-r7/k", big], 5),
            (cfg, ["put", obj, str(tmp_path / "missing")], 4),
            (cfg, ["list", "wcs://%s" % bucket, "x.json", "--limit", "0"], 2),
            (wrong_ak, ["put", obj, small], 5),
            (wrong_ak, ["stat", obj], 5),
            (unreachable, ["put", obj, small], 6),
            (unreachable, ["multiput", obj, big], 6),
            (broken, ["stat", obj], 3),
        ]

    caplog.set_level(logging.DEBUG)
    for name in ("wcs", "urllib3", "werkzeug"):
        caplog.set_level(logging.DEBUG, logger=name)
    for debug in ([], ["--debug"]):
        obj = "wcs://%s/obj%d" % (bucket, len(debug))
        for path, argv, status in commands(obj):
            run = wcscmd("-c", path, *(argv + debug))
            assert run.status == status, (argv, run.err)
            assert SECRET not in run.out + run.err, argv
        monkeypatch.setenv("WCS_SECRET_KEY", SECRET)
        run = wcscmd("-c", env_only, "put", obj, small, "--overwrite", "1", *debug)
        assert run.status == 0 and SECRET not in run.out + run.err
        run = wcscmd("-c", env_only, "stat", "wcs://%s/missing" % bucket, *debug)
        assert run.status == 5 and SECRET not in run.out + run.err
        monkeypatch.delenv("WCS_SECRET_KEY")
    assert len(caplog.records) > 100  # the debug logs really were captured
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        assert SECRET not in text, (record.name, text[:200])
    # The one place it is shown, on purpose:
    assert SECRET in wcscmd("-c", cfg, "--dump-config").out


# -- TLS ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    """``wcs-emulator --tls-cert`` in a subprocess: ``(config path, certificate path, bucket)``."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key, cfg = str(folder / "cert.pem"), str(folder / "key.pem"), str(folder / "tls.wcscfg")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True, timeout=60)
    proc = subprocess.Popen([sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir", str(folder / "d"),
                             "--bucket", "tls", "--tls-cert", cert, "--tls-key", key, "--write-config", cfg],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        line = proc.stdout.readline()
        assert line.startswith("WCS emulator listening on https://"), line + proc.stderr.read()
        with open(cfg, "a", encoding="utf-8") as fp:
            fp.write("connection_retries = 0\ntmp_record_folder = %s\n" % (folder / "records"))
        yield cfg, cert, "tls"
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def test_tls_is_verified_by_default(tls_emulator, wcscmd, tmp_path):
    cfg, _, bucket = tls_emulator
    assert Config().isverify is True and "isverify" not in open(cfg).read()
    run = wcscmd("-c", cfg, "stat", "wcs://%s/k" % bucket)
    assert run.status == 6, run.err
    assert len(run.err_lines) == 1 and "certificate" in run.err_lines[0].lower(), run.err_lines
    path = write_file(tmp_path / "f.bin", 1000)
    assert wcscmd("-c", cfg, "put", "wcs://%s/k" % bucket, path).status == 6


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_self_signed_needs_isverify_false(tls_emulator, wcscmd, tmp_path):
    cfg, _, bucket = tls_emulator
    insecure = str(tmp_path / "insecure.wcscfg")
    with open(insecure, "w", encoding="utf-8") as fp:
        fp.write(open(cfg).read() + "isverify = False\n")
    path = write_file(tmp_path / "f.bin", 4 * MiB + 1)
    run = wcscmd("-c", insecure, "multiput", "wcs://%s/insecure" % bucket, path, "--overwrite", "1")
    assert run.status == 0, run.err
    assert json.loads(wcscmd("-c", insecure, "stat", "wcs://%s/insecure" % bucket).out)["body"]["hash"] == etag(path)


@pytest.mark.parametrize("ssl_flag", [False, True])
@pytest.mark.slow
def test_unverified_tls_is_one_warning_line_not_urllib3s(tls_emulator, tmp_path, ssl_flag):
    """A real process: urllib3's InsecureRequestWarning would go to stderr (two lines per host)."""
    cfg, _, bucket = tls_emulator
    text = open(cfg).read() + "isverify = False\n"
    argv = []
    if ssl_flag:  # hosts without a scheme: -s alone makes them https
        text = text.replace("https://", "").replace("ishttps = True", "ishttps = False")
        argv = ["-s"]
    insecure = str(tmp_path / "insecure.wcscfg")
    with open(insecure, "w", encoding="utf-8") as fp:
        fp.write(text)
    os.chmod(insecure, 0o600)  # a config others can read gets a warning line of its own
    path = write_file(tmp_path / "f.bin", 4 * MiB + 1)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONWARNINGS")}
    note = "wcscmd: warning: TLS certificate verification is off (isverify = False)"
    for command, extra in ((["put", "wcs://%s/u" % bucket, path, "--overwrite", "1"], []),
                           (["multiput", "wcs://%s/m" % bucket, path, "--overwrite", "1", "--concurrency", "2"],
                            ["upload id: "]),
                           (["stat", "wcs://%s/u" % bucket], [])):
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "bin", "wcscmd"), "-c", insecure] + argv + command,
                              cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "InsecureRequestWarning" not in proc.stderr and "Unverified" not in proc.stderr
        lines = proc.stderr.splitlines()
        assert [line for line in lines if "upload id: " not in line] == [note], lines
        assert len(lines) == 1 + len(extra)


def test_tls_verification_passes_once_the_certificate_is_trusted(tls_emulator, wcscmd, tmp_path, monkeypatch):
    cfg, cert, bucket = tls_emulator
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    path = write_file(tmp_path / "f.bin", 1000)
    run = wcscmd("-c", cfg, "put", "wcs://%s/trusted" % bucket, path, "--overwrite", "1")
    assert run.status == 0, run.err


# -- forged tokens --------------------------------------------------------------------------------------

def test_tampered_expired_and_out_of_scope_tokens_are_refused_by_the_multipart_api(emulator, bucket):
    api = Api(emulator)
    good = api.token("%s:mp" % bucket)
    ak, sign, encoded = good.split(":")
    now = int(time.time() * 1000)
    bad_tokens = {
        "tampered policy": "%s:%s:%s" % (ak, sign, urlsafe_base64_encode(json.dumps(
            {"scope": "%s:other" % bucket, "deadline": now + 3600000}))),
        "tampered signature": "%s:%s:%s" % (ak, ("A" if sign[0] != "A" else "B") + sign[1:], encoded),
        "signed with another secret": upload_token_from_encoded(ak, "not-" + SECRET, encoded),
        "expired": api.token("%s:mp" % bucket, deadline=now - 1000),
    }
    block = b"x" * 1000
    resp = requests.post(api.url + "/mkblk/1000/0", data=block[:500], headers={"Authorization": good})
    assert resp.status_code == 200
    ctx = resp.json()["ctx"]
    emulator.reset_counters()
    for name, token in bad_tokens.items():
        resp = requests.post(api.url + "/mkblk/1000/0", data=block, headers={"Authorization": token})
        assert resp.status_code == 401, name
        resp = requests.post(api.url + "/bput/%s/500" % ctx, data=block[500:], headers={"Authorization": token})
        assert resp.status_code == 401, name
    assert emulator.mkblk_log == []
    # The untouched ctx still works; mkfile with bad tokens, or a key outside the scope, is refused.
    resp = requests.post(api.url + "/bput/%s/500" % ctx, data=block[500:], headers={"Authorization": good})
    assert resp.status_code == 200
    ctx = resp.json()["ctx"]
    for name, token in dict(bad_tokens, **{"key outside the scope": good}).items():
        headers = {"Authorization": token}
        if name == "key outside the scope":
            headers["Key"] = urlsafe_base64_encode("somewhere-else")
        resp = requests.post(api.url + "/mkfile/1000", data=ctx, headers=headers)
        assert resp.status_code == 401, name
    assert api.mgr("GET", "/stat/" + entry(bucket, "mp")).status_code == 404  # nothing was stored
    resp = requests.post(api.url + "/mkfile/1000", data=ctx, headers={"Authorization": good})
    assert resp.status_code == 200 and resp.json()["hash"] == etag_of(block)


def test_forged_management_tokens_change_nothing(emulator, bucket):
    api = Api(emulator)
    api.put(bucket, "keep", b"precious")
    path = "/delete/" + entry(bucket, "keep")
    good = api.mgr_token(path)
    ak, sign = good.split(":")
    for token in ("%s:%s" % (ak, ("A" if sign[0] != "A" else "B") + sign[1:]),  # tampered signature
                  api.mgr_token("/stat/" + entry(bucket, "keep")),  # signed for another request
                  "someone:" + sign,  # another access key
                  ""):
        assert api.mgr("POST", path, token=token).status_code == 401
    assert api.mgr("GET", "/stat/" + entry(bucket, "keep")).json()["fsize"] == len(b"precious")
