"""--configure, --dump-config and config failures: precedence, mode 0600, one-line hints, no secrets."""

import io
import os
import stat

import pytest

from tests.cli.conftest import assert_one_error_line
from wcs.cli.configure import QUESTIONS
from wcs.cli.context import Context
from wcs.commons.config import Config

SECRET = "s3cr3t-VALUE-never-shown"


def write_cfg(path, **values):
    lines = ["[default]"] + ["%s = %s" % kv for kv in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)  # a config others can read gets a warning line of its own
    return str(path)


def dumped(run):
    assert run.status == 0, run.err
    cfg = Config()
    for line in run.out.splitlines()[1:]:
        if line.startswith("#"):  # where the value came from
            continue
        key, _, value = line.partition(" = ")
        setattr(cfg, key, value.strip('"'))
    return cfg


def test_dump_config_precedence_file_env_flag(wcscmd, tmp_path, monkeypatch):
    path = write_cfg(tmp_path / "c", access_key="file-ak", secret_key=SECRET, put_url="http://file-put",
                     mgr_url="http://file-mgr", limit="10")
    cfg = dumped(wcscmd("-c", path, "--dump-config"))
    assert (cfg.access_key, cfg.put_url, cfg.mgr_url) == ("file-ak", "http://file-put", "http://file-mgr")
    assert cfg.limit == 10
    assert cfg.secret_key == SECRET  # --dump-config is the one place the secret is shown

    monkeypatch.setenv("WCS_ACCESS_KEY", "env-ak")
    monkeypatch.setenv("WCS_PUT_URL", "http://env-put")
    monkeypatch.setenv("WCS_MGR_URL", "http://env-mgr")
    cfg = dumped(wcscmd("-c", path, "--dump-config"))
    assert (cfg.access_key, cfg.put_url, cfg.mgr_url) == ("env-ak", "http://env-put", "http://env-mgr")

    cfg = dumped(wcscmd("-c", path, "--dump-config", "--put-url", "http://flag-put", "--limit", "4", "-s",
                        "--overwrite", "1", "--upload-id", "u1", "--notify", "http://n", "--block-size", "8M"))
    # -s makes every host https, also those written http:// (issue 11, item 5).
    assert (cfg.put_url, cfg.mgr_url, cfg.limit, cfg.ishttps) == ("https://flag-put", "https://env-mgr", 4, True)
    assert (cfg.overwrite, cfg.upload_id, cfg.notifyurl, cfg.block_size) == (1, "u1", "http://n", 8 * 1024 * 1024)


def test_dump_config_default_file_is_optional(wcscmd, monkeypatch):
    monkeypatch.setenv("WCS_ACCESS_KEY", "env-ak")
    cfg = dumped(wcscmd("--dump-config"))
    assert cfg.access_key == "env-ak" and cfg.limit == 1000


def test_dump_config_reads_default_file(wcscmd):
    write_cfg(__import__("pathlib").Path(os.path.expanduser("~/.wcscfg")), access_key="home-ak")
    assert dumped(wcscmd("--dump-config")).access_key == "home-ak"


def test_missing_config_file_hints_configure(wcscmd, tmp_path):
    line = assert_one_error_line(wcscmd("-c", str(tmp_path / "nope"), "stat", "wcs://b/k"), 3)
    assert "--configure" in line and "nope" in line


def test_no_config_and_no_environment_hints_configure(wcscmd):
    line = assert_one_error_line(wcscmd("stat", "wcs://b/k"), 3)
    assert "access_key" in line and "WCS_ACCESS_KEY" in line and "--configure" in line


@pytest.mark.parametrize("content, needle", [
    ("[default]\nthis is not a line\n", ":2"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
])
def test_broken_config_file(wcscmd, tmp_path, content, needle):
    path = tmp_path / "broken"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    line = assert_one_error_line(wcscmd("-c", str(path), "stat", "wcs://b/k"), 3)
    assert needle in line and "--configure" in line


@pytest.mark.parametrize("content, needle, command", [
    ("ishttps = perhaps\n", "ishttps", ["stat", "wcs://b/k"]),
    ("block_size = 1000\n", "block_size", ["multiput", "wcs://b/k", "{file}"]),
    ("limit = lots\n", "limit", ["list", "wcs://b", "out.json"]),
])
def test_bad_config_value_fails_the_commands_that_use_it(wcscmd, tmp_path, content, needle, command):
    # Issue 13: the file loads as with the official SDK; the bad value is one warning naming file, line
    # and key, and the error (exit 3) of a command that uses the key. Other commands run.
    path = write_cfg(tmp_path / "c", access_key="ak", secret_key=SECRET, put_url="http://127.0.0.1:9",
                     mgr_url="http://127.0.0.1:9", connection_retries=0)
    with open(path, "a", encoding="utf-8") as fp:
        fp.write(content)
    argv = [word.format(file=path) for word in command]
    run = wcscmd("-c", path, *argv)
    assert run.status == 3, run.err
    warning, error = run.err_lines
    assert warning.startswith("wcscmd: warning: %s:7, key %r" % (path, needle))
    assert error.startswith("wcscmd: error: ") and needle in error and "--configure" in error
    run = wcscmd("-c", path, "--dump-config")  # reads the file, uses no setting: only the warning
    assert run.status == 0 and run.err_lines == [warning]


def test_missing_keys_in_config(wcscmd, tmp_path):
    path = write_cfg(tmp_path / "c", access_key="ak", secret_key=SECRET)
    line = assert_one_error_line(wcscmd("-c", path, "stat", "wcs://b/k"), 3)
    assert "mgr_url" in line and SECRET not in line
    line = assert_one_error_line(wcscmd("-c", path, "put", "wcs://b/k", path), 3)
    assert "put_url" in line


@pytest.mark.parametrize("argv, needle", [
    (["--limit", "0"], "--limit"),
    (["--limit", "1001"], "--limit"),
    (["--mode", "7"], "--mode"),
    (["--deadline", "tomorrow"], "--deadline"),
    (["--deadline", "-5"], "--deadline"),
    (["--block-size", "5M"], "--block-size"),
    (["--concurrency", "-1"], "--concurrency"),
    (["--traffic_limit", "x"], "--traffic_limit"),
])
def test_bad_option_values_exit_2(wcscmd, tmp_path, argv, needle):
    path = write_cfg(tmp_path / "c", access_key="ak", secret_key=SECRET, mgr_url="http://127.0.0.1:9")
    line = assert_one_error_line(wcscmd("-c", path, "stat", "wcs://b/k", *argv), 2)
    assert needle in line


def answers(**given):
    """One line per question (empty = keep), then 'y' to save."""
    return "".join("%s\n" % given.get(key, "") for key, _label, _help in QUESTIONS) + "y\n"


def test_configure_through_stdin_writes_private_file(wcscmd, tmp_path, monkeypatch):
    path = tmp_path / "new.wcscfg"
    monkeypatch.setattr("sys.stdin", io.StringIO(answers(
        access_key="my-ak", secret_key=SECRET, put_url="http://up.example", mgr_url="http://mgr.example",
        block_size="8388608", concurrency="8", ishttps="y", isverify="no", deadline="600")))
    run = wcscmd("-c", str(path), "--configure")
    assert run.status == 0, run.err
    assert run.out == ""  # prompts go to stderr
    assert SECRET not in run.err
    assert "Configuration saved" in run.err
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    cfg = Config(str(path))
    assert (cfg.access_key, cfg.secret_key, cfg.put_url, cfg.mgr_url) == (
        "my-ak", SECRET, "http://up.example", "http://mgr.example")
    assert (cfg.block_size, cfg.concurrency, cfg.ishttps, cfg.isverify, cfg.deadline) == (8388608, 8, True, False, 600)
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_configure_keeps_current_values_and_masks_secret(wcscmd, tmp_path, monkeypatch):
    path = write_cfg(tmp_path / "c", access_key="old-ak", secret_key=SECRET, limit="7")
    monkeypatch.setattr("sys.stdin", io.StringIO(answers(put_url="http://up")))
    run = wcscmd("-c", path, "--configure")
    assert run.status == 0
    assert "Access Key [old-ak]" in run.err and "Secret Key [********]" in run.err and SECRET not in run.err
    cfg = Config(path)
    assert (cfg.access_key, cfg.secret_key, cfg.put_url, cfg.limit) == ("old-ak", SECRET, "http://up", 7)


def test_configure_default_path(wcscmd, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(answers(access_key="ak")))
    assert wcscmd("--configure").status == 0
    assert Config(os.path.expanduser("~/.wcscfg")).access_key == "ak"


def test_configure_aborted_saves_nothing(wcscmd, tmp_path, monkeypatch):
    path = tmp_path / "c"
    monkeypatch.setattr("sys.stdin", io.StringIO("ak\nsk\n"))  # stdin ends early
    run = wcscmd("-c", str(path), "--configure")
    assert run.status == 1 and "NOT saved" in run.err and not path.exists()
    monkeypatch.setattr("sys.stdin", io.StringIO(answers(access_key="ak")[:-2] + "n\nn\n"))  # declines
    run = wcscmd("-c", str(path), "--configure")
    assert run.status == 1 and not path.exists()


def test_configure_bad_scripted_answer_fails(wcscmd, tmp_path, monkeypatch):
    path = tmp_path / "c"
    monkeypatch.setattr("sys.stdin", io.StringIO(answers(block_size="1234")))
    run = wcscmd("-c", str(path), "--configure")
    assert run.status == 2 and "Block_Size" in run.err_lines[-1] and not path.exists()


def test_configure_repairs_broken_file(wcscmd, tmp_path, monkeypatch):
    path = tmp_path / "c"
    path.write_text("garbage line\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(answers(access_key="fixed")))
    run = wcscmd("-c", str(path), "--configure")
    assert run.status == 0 and "ignoring the existing configuration" in run.err
    assert Config(str(path)).access_key == "fixed"


def test_secrets_are_masked_in_messages():
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(prog="wcscmd", config_path=None, overrides=(), quiet=False, stdout=out, stderr=err,
                  stdin=io.StringIO(), environ={"WCS_SECRET_KEY": SECRET})
    ctx.line("boom %s boom" % SECRET, "error")
    ctx.emit({"x": SECRET})
    assert SECRET not in err.getvalue() + out.getvalue()
    assert "***" in err.getvalue()


def test_configure_enter_at_save_saves(wcscmd, tmp_path, monkeypatch):
    path = tmp_path / "enter.wcscfg"
    monkeypatch.setattr("sys.stdin", io.StringIO(answers(access_key="ak-enter")[:-2] + "\n"))  # Enter, not 'y'
    run = wcscmd("-c", str(path), "--configure")
    assert run.status == 0, run.err
    assert "Save settings? [Y/n]" in run.err and "Configuration saved" in run.err
    assert Config(str(path)).access_key == "ak-enter"
    assert "Test access" in run.err and "Success" not in run.err  # stdin ended: the test is skipped


def _emulator_answers(emulator, secret_key, test_answer):
    return answers(access_key=emulator.access_key, secret_key=secret_key, put_url=emulator.url,
                   mgr_url=emulator.url, connection_retries="0") + test_answer


def test_configure_offers_to_test_the_credentials(wcscmd, tmp_path, monkeypatch, emulator, bucket):
    path = tmp_path / "tested.wcscfg"
    monkeypatch.setattr("sys.stdin", io.StringIO(_emulator_answers(emulator, emulator.secret_key, "\n")))
    run = wcscmd("-c", str(path), "--configure")
    assert run.status == 0, run.err
    assert "Test access with these settings (one listbucket call)? [Y/n]" in run.err
    assert "Success: the keys work (" in run.err
    assert run.out == "" and emulator.secret_key not in run.err


def test_configure_test_with_a_wrong_secret_fails_but_keeps_the_file(wcscmd, tmp_path, monkeypatch, emulator):
    path = tmp_path / "wrong.wcscfg"
    monkeypatch.setattr("sys.stdin", io.StringIO(_emulator_answers(emulator, "not-the-secret", "y\n")))
    run = wcscmd("-c", str(path), "--configure")
    assert run.status == 5, run.err
    assert "Test failed: HTTP 401" in run.err and "The settings were saved" in run.err
    assert Config(str(path)).secret_key == "not-the-secret"
    monkeypatch.setattr("sys.stdin", io.StringIO(_emulator_answers(emulator, "not-the-secret", "n\n")))
    assert wcscmd("-c", str(path), "--configure").status == 0  # declined: no call made
