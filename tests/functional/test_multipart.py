"""Multipart upload against the emulator: sizes, concurrency, chunking, errors, resume."""

import json
import os

import pytest

from tests.helpers.emulator_api import batch_log
from tests.helpers.files import MiB, etag_of
from wcs.commons.errors import InvalidArgument, LocalFileError, ResumeError
from wcs.commons.util import etag
from wcs.services.blocksteps import BlockSteps
from wcs.services.resume import RecordStore

SEED = int(os.environ.get("WCS_TEST_FAULT_SEED", "3"))


def record_dir(config, upload_id):
    return os.path.join(config.tmp_record_folder, upload_id)


def assert_stored(client, bucket, key, path):
    stat = client.stat(bucket, key)
    assert stat.code == 200
    assert stat.body["fsize"] == os.path.getsize(path) and stat.body["hash"] == etag(path)


@pytest.mark.parametrize("size", [0, 1, 4 * MiB, 4 * MiB + 1])
@pytest.mark.parametrize("concurrency", [0, 4])
def test_sizes(client, config, emulator, bucket, make_file, size, concurrency):
    config.concurrency = concurrency
    path = make_file(size)
    deltas = []
    res = client.multipart_upload(path, bucket, "k", progress=deltas.append)
    assert res.code == 200, res
    assert res.body == {"hash": etag(path), "key": "k"}
    assert res.upload_id and len(res.upload_id) == 32 and res.reqid
    assert sum(deltas) == size
    expected = [(0, min(size, 4 * MiB))] + ([(1, 1)] if size > 4 * MiB else []) if size else []
    assert sorted(batch_log(emulator, res.upload_id)) == expected
    assert not os.path.exists(record_dir(config, res.upload_id))  # removed after success
    assert_stored(client, bucket, "k", path)


@pytest.mark.parametrize("concurrency", [0, 4])
def test_several_blocks_in_chunks(client, config, emulator, bucket, make_file, concurrency):
    config.update(concurrency=concurrency, bput_size=MiB + 512 * 1024)  # 3 chunks per block, the last short
    path = make_file(5 * 4 * MiB + 123)
    bput_before = emulator.counters.get("bput", 0)
    res = client.multipart_upload(path, bucket, "several")
    assert res.code == 200 and res.body["hash"] == etag(path)
    assert sorted(batch_log(emulator, res.upload_id)) == [(i, 4 * MiB) for i in range(5)] + [(5, 123)]
    assert emulator.counters.get("bput", 0) - bput_before == 5 * 2
    assert_stored(client, bucket, "several", path)


def test_block_size_8mib(client, config, emulator, bucket, make_file):
    config.update(block_size=8 * MiB, bput_size=4 * MiB)
    path = make_file(8 * MiB + 4 * MiB + 5)
    res = client.multipart_upload(path, bucket, "big-blocks")
    assert res.code == 200 and res.body["hash"] == etag(path)
    assert sorted(batch_log(emulator, res.upload_id)) == [(0, 8 * MiB), (1, 4 * MiB + 5)]


def test_bput_size_larger_than_block_is_capped(client, config, emulator, bucket, make_file):
    config.update(bput_size=16 * MiB)
    path = make_file(4 * MiB + 10)
    before = emulator.counters.get("bput", 0)
    assert client.multipart_upload(path, bucket, "k").code == 200
    assert emulator.counters.get("bput", 0) == before


def test_given_upload_id_is_the_upload_batch(client, emulator, bucket, make_file):
    upload_id = client.new_upload_id()
    res = client.multipart_upload(make_file(10), bucket, "k", upload_id=upload_id)
    assert res.code == 200 and res.upload_id == upload_id
    assert batch_log(emulator, upload_id) == [(0, 10)]


def test_upload_id_from_config(client, config, emulator, bucket, make_file):
    config.upload_id = "cfg-id-0001"
    res = client.multipart_upload(make_file(10), bucket, "k")
    assert res.upload_id == "cfg-id-0001" and batch_log(emulator, "cfg-id-0001") == [(0, 10)]


def test_metadata_per_call(client, bucket, make_file):
    res = client.multipart_upload(make_file(10), bucket, "k", mime_type="video/x-test", deadline=2)
    assert res.code == 200
    stat = client.stat(bucket, "k").body
    assert stat["mimeType"] == "video/x-test" and stat["expirationDate"]


# -- documented errors -----------------------------------------------------------------------------

def test_existing_key_is_406_then_resume_with_overwrite_sends_no_block(client, config, emulator, bucket,
                                                                      make_file):
    path = make_file(4 * MiB + 9)
    assert client.simple_upload(make_file(3), bucket, "k").code == 200
    res = client.multipart_upload(path, bucket, "k")
    assert res.code == 406 and res.upload_id
    assert os.path.exists(record_dir(config, res.upload_id))  # kept: every block is stored already
    sent = len(batch_log(emulator, res.upload_id))
    config.overwrite = 1
    again = client.multipart_upload(path, bucket, "k", upload_id=res.upload_id)
    assert again.code == 200 and again.body["hash"] == etag(path)
    assert len(batch_log(emulator, res.upload_id)) == sent  # only mkfile was repeated
    assert_stored(client, bucket, "k", path)


def test_missing_bucket_is_631_with_upload_id(client, config, make_file):
    res = client.multipart_upload(make_file(10), "no-such-bucket-xyz", "k")
    assert res.code == 631 and res.upload_id
    assert RecordStore(config.tmp_record_folder, res.upload_id).exists()


def test_wrong_secret_is_401(bad_client, bucket, make_file):
    res = bad_client.multipart_upload(make_file(10), bucket, "k")
    assert res.code == 401 and res.upload_id


def test_bput_with_bogus_ctx_is_701(client, config, bucket):
    auth = client.auth
    upload_id = client.new_upload_id()
    api = BlockSteps(client.http, auth, config.endpoints, config.transfer, config.policy,
                   lambda: api.upload_token(bucket, "k"), upload_id)
    first = api.mkblk(8, 0, b"1234")
    assert first.code == 200 and first.body["offset"] == 4
    assert api.bput("bogus-ctx", 4, b"5678").code == 701
    assert api.bput(first.body["ctx"], 3, b"5678").code == 701  # offset disagrees with the ctx
    done = api.bput(first.body["ctx"], 4, b"5678")
    assert done.code == 200 and done.body["offset"] == 8
    res = api.mkfile(8, [done.body["ctx"]])
    assert res.code == 200 and res.body == {"hash": etag_of(b"12345678"), "key": "k"}


def test_bad_block_size_raises_before_any_request(client, config, emulator, bucket, make_file):
    path = make_file(10)
    with pytest.raises(InvalidArgument, match="4 MiB"):
        config.block_size = 3 * MiB  # the config refuses it already...
    # ...and so does the uploader, for a config whose value got there another way.
    object.__getattribute__(config, "_values")["block_size"] = 3 * MiB
    before = dict(emulator.counters)
    with pytest.raises(InvalidArgument, match="4 MiB"):
        client.multipart_upload(path, bucket, "k")
    assert emulator.counters == before


# -- resume ----------------------------------------------------------------------------------------

class Stop(Exception):
    pass


def stop_after(limit):
    """A progress callback that raises once ``limit`` bytes are reported."""
    seen = [0]

    def progress(delta):
        seen[0] += delta
        if seen[0] > limit:
            raise Stop()

    return progress


@pytest.mark.parametrize("concurrency", [0, 3])
def test_interrupted_upload_resumes_without_resending_blocks(client, config, emulator, bucket, make_file,
                                                             concurrency):
    config.update(concurrency=concurrency, bput_size=MiB)
    path = make_file(6 * 4 * MiB + 77)
    upload_id = client.new_upload_id()
    store = RecordStore(config.tmp_record_folder, upload_id)

    def stop_once_two_blocks_are_recorded(delta):
        # Not a byte count: with 3 blocks in flight, 9 MiB sent may mean no block finished yet.
        record = store.load()
        if record is not None and len(record.blocks) >= 2:
            raise Stop()

    with pytest.raises(Stop):
        client.multipart_upload(path, bucket, "k", upload_id=upload_id, progress=stop_once_two_blocks_are_recorded)
    record = store.load()
    done = sorted(record.blocks)
    assert len(done) >= 2
    assert all(record.blocks[i].ctx for i in done)

    deltas = []
    res = client.multipart_upload(path, bucket, "k", upload_id=upload_id, progress=deltas.append)
    assert res.code == 200 and res.body["hash"] == etag(path)
    orders = [order for order, _ in batch_log(emulator, upload_id)]
    for index in done:
        assert orders.count(index) == 1, "block %d was sent again" % index
    assert set(orders) == set(range(7))
    assert deltas[0] == sum(record.blocks[i].size for i in done)  # resumed bytes reported first
    assert sum(deltas) == os.path.getsize(path)
    assert not os.path.exists(record_dir(config, upload_id))
    assert_stored(client, bucket, "k", path)


def test_failed_upload_returns_result_with_upload_id_then_resumes(fast_client, config, emulator, bucket,
                                                                  make_file):
    config.update(concurrency=0, mkblk_retries=1)
    path = make_file(4 * 4 * MiB)
    upload_id = fast_client.new_upload_id()

    def break_after_two_blocks(delta, seen=[0]):  # noqa: B006 - state of this one callback
        seen[0] += delta
        # Past two blocks: the third block's first slice is being read, before any of its bytes are
        # sent, so the server cannot have taken its mkblk up yet (the first two were answered: one
        # block after the other with concurrency 0).
        if seen[0] > 2 * 4 * MiB:
            emulator.set_faults("mkblk:503:1.0")

    try:
        res = fast_client.multipart_upload(path, bucket, "k", upload_id=upload_id, progress=break_after_two_blocks)
    finally:
        emulator.set_faults(None)
    assert res.code == 503 and not res.ok and res.upload_id
    assert sorted(RecordStore(config.tmp_record_folder, res.upload_id).load().blocks) == [0, 1]

    again = fast_client.multipart_upload(path, bucket, "k", upload_id=res.upload_id)
    assert again.code == 200 and again.body["hash"] == etag(path)
    orders = [order for order, _ in batch_log(emulator, res.upload_id)]
    assert orders.count(0) == 1 and orders.count(1) == 1 and sorted(set(orders)) == [0, 1, 2, 3]


@pytest.fixture
def interrupted(client, config, bucket, make_file):
    """An upload of a 3-block file stopped after its first block: ``(path, upload_id)``."""
    config.update(concurrency=0)
    path = make_file(2 * 4 * MiB + 5, name="interrupted.bin")
    upload_id = client.new_upload_id()
    with pytest.raises(Stop):
        client.multipart_upload(path, bucket, "k", upload_id=upload_id, progress=stop_after(4 * MiB + 1))
    assert sorted(RecordStore(config.tmp_record_folder, upload_id).load().blocks) == [0]
    return path, upload_id


def test_resume_refuses_a_modified_file(client, bucket, interrupted):
    path, upload_id = interrupted
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ResumeError, match="modified"):
        client.multipart_upload(path, bucket, "k", upload_id=upload_id)


def test_resume_refuses_a_resized_file(client, bucket, interrupted):
    path, upload_id = interrupted
    with open(path, "ab") as fp:
        fp.write(b"more")
    with pytest.raises(ResumeError, match="size changed"):
        client.multipart_upload(path, bucket, "k", upload_id=upload_id)


def test_resume_refuses_another_file(client, bucket, interrupted, make_file):
    _, upload_id = interrupted
    other = make_file(2 * 4 * MiB + 5, name="other.bin")
    with pytest.raises(ResumeError, match="is for file"):
        client.multipart_upload(other, bucket, "k", upload_id=upload_id)


def test_resume_refuses_another_destination_or_block_size(client, config, bucket, interrupted):
    path, upload_id = interrupted
    with pytest.raises(ResumeError, match="is for"):
        client.multipart_upload(path, bucket, "other-key", upload_id=upload_id)
    config.block_size = 8 * MiB
    with pytest.raises(ResumeError, match="block size"):
        client.multipart_upload(path, bucket, "k", upload_id=upload_id)


def test_resume_refuses_a_truncated_record(client, config, bucket, interrupted):
    path, upload_id = interrupted
    store = RecordStore(config.tmp_record_folder, upload_id)
    text = open(store.path, encoding="utf-8").read()
    with open(store.path, "w", encoding="utf-8") as fp:
        fp.write(text[: len(text) // 2])
    with pytest.raises(ResumeError, match="not valid JSON"):
        client.multipart_upload(path, bucket, "k", upload_id=upload_id)


def test_resume_refuses_an_unknown_record_format(client, config, bucket, interrupted):
    path, upload_id = interrupted
    store = RecordStore(config.tmp_record_folder, upload_id)
    data = json.load(open(store.path, encoding="utf-8"))
    data["format"] = 2
    with open(store.path, "w", encoding="utf-8") as fp:
        json.dump(data, fp)
    with pytest.raises(ResumeError, match="format"):
        client.multipart_upload(path, bucket, "k", upload_id=upload_id)


def test_resume_after_refusal_can_start_over_with_a_new_id(client, bucket, interrupted):
    path, upload_id = interrupted
    res = client.multipart_upload(path, bucket, "k")
    assert res.code == 200 and res.upload_id != upload_id and res.body["hash"] == etag(path)


def test_file_changed_during_upload_is_refused(client, config, bucket, make_file):
    config.concurrency = 0
    path = make_file(2 * 4 * MiB)
    upload_id = client.new_upload_id()

    def touch_once(delta, done=[]):  # noqa: B006 - state of this one callback
        if not done:
            done.append(1)
            st = os.stat(path)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))

    with pytest.raises(LocalFileError, match="changed while"):
        client.multipart_upload(path, bucket, "k", upload_id=upload_id, progress=touch_once)
    assert not os.path.exists(record_dir(config, upload_id))
    assert client.stat(bucket, "k").code == 404


def test_crash_after_mkfile_then_resume_is_recognised_as_done(client, config, emulator, bucket, make_file,
                                                               monkeypatch):
    path = make_file(4 * MiB + 3)
    upload_id = client.new_upload_id()
    # Simulates a crash between mkfile's success and the removal of the record.
    monkeypatch.setattr(RecordStore, "remove", lambda self: None)
    assert client.multipart_upload(path, bucket, "k", upload_id=upload_id).code == 200
    monkeypatch.undo()
    assert RecordStore(config.tmp_record_folder, upload_id).exists()
    sent = len(batch_log(emulator, upload_id))
    res = client.multipart_upload(path, bucket, "k", upload_id=upload_id)
    assert res.code == 200 and res.body == {"hash": etag(path), "key": "k"} and res.upload_id == upload_id
    assert len(batch_log(emulator, upload_id)) == sent
    assert not os.path.exists(record_dir(config, upload_id))


def test_record_with_dead_contexts_is_dropped(client, config, emulator, bucket, make_file, monkeypatch):
    path = make_file(4 * MiB + 3)
    upload_id = client.new_upload_id()
    monkeypatch.setattr(RecordStore, "remove", lambda self: None)
    assert client.multipart_upload(path, bucket, "k", upload_id=upload_id).code == 200
    monkeypatch.undo()
    assert client.delete(bucket, "k").code == 200  # the object is gone and so are the blocks
    res = client.multipart_upload(path, bucket, "k", upload_id=upload_id)
    assert res.code == 701 and res.upload_id == upload_id
    assert not os.path.exists(record_dir(config, upload_id))
    again = client.multipart_upload(path, bucket, "k", upload_id=upload_id)  # starts afresh
    assert again.code == 200 and again.body["hash"] == etag(path)


# -- faults ----------------------------------------------------------------------------------------

def test_upload_completes_with_20_percent_of_requests_failing(fast_client, config, emulator, bucket, make_file,
                                                              faults):
    config.update(concurrency=3, bput_size=MiB)
    faults("mkblk:500:0.15,bput:503:0.15,mkfile:500:0.15,*:reset:0.05", seed=SEED)
    for i in range(3):
        path = make_file(3 * 4 * MiB + 1000 * i, seed=i)
        res = fast_client.multipart_upload(path, bucket, "k%d" % i)
        assert res.code == 200, res
        assert res.body["hash"] == etag(path)
    assert emulator.counters["faults_injected"] > 0
