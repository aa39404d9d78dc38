"""Two keys that differ only in case, downloaded into a case-insensitive folder (issue 21, item 17).

No case-insensitive file system can be mounted on the machines these tests run on (no vfat module,
no ext4 casefold support in the kernel), so the run's probe result is injected: the engine is told
the folder ignores case. Everything else is real: the emulator over HTTP, the files written. The
probe itself is checked on the real (case-sensitive) folder.
"""

import os

import pytest

from wcs.cli.status import ExitStatus
from wcs.services.tree import engine, planning

KEYS = {"Photo.JPG": b"the first", "other.txt": b"other", "photo.jpg": b"the second"}


@pytest.fixture
def stored(client, bucket, tmp_path):
    for key, data in KEYS.items():
        path = tmp_path / "src"
        path.write_bytes(data)
        assert client.simple_upload(str(path), bucket, "p/" + key).ok
    return bucket


@pytest.fixture
def case_insensitive(monkeypatch):
    probed = []

    def probe(folder, probe=True):
        probed.append(folder)
        return True

    monkeypatch.setattr(planning, "is_case_insensitive", probe)
    return probed


def test_get_r_refuses_the_second_of_two_keys_differing_only_in_case(client, stored, tmp_path, case_insensitive):
    dst = tmp_path / "dst"
    errors = []

    class Errors(engine.TreeObserver):
        def on_error(self, where, message):
            errors.append((where, message))

    summary = client.download_tree(stored, "p", str(dst), hash_cache=None, observer=Errors())
    assert summary.transferred_files == 2 and summary.failed == 1
    assert sorted(os.listdir(str(dst))) == ["Photo.JPG", "other.txt"]
    assert (dst / "Photo.JPG").read_bytes() == b"the first"
    assert [where for where, _ in errors] == ["photo.jpg"]
    assert "differs only in case from 'Photo.JPG'" in errors[0][1]
    assert case_insensitive == [str(dst)]  # probed once


def test_the_cli_reports_it_and_exits_10(wcscmd_run, stored, tmp_path, case_insensitive):
    run = wcscmd_run("get", "-r", "wcs://%s/p/" % stored, str(tmp_path / "dst"))
    assert run.status == ExitStatus.PARTIAL, run.err
    assert run.json["failed"] == 1 and run.json["transferred"]["files"] == 2
    assert any("photo.jpg" in line and "differs only in case" in line for line in run.err_lines), run.err


def test_a_case_sensitive_folder_takes_both(client, stored, tmp_path):
    dst = tmp_path / "dst"
    summary = client.download_tree(stored, "p", str(dst), hash_cache=None)
    assert summary.ok and summary.transferred_files == 3


def test_the_probe_on_a_case_sensitive_folder(tmp_path):
    from wcs.services.tree.casefold import is_case_insensitive

    assert is_case_insensitive(str(tmp_path)) is False  # empty: a staging folder is made, then removed
    assert os.listdir(str(tmp_path)) == []
    (tmp_path / "Name").write_bytes(b"")
    assert is_case_insensitive(str(tmp_path), probe=False) is False
    assert os.listdir(str(tmp_path)) == ["Name"]


def test_claims_keep_the_first_key_of_each_folded_path():
    from wcs.services.tree.casefold import CaseClaims, fold

    claims = CaseClaims()
    try:
        assert claims.claim("Dir/Photo.JPG") is None
        assert claims.claim("Dir/Photo.JPG") is None  # the same key again is no collision
        assert claims.claim("dir/photo.jpg") == "Dir/Photo.JPG"
        assert claims.claim("straße") is None and claims.claim("STRASSE") is None  # no 1-to-2 folding
        assert claims.claim("ÉTÉ") is None and claims.claim("été") == "ÉTÉ"
    finally:
        claims.close()
    assert fold("AbC/ΣΑ") == "abc/σα"


@pytest.fixture
def wcscmd_run(capsys, emulator, tmp_path, monkeypatch):
    from tests.helpers.cli_runner import isolate_environment, run_wcscmd

    isolate_environment(monkeypatch, tmp_path / "home")
    cfg = str(tmp_path / "emulator.wcscfg")
    emulator.write_config(cfg)
    return lambda *argv: run_wcscmd(capsys, "-c", cfg, *argv)
