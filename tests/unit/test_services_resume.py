"""Resume records: round trip, atomic writes, and every way a record is refused."""

import json
import os

import pytest

from wcs.commons.errors import InvalidArgument, ResumeError
from wcs.services.resume import FORMAT_VERSION, BlockRecord, RecordStore, ResumeRecord, check_upload_id

MiB = 1024 * 1024
SHA = "a" * 40


def _record(path="/data/f.bin", **changes):
    values = dict(upload_id="U1", path=path, size=10 * MiB, mtime_ns=123, block_size=4 * MiB,
                  bput_size=MiB, bucket="b", key="k")
    values.update(changes)
    rec = ResumeRecord(**values)
    rec.blocks[1] = BlockRecord(1, 4 * MiB, 4 * MiB, "ctx-1", [SHA])
    return rec


def test_round_trip(tmp_path):
    store = RecordStore(str(tmp_path), "U1")
    assert store.load() is None and not store.exists()
    rec = _record()
    store.save(rec)
    assert store.exists()
    assert store.path == os.path.join(str(tmp_path), "U1", "record.json")
    loaded = store.load()
    assert loaded == rec
    data = json.loads(open(store.path, encoding="utf-8").read())
    assert data["format"] == FORMAT_VERSION
    assert data["blocks"] == [{"index": 1, "offset": 4 * MiB, "size": 4 * MiB, "ctx": "ctx-1", "sha1": [SHA]}]


def test_save_leaves_no_temp_files_and_replaces(tmp_path):
    store = RecordStore(str(tmp_path), "U1")
    rec = _record()
    store.save(rec)
    rec.blocks[0] = BlockRecord(0, 0, 4 * MiB, "ctx-0", [SHA])
    store.save(rec)
    assert os.listdir(store.directory) == ["record.json"]
    assert sorted(store.load().blocks) == [0, 1]


def test_remove(tmp_path):
    store = RecordStore(str(tmp_path), "U1")
    store.save(_record())
    store.remove()
    assert not os.path.exists(store.directory)
    store.remove()  # idempotent


@pytest.mark.parametrize("bad", ["", "../evil", "a/b", "a b", "x" * 129, None, 5])
def test_upload_id_must_be_safe(bad, tmp_path):
    with pytest.raises(InvalidArgument):
        check_upload_id(bad)
    with pytest.raises(InvalidArgument):
        RecordStore(str(tmp_path), bad)


def _write(tmp_path, text):
    store = RecordStore(str(tmp_path), "U1")
    os.makedirs(store.directory, exist_ok=True)
    with open(store.path, "w", encoding="utf-8") as fp:
        fp.write(text)
    return store


def test_truncated_json_is_refused(tmp_path):
    text = json.dumps(_record().to_json())
    store = _write(tmp_path, text[: len(text) // 2])
    with pytest.raises(ResumeError, match="not valid JSON"):
        store.load()


def test_python_literal_is_never_evaluated(tmp_path):
    store = _write(tmp_path, "{'offset': 0, 'code': 200, 'ctx': __import__('os').getcwd()}")
    with pytest.raises(ResumeError):
        store.load()


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(format=99), "unknown format"),
    (lambda d: d.pop("format"), "unknown format"),
    (lambda d: d.update(size="10"), "size"),
    (lambda d: d.update(mtime_ns=None), "mtime_ns"),
    (lambda d: d.update(bucket=3), "bucket"),
    (lambda d: d.update(blocks={}), "blocks"),
    (lambda d: d["blocks"][0].pop("ctx"), "no ctx"),
    (lambda d: d["blocks"][0].update(sha1=["zz"]), "sha1"),
    (lambda d: d["blocks"][0].update(index=-1), "non-negative"),
    (lambda d: d["blocks"].append(dict(d["blocks"][0])), "twice"),
])
def test_malformed_records_are_refused(tmp_path, mutate, message):
    data = _record().to_json()
    mutate(data)
    store = _write(tmp_path, json.dumps(data))
    with pytest.raises(ResumeError, match=message):
        store.load()


def test_record_of_another_upload_id_is_refused(tmp_path):
    store = _write(tmp_path, json.dumps(_record(upload_id="OTHER").to_json()))
    with pytest.raises(ResumeError, match="belongs to upload"):
        store.load()


def test_non_object_is_refused(tmp_path):
    with pytest.raises(ResumeError):
        _write(tmp_path, "[1, 2]").load()


def test_matching_record_is_accepted():
    _record().check_matches("/data/f.bin", 10 * MiB, 123, 4 * MiB, "b", "k")


@pytest.mark.parametrize("args, message", [
    (("/data/other.bin", 10 * MiB, 123, 4 * MiB, "b", "k"), "is for file"),
    (("/data/f.bin", 10 * MiB + 1, 123, 4 * MiB, "b", "k"), "size changed"),
    (("/data/f.bin", 10 * MiB, 124, 4 * MiB, "b", "k"), "modified"),
    (("/data/f.bin", 10 * MiB, 123, 8 * MiB, "b", "k"), "block size"),
    (("/data/f.bin", 10 * MiB, 123, 4 * MiB, "b2", "k"), "is for b:k"),
    (("/data/f.bin", 10 * MiB, 123, 4 * MiB, "b", "k2"), "is for b:k"),
])
def test_mismatching_record_is_refused(args, message):
    with pytest.raises(ResumeError, match=message):
        _record().check_matches(*args)


def test_block_outside_the_file_is_refused():
    rec = _record()
    rec.blocks[5] = BlockRecord(5, 20 * MiB, 4 * MiB, "ctx-5", [SHA])
    with pytest.raises(ResumeError, match="does not fit"):
        rec.check_matches("/data/f.bin", 10 * MiB, 123, 4 * MiB, "b", "k")
