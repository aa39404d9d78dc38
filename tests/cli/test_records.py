"""``wcscmd records``: the resume records failed multiputs leave behind, listed and removed."""

import json
import os
import time

import pytest

from tests.cli.conftest import assert_one_error_line


@pytest.fixture
def c(wcscmd, cfgfile):
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


@pytest.fixture
def records(c, bucket, tmp_path, monkeypatch):
    """Two interrupted multiputs (1 of 2 blocks stored each), a corrupt record and a stray file."""
    from wcs.services import blocksteps

    original = blocksteps.BlockSteps.send_block

    def stop_at_the_second_block(self, file_path, block, *args):
        if block.index > 0:
            raise KeyboardInterrupt
        return original(self, file_path, block, *args)

    ids = []
    for name in ("one.bin", "two.bin"):
        path = tmp_path / name
        path.write_bytes(os.urandom(5 * 1024 * 1024))
        monkeypatch.setattr(blocksteps.BlockSteps, "send_block", stop_at_the_second_block)
        run = c("multiput", "wcs://%s/%s" % (bucket, name), str(path), "--concurrency", "0")
        monkeypatch.setattr(blocksteps.BlockSteps, "send_block", original)
        assert run.status == 130, run.err
        ids.append(run.err_lines[0].split()[-1])
    folder = tmp_path / "records"
    (folder / "brokenRecord").mkdir()
    (folder / "brokenRecord" / "record.json").write_text("{not json")
    (folder / "not-a-record.txt").write_text("left alone")
    return folder, ids


def test_records_lists_every_record_and_what_it_holds(c, records, bucket):
    folder, (first, second) = records
    run = c("records")
    assert run.status == 0, run.err
    doc = run.json
    assert doc["folder"] == str(folder) and doc["count"] == 3
    by_id = {r["upload_id"]: r for r in doc["records"]}
    assert set(by_id) == {first, second, "brokenRecord"}
    assert by_id[first]["key"] == "one.bin" and by_id[first]["bucket"] == bucket
    assert (by_id[first]["blocks_done"], by_id[first]["blocks_total"]) == (1, 2)
    assert by_id[first]["file"].endswith("one.bin") and by_id[first]["updated"].endswith("Z")
    assert "not valid JSON" in by_id["brokenRecord"]["error"]
    assert c("records", "list", second).json["records"][0]["upload_id"] == second


def test_records_clean_by_age_by_id_and_all(c, records):
    folder, (first, second) = records
    assert c("records", "clean", "--older-than", "1").json["removed"] == []
    old = time.time() - 10 * 86400
    os.utime(str(folder / first / "record.json"), (old, old))
    doc = c("records", "clean", "--older-than", "7").json
    assert doc["removed"] == [first] and not (folder / first).exists()
    run = c("records", "clean", second, "nosuchupload")
    assert run.status == 0 and run.json["removed"] == [second] and run.json["not_found"] == ["nosuchupload"]
    assert run.err_lines == ["wcscmd: note: no record for upload id nosuchupload in %s" % folder]
    doc = c("records", "clean").json
    assert doc["removed"] == ["brokenRecord"]
    assert os.listdir(str(folder)) == ["not-a-record.txt"]
    assert c("records").json["count"] == 0


def test_records_refuses_bad_input(c, records):
    assert_one_error_line(c("records", "clean", "../etc"), 2)
    assert_one_error_line(c("records", "purge"), 2)
    assert_one_error_line(c("records", "clean", "--older-than", "-1"), 2)


def test_client_lists_and_removes_resume_records(client, tmp_path):
    from wcs.services.resume import RecordStore, ResumeRecord

    assert client.list_resume_records() == []  # no folder yet
    store = RecordStore(client.cfg.tmp_record_folder, "abc")
    store.save(ResumeRecord("abc", str(tmp_path / "f"), 9 * 1024 * 1024, 1, 4 * 1024 * 1024, 4 * 1024 * 1024,
                            "b", "k"))
    (summary,) = client.list_resume_records()
    assert (summary.upload_id, summary.blocks_done, summary.blocks_total, summary.error) == ("abc", 0, 3, None)
    assert json.loads(json.dumps(summary.to_json()))["key"] == "k"
    assert client.remove_resume_record("abc") is True and client.remove_resume_record("abc") is False
    assert client.list_resume_records() == []
