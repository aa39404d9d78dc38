"""Resume records are data another user or a broken disk may have written: kept per user, checked
against the file itself, and refused when they are not a small regular JSON file of the right shape."""

import hashlib
import json
import os
import stat

import pytest
import requests

from wcs.commons.auth import Auth
from wcs.commons.errors import ResumeError
from wcs.commons.util import etag
from wcs.services.ranged import CheckpointStore
from wcs.services.recordfolder import record_folder
from wcs.services.resume import BlockRecord, RecordStore, ResumeRecord

MiB = 1024 * 1024


def _forged_record(config, emulator, bucket, key, path, upload_id, other):
    """A record for ``path`` whose block 0 is a real, complete block of the service holding ``other``'s
    bytes, with ``other``'s SHA-1: consistent, so only the file itself can tell."""
    token = Auth(emulator.access_key, emulator.secret_key).uploadtoken(
        {"scope": "%s:%s" % (bucket, key), "deadline": "4102444800000"})
    resp = requests.post("%s/mkblk/%d/0" % (emulator.url, len(other)), data=other, timeout=30,
                         headers={"Authorization": token, "UploadBatch": upload_id})
    assert resp.status_code == 200, resp.text
    st = os.stat(path)
    record = ResumeRecord(upload_id, os.path.abspath(path), st.st_size, st.st_mtime_ns, 4 * MiB, 4 * MiB,
                          bucket, key)
    record.blocks[0] = BlockRecord(0, 0, len(other), resp.json()["ctx"], [hashlib.sha1(other).hexdigest()])
    RecordStore(config.tmp_record_folder, upload_id).save(record)


def test_a_consistently_forged_record_never_gives_a_wrong_object(client, config, emulator, bucket, tmp_path):
    data = os.urandom(4 * MiB) + os.urandom(MiB)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    _forged_record(config, emulator, bucket, "k", str(path), "forged1", os.urandom(4 * MiB))
    res = client.multipart_upload(str(path), bucket, "k", upload_id="forged1")
    assert res.code == 200, res
    assert res.body["hash"] == etag(str(path))
    assert requests.get("%s/%s/k" % (emulator.url, bucket), timeout=30).content == data


def test_records_in_a_folder_others_can_write_go_to_a_private_subfolder(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    planted = shared / "U1" / "record.json"  # another user's idea of our record
    planted.parent.mkdir()
    planted.write_text("{}")
    store = RecordStore(str(shared), "U1")
    assert store.load() is None
    store.save(ResumeRecord("U1", "/f", 0, 0, 4 * MiB, 4 * MiB, "b", "k"))
    own = shared / str(os.getuid())
    assert store.path == str(own / "U1" / "record.json")
    assert stat.S_IMODE(os.lstat(own).st_mode) == 0o700
    assert record_folder(str(shared)) == str(own)
    # a private folder of our own is used as it is
    private = tmp_path / "mine"
    assert record_folder(str(private)) == str(private)
    # the official default, /tmp/multipart/, lies in a shared place: a subfolder per user
    assert record_folder("/tmp/multipart/") in ("/tmp/multipart/%d" % os.getuid(), "/tmp/multipart")


@pytest.mark.skipif(os.getuid() != 0, reason="making a folder of another owner needs root")
def test_a_per_user_subfolder_of_another_owner_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    own = shared / str(os.getuid())
    own.mkdir()
    (own / "U1").mkdir()
    (own / "U1" / "record.json").write_text("{}")
    os.chown(own, 12345, 12345)  # someone else made "our" subfolder first
    store = RecordStore(str(shared), "U1")
    with pytest.raises(ResumeError, match="not this user's|not a private"):
        store.load()
    with pytest.raises(ResumeError):
        store.save(ResumeRecord("U1", "/f", 0, 0, 4 * MiB, 4 * MiB, "b", "k"))


def _store_with(tmp_path, make):
    store = RecordStore(str(tmp_path / "records"), "U1")
    os.makedirs(store.directory)
    make(store.path)
    return store


@pytest.mark.timeout(20)
@pytest.mark.parametrize("make", [
    lambda p: os.mkfifo(p),
    lambda p: os.symlink("/dev/zero", p),
    lambda p: os.truncate(open(p, "wb").name, 65 * MiB),
    lambda p: open(p, "w").write("[" * 100000 + "]" * 100000),
    lambda p: open(p, "w").write("{" + '"a":' * 50000 + "1" + "}" * 50000),
], ids=["fifo", "dev-zero", "oversized", "deep-list", "deep-object"])
def test_the_record_loader_refuses_what_is_not_a_small_json_file(tmp_path, make):
    store = _store_with(tmp_path, make)
    with pytest.raises(ResumeError):
        store.load()


def test_a_character_device_record_is_refused(tmp_path):
    store = RecordStore(str(tmp_path / "records"), "U1")
    os.makedirs(store.directory)
    try:
        os.mknod(store.path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero's numbers
    except (PermissionError, OSError) as exc:
        pytest.skip("cannot make a device node here: %s" % exc)
    with pytest.raises(ResumeError, match="not a regular file"):
        store.load()


def test_a_non_ascii_ctx_is_a_resume_error(tmp_path):
    def make(path):
        record = ResumeRecord("U1", "/f", 8 * MiB, 0, 4 * MiB, 4 * MiB, "b", "k")
        record.blocks[0] = BlockRecord(0, 0, 4 * MiB, "ctx", ["a" * 40])
        data = record.to_json()
        data["blocks"][0]["ctx"] = "c\u00e9tx"
        with open(path, "w", encoding="utf-8") as fp:
            json.dump(data, fp)

    with pytest.raises(ResumeError, match="ASCII"):
        _store_with(tmp_path, make).load()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("make", [lambda p: os.mkfifo(p), lambda p: os.symlink("/dev/zero", p),
                                  lambda p: open(p, "w").write("[" * 100000)], ids=["fifo", "dev-zero", "deep"])
def test_the_download_checkpoint_loader_ignores_what_it_cannot_trust(tmp_path, make):
    store = CheckpointStore(str(tmp_path / "checkpoint.json"))
    make(store.path)
    assert store.load() is None
