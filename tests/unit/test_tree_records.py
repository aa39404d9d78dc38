"""Upload ids derived from the file: stable while it is unchanged, stale records of changed files removed."""

import os

from wcs.services.resume import RecordStore, ResumeRecord, check_upload_id
from wcs.services.tree.localtree import LocalFile
from wcs.services.tree.records import derived_upload_id, discard_stale_records


def f(size=10, mtime=1, ino=7, path="/data/f"):
    return LocalFile("f", path, size, mtime, 0, 1, ino)


def test_derived_ids_are_valid_and_stable():
    upload_id = derived_upload_id("b", "k", f())
    assert check_upload_id(upload_id) == upload_id and len(upload_id) == 32 and upload_id.isalnum()
    assert derived_upload_id("b", "k", f()) == upload_id
    assert derived_upload_id("b", "k2", f()) != upload_id
    assert derived_upload_id("b2", "k", f()) != upload_id
    changed = derived_upload_id("b", "k", f(mtime=2))
    assert changed != upload_id and changed[:16] == upload_id[:16]
    assert derived_upload_id("b", "k", f(size=11))[16:] != upload_id[16:]
    assert derived_upload_id("b", "k", f(ino=8))[16:] != upload_id[16:]


def test_stale_records_of_the_same_destination_are_discarded(tmp_path):
    folder = str(tmp_path)
    old = derived_upload_id("b", "k", f(mtime=1))
    new = derived_upload_id("b", "k", f(mtime=2))
    other = derived_upload_id("b", "other", f(mtime=1))
    for upload_id in (old, new, other, "user-chosen-id"):
        RecordStore(folder, upload_id).save(ResumeRecord(upload_id, "/data/f", 10, 1, 4 << 20, 4 << 20, "b", "k"))
    assert discard_stale_records(folder, new) == 1
    assert sorted(os.listdir(folder)) == sorted([new, other, "user-chosen-id"])
    assert discard_stale_records(str(tmp_path / "missing"), new) == 0
