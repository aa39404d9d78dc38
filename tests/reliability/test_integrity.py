"""Issue 7, point 3 — integrity: what is stored is checked against what was read, once.

* No second pass: while an upload runs, the test counts every byte read from the local file through
  the file objects the SDK opens (simple and multipart, 4 workers): exactly the file's size, and the
  whole-file hashing helpers are never called. The etag is computed from the bytes as they are sent.
* The service's answer is checked: the emulator's ``corrupt`` fault inverts a byte on the wire, so
  the object (or chunk) really holds other bytes and the service's ``hash`` / ``crc32`` describe
  them. A form upload then raises ``IntegrityError`` (CLI exit 7) instead of succeeding; a chunk
  whose ``crc32`` disagrees restarts its block, and a disagreement that persists through every
  restart is an ``IntegrityError`` with no ``mkfile`` sent; occasional corruption is healed.
* Downloads are verified against ``stat``'s hash: ``wcscmd get wcs://...`` of a download corrupted
  on the wire fails with exit 7, naming the expected hash, and leaves no file.

A server that lies about the hash without corrupting anything (wrong ``hash``/``crc32`` in an
answer, wrong ``ETag``) is covered by tests/functional/test_integrity.py and tests/cli/test_commands.py
(``test_get_hash_mismatch_is_integrity_error``).
"""

import json
import os

import pytest

import wcs.commons.util
from tests.helpers.files import MiB, write_file
from wcs.cli.status import ExitStatus
from wcs.commons.errors import IntegrityError
from wcs.commons.util import etag
from wcs.services import blockapi, multipart, upload
from wcs.services.resume import RecordStore

from .conftest import tree


class CountingFile:
    """A real file whose reads are counted (a proxy: everything else goes to the file)."""

    def __init__(self, fp, counts):
        self._fp = fp
        self._counts = counts

    def read(self, *args):
        data = self._fp.read(*args)
        self._counts["bytes"] += len(data)
        return data

    def readinto(self, buffer):
        count = self._fp.readinto(buffer)
        self._counts["bytes"] += count or 0
        return count

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fp.close()

    def __getattr__(self, name):
        return getattr(self._fp, name)


@pytest.fixture
def read_counter(monkeypatch):
    """Counts the bytes the upload modules read from ``counts["path"]``; the whole-file etag helpers
    are made to fail, so they cannot be used for a second, hashing pass."""
    counts = {"bytes": 0, "opens": 0, "path": None}

    def counting(real_open):
        def counting_open(path, *args, **kwargs):
            fp = real_open(path, *args, **kwargs)
            if os.path.abspath(os.fspath(path)) == counts["path"]:
                counts["opens"] += 1
                return CountingFile(fp, counts)
            return fp
        return counting_open

    counting_open = counting(open)
    for module in (upload, blockapi):  # sources are opened as regular files only (never a FIFO)
        monkeypatch.setattr(module, "open_regular", counting(module.open_regular))

    def no_second_pass(*args, **kwargs):
        raise AssertionError("the file was hashed in a second pass")

    for module in (upload, multipart, blockapi):
        monkeypatch.setattr(module, "open", counting_open, raising=False)
    for name in ("etag", "etag_stream"):
        monkeypatch.setattr(wcs.commons.util, name, no_second_pass)
        for module in (upload, multipart, blockapi):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, no_second_pass)
    return counts


def test_simple_upload_reads_the_file_once(client, bucket, tmp_path, read_counter):
    path = write_file(tmp_path / "one-pass.bin", 9 * MiB + 17)
    read_counter["path"] = os.path.abspath(path)
    res = client.simple_upload(path, bucket, "one-pass")
    assert res.code == 200
    assert read_counter["opens"] >= 1 and read_counter["bytes"] == 9 * MiB + 17
    assert res.data["hash"] == etag_of(path)


@pytest.mark.parametrize("concurrency", [0, 4])
def test_multipart_upload_reads_the_file_once(client, config, bucket, tmp_path, read_counter, concurrency):
    config.update(concurrency=concurrency, bput_size=MiB)
    path = write_file(tmp_path / "one-pass.bin", 5 * 4 * MiB + 3)
    read_counter["path"] = os.path.abspath(path)
    res = client.multipart_upload(path, bucket, "one-pass-mp")
    assert res.code == 200
    assert read_counter["bytes"] == 5 * 4 * MiB + 3
    assert res.body["hash"] == etag_of(path)


def etag_of(path):
    """The etag computed here, independently of the patched helpers (one read of our own)."""
    hasher = wcs.commons.util.EtagHasher()
    with open(path, "rb") as fp:
        for chunk in iter(lambda: fp.read(MiB), b""):
            hasher.update(chunk)
    return hasher.etag()


# -- the service's hash and crc32 are checked ------------------------------------------------------

def test_corrupted_form_upload_is_an_integrity_error_not_a_success(emulator, client, bucket, tmp_path):
    path = write_file(tmp_path / "f.bin", 300 * 1024)
    emulator.set_faults("upload:corrupt:1")
    with pytest.raises(IntegrityError, match="hash") as info:
        client.simple_upload(path, bucket, "corrupted")
    assert info.value.result.code == 200  # the service itself said OK
    emulator.set_faults(None)
    assert client.stat(bucket, "corrupted").body["hash"] != etag(path)  # what it stored is not the file


def test_cli_put_of_a_corrupted_upload_exits_7(emulator, bucket, cfgfile, wcscmd, tmp_path):
    cfg = cfgfile()
    path = write_file(tmp_path / "f.bin", 1000)
    emulator.set_faults("upload:corrupt:1")
    run = wcscmd("-c", cfg, "put", "wcs://%s/cli-corrupted" % bucket, path)
    assert run.status == ExitStatus.INTEGRITY == 7
    assert len(run.err_lines) == 1 and run.err_lines[0].startswith("wcscmd: error: ") and "hash" in run.err
    # no success document: the README's one document for a failed call, saying it failed
    assert run.json["status"] == 7 and "hash" in run.json["error"]


def test_crc32_that_keeps_disagreeing_fails_the_upload_before_mkfile(emulator, client, config, bucket, tmp_path):
    config.update(concurrency=0, mkblk_retries=2)
    path = write_file(tmp_path / "f.bin", 4 * MiB + 10)
    emulator.set_faults("mkblk:corrupt:1")
    emulator.reset_counters()
    upload_id = client.new_upload_id()
    with pytest.raises(IntegrityError, match="crc32 mismatch"):
        client.multipart_upload(path, bucket, "crc", upload_id=upload_id)
    counters = emulator.counters
    assert counters["mkblk"] == 3 and counters.get("mkfile", 0) == 0  # 1 + mkblk_retries rounds, no mkfile
    assert RecordStore(config.tmp_record_folder, upload_id).exists()  # resumable once the path is healthy
    emulator.set_faults(None)
    res = client.multipart_upload(path, bucket, "crc", upload_id=upload_id)
    assert res.code == 200 and res.body["hash"] == etag(path)


def test_occasional_chunk_corruption_is_healed_by_resending_the_block(emulator, client, config, bucket, tmp_path):
    # One block at a time: the seeded draws then fall on the same requests in every run. A round of a
    # 2-chunk block fails with 1 - 0.9^2 = 0.19, all 11 rounds with 1.2e-8 (4 blocks: 5e-8).
    config.update(bput_size=2 * MiB, mkblk_retries=10, concurrency=0)
    path = write_file(tmp_path / "f.bin", 4 * 4 * MiB)
    emulator.set_faults("mkblk:corrupt:0.1,bput:corrupt:0.1", seed=3)  # a seed under which some happen
    emulator.reset_counters()
    res = client.multipart_upload(path, bucket, "healed")
    assert res.code == 200 and res.body["hash"] == etag(path)
    counters = emulator.counters
    assert counters["faults_injected"] > 0 and counters["mkblk"] > 4  # some blocks were sent again
    emulator.set_faults(None)
    assert client.stat(bucket, "healed").body["hash"] == etag(path)


def test_cli_multiput_whose_chunks_stay_corrupted_exits_7_and_can_resume(emulator, bucket, cfgfile, wcscmd,
                                                                         tmp_path):
    cfg = cfgfile(concurrency=0, mkblk_retries=1)
    path = write_file(tmp_path / "f.bin", 100)
    emulator.set_faults("mkblk:corrupt:1")
    run = wcscmd("-c", cfg, "multiput", "wcs://%s/mp-corrupt" % bucket, path)
    assert run.status == 7, run.err
    notes, errors = run.err_lines[0], [line for line in run.err_lines if "error:" in line]
    assert notes.startswith("wcscmd: upload id: ") and len(errors) == 1 and "crc32" in errors[0]
    assert "--upload-id" in run.err_lines[-1]  # how to resume


# -- downloads are verified against stat's hash ----------------------------------------------------

def test_cli_get_of_a_corrupted_download_exits_7_and_leaves_nothing(emulator, client, bucket, cfgfile, wcscmd,
                                                                    tmp_path):
    cfg = cfgfile(connection_retries=0)
    path = write_file(tmp_path / "f.bin", 2 * MiB)
    assert client.simple_upload(path, bucket, "dl").code == 200
    work = os.getcwd()
    before = tree(work)
    emulator.set_faults("download:corrupt:1")
    run = wcscmd("-c", cfg, "get", "wcs://%s/dl" % bucket, "copy.bin")
    assert run.status == ExitStatus.INTEGRITY, run.err
    assert len(run.err_lines) == 1 and "expected hash" in run.err_lines[0]
    assert tree(work) == before  # neither the file nor a temporary part
    emulator.set_faults(None)
    run = wcscmd("-c", cfg, "get", "wcs://%s/dl" % bucket, "copy.bin")
    assert run.status == 0 and json.loads(run.out)["body"]["hash"] == etag(path) == etag("copy.bin")
