"""Profiles and the environment (issue 22, item 8): ``--profile NAME`` / ``WCS_PROFILE`` read ``[NAME]`` of the same
file, ``WCS_CONFIG_FILE`` names the file, ``--configure --profile`` writes one section and keeps the rest, and
``--dump-config`` says where each value came from."""

import io
import os

import pytest

from tests.cli.conftest import assert_one_error_line
from wcs.cli.configure import QUESTIONS
from wcs.commons.config import Config

FILE = """\
# keys of two accounts
[default]
access_key = home-ak
secret_key = home-secret
put_url = http://home-put
mgr_url = http://home-mgr

# the work account: its own hosts
[work]
access_key = work-ak
secret_key = work-secret
put_url = http://work-put
mgr_url = http://work-mgr
block_size = 8388608
"""


def write(path, text=FILE):
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def values(run):
    assert run.status == 0, run.err
    found = {}
    for line in run.out.splitlines()[1:]:
        if not line.startswith("#"):
            key, _, value = line.partition(" = ")
            found[key] = value
    return found


def test_profile_reads_its_section_and_nothing_else(wcscmd, tmp_path):
    path = write(tmp_path / "c")
    home = values(wcscmd("-c", path, "--dump-config"))
    assert (home["access_key"], home["put_url"], home["block_size"]) == ("home-ak", "http://home-put", "4194304")
    work = values(wcscmd("-c", path, "--profile", "work", "--dump-config"))
    assert (work["access_key"], work["mgr_url"], work["block_size"]) == ("work-ak", "http://work-mgr", "8388608")
    run = wcscmd("-c", path, "--dump-config")
    assert run.err == ""  # the [work] section is a profile, not a mistake to warn about


def test_environment_names_the_profile_and_the_file(wcscmd, tmp_path, monkeypatch):
    path = write(tmp_path / "elsewhere.cfg")
    monkeypatch.setenv("WCS_CONFIG_FILE", path)
    assert values(wcscmd("--dump-config"))["access_key"] == "home-ak"
    monkeypatch.setenv("WCS_PROFILE", "work")
    assert values(wcscmd("--dump-config"))["access_key"] == "work-ak"
    assert values(wcscmd("--profile", "default", "--dump-config"))["access_key"] == "home-ak"  # the flag wins
    other = write(tmp_path / "other.cfg", "[work]\naccess_key = other-ak\n")
    assert values(wcscmd("-c", other, "--dump-config"))["access_key"] == "other-ak"  # -c wins over the variable


def test_dump_config_says_where_each_value_came_from(wcscmd, tmp_path, monkeypatch):
    path = write(tmp_path / "c")
    monkeypatch.setenv("WCS_MGR_URL", "http://env-mgr")
    run = wcscmd("-c", path, "--profile", "work", "--dump-config", "--put-url", "http://flag-put")
    assert run.status == 0, run.err
    out = run.out
    assert out.startswith("[work]\n")
    assert "# from profile work (%s)\naccess_key = work-ak\n" % path in out
    assert "# from environment WCS_MGR_URL\nmgr_url = http://env-mgr\n" in out
    assert "# from flag --put-url\nput_url = http://flag-put\n" in out
    assert "\nlimit = 1000\n" in out and "# from default" not in out  # defaults say nothing
    assert Config(str(_saved(tmp_path, out))).access_key == "work-ak"  # it reads back


def _saved(tmp_path, text):
    path = tmp_path / "dumped"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_a_missing_profile_is_a_config_error_that_says_how_to_create_it(wcscmd, tmp_path):
    path = write(tmp_path / "c")
    line = assert_one_error_line(wcscmd("-c", path, "--profile", "play", "stat", "wcs://b/k"), 3)
    assert "no [play] section" in line and "[default], [work]" in line and "--profile play --configure" in line


def answers(**given):
    return "".join("%s\n" % given.get(key, "") for key, _label, _help in QUESTIONS) + "y\n"


def test_configure_profile_writes_that_section_and_keeps_the_rest(wcscmd, tmp_path, monkeypatch):
    path = write(tmp_path / "c")
    monkeypatch.setattr("sys.stdin", io.StringIO(answers(access_key="new-work-ak", concurrency="8")))
    run = wcscmd("-c", path, "--profile", "work", "--configure")
    assert run.status == 0, run.err
    assert "Access Key [work-ak]" in run.err  # the profile's current values are offered
    text = open(path, encoding="utf-8").read()
    assert text.startswith("# keys of two accounts\n[default]\naccess_key = home-ak\n")
    assert "# the work account: its own hosts\n[work]\naccess_key = new-work-ak\n" in text
    assert Config(path, profile="work").concurrency == 8 and Config(path, profile="work").block_size == 8388608
    assert Config(path).access_key == "home-ak" and Config(path).concurrency == 4
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_configure_a_new_profile_adds_a_section(wcscmd, tmp_path, monkeypatch):
    path = write(tmp_path / "c")
    monkeypatch.setattr("sys.stdin", io.StringIO(answers(access_key="play-ak", secret_key="play-secret",
                                                         put_url="http://play")))
    run = wcscmd("-c", path, "--profile", "play", "--configure")
    assert run.status == 0, run.err
    text = open(path, encoding="utf-8").read()
    assert text.startswith(FILE)
    assert text.endswith("\n[play]\naccess_key = play-ak\nsecret_key = play-secret\nput_url = http://play\n")
    assert Config(path, profile="play").access_key == "play-ak" and Config(path).access_key == "home-ak"


@pytest.mark.slow
def test_commands_use_the_profile(wcscmd, emulator, bucket, tmp_path):
    path = write(tmp_path / "c", "[default]\naccess_key = wrong\nsecret_key = wrong\nput_url = http://127.0.0.1:9\n"
                                 "mgr_url = http://127.0.0.1:9\n\n[emu]\n" + emulator.config_text().split("\n", 1)[1])
    assert wcscmd("-c", path, "listbucket").status == 6  # [default]: nothing listens there
    run = wcscmd("-c", path, "--profile", "emu", "listbucket")
    assert run.status == 0 and run.json["code"] == 200, run.err
