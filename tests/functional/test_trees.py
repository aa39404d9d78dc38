"""Client.sync / upload_tree / download_tree against the emulator (issue 15): decisions by content,
filters, dry run, deletes, safe local paths, resumable big files."""

import os
import time

import pytest

from tests.helpers.files import MiB, make_tree, write_file
from wcs.commons.http import Result
from wcs.commons.result import ObjectInfo
from wcs.commons.staging import Staging
from wcs.commons.util import etag
from wcs.services.resume import RecordStore
from wcs.services.tree import FilterRules, Remote, TreeObserver
from wcs.services.tree.hashcache import FINE_WINDOW_NS
from wcs.services.tree.localtree import LocalFile
from wcs.services.tree.records import derived_upload_id


class Recorder(TreeObserver):
    def __init__(self):
        self.actions, self.errors, self.notes, self.done = [], [], [], []

    def on_action(self, action):
        self.actions.append((action.op, action.rel, action.reason))

    def on_error(self, where, message):
        self.errors.append((where, message))

    def on_note(self, where, message):
        self.notes.append((os.path.basename(where), message))

    def on_done(self, action, error):
        self.done.append((action.op, action.rel, error))


@pytest.fixture(autouse=True)
def _private_cache_home(monkeypatch, tmp_path):
    """The default etag cache (if a test forgets hash_cache) lands in tmp_path, never in ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def cache(tmp_path):
    return str(tmp_path / "etags.sqlite")


def settle():
    """Wait until the files just written are past the etag cache's racy window (hashcache.is_racy)."""
    time.sleep(2 * FINE_WINDOW_NS / 1e9)


def on_service(client, factory, method, replace):
    """Every ``client.<factory>()`` built from now on (the services a tree run is given) has its
    ``method`` replaced by ``replace(real_method)``."""
    real_factory = getattr(client, factory)

    def build(*args, **kwargs):
        service = real_factory(*args, **kwargs)
        setattr(service, method, replace(getattr(service, method)))
        return service

    setattr(client, factory, build)


def remote_state(emulator, bucket, prefix=""):
    return {info.key: (info.fsize, info.hash) for info in emulator.store.keys_under(bucket, prefix)}


def files_under(root):
    return sorted(os.path.relpath(os.path.join(folder, name), str(root)).replace(os.sep, "/")
                  for folder, _, names in os.walk(str(root)) for name in names)


def local_state(root):
    found = {}
    for folder, _, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, str(root)).replace(os.sep, "/")] = etag(path)
    return found


FILES = {"a.txt": b"alpha", "sub/b.txt": b"bravo!", "sub/deep/c d.txt": b"charlie", "empty": b"",
         "é ü/日本.txt": "ünïcode".encode(), "z-last": 3000}


def test_sync_up_then_nothing_to_do(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", FILES)
    settle()
    summary = client.sync(src, Remote(bucket, "site"), hash_cache=cache)
    assert summary.ok and summary.transferred_files == len(FILES)
    assert summary.transferred_bytes == sum(len(v) if isinstance(v, bytes) else v for v in FILES.values())
    state = remote_state(emulator, bucket)
    assert sorted(state) == sorted("site/" + rel for rel in FILES)
    for rel in FILES:
        assert state["site/" + rel][1] == etag(os.path.join(src, *rel.split("/")))

    emulator.reset_counters()
    again = client.sync(src, Remote(bucket, "site/"), hash_cache=cache)
    assert again.ok and again.transferred_files == 0 and again.skipped == {"same": len(FILES)}
    assert again.hashed_bytes == 0  # the upload put every etag in the cache
    assert emulator.counters == {"faults_injected": 0, "mgr": 1}  # one listing page, nothing else


def test_same_size_edit_with_the_old_mtime_is_found(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"f.txt": b"version 1", "g.txt": b"same"})
    assert client.sync(src, Remote(bucket), hash_cache=cache).ok
    path = os.path.join(src, "f.txt")
    st = os.stat(path)
    with open(path, "wb") as fp:
        fp.write(b"version 2")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    rec = Recorder()
    summary = client.sync(src, Remote(bucket), hash_cache=cache, observer=rec)
    assert summary.transferred_files == 1 and ("transfer", "f.txt", "hash") in rec.actions
    assert ("skip", "g.txt", "same") in rec.actions
    assert remote_state(emulator, bucket)["f.txt"][1] == etag(path)
    # --size-only is the cheap mode: it would not have seen it
    with open(path, "wb") as fp:
        fp.write(b"version 3")
    cheap = client.sync(src, Remote(bucket), hash_cache=cache, size_only=True, observer=Recorder())
    assert cheap.transferred_files == 0 and cheap.skipped == {"same-size": 2}


def test_remote_changes_are_found_by_size_and_hash(client, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"a": b"1234", "b": b"12345", "c": b"abc"})
    settle()
    client.sync(src, Remote(bucket, "p"), hash_cache=cache)
    other = make_tree(tmp_path / "other", {"a": b"4321", "b": b"1"})
    client.simple_upload(os.path.join(other, "a"), bucket, "p/a", overwrite=1)
    client.simple_upload(os.path.join(other, "b"), bucket, "p/b", overwrite=1)
    client.delete(bucket, "p/c")
    rec = Recorder()
    summary = client.sync(src, Remote(bucket, "p"), hash_cache=cache, observer=rec)
    assert sorted(a for a in rec.actions if a[0] == "transfer") == [
        ("transfer", "a", "hash"), ("transfer", "b", "size"), ("transfer", "c", "missing")]
    assert summary.hashed_bytes == 0  # the local side was cached; the remote hashes came with the listing


def test_filters_and_delete_protection(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"keep.txt": b"k", "skip.tmp": b"s", "logs/x.log": b"l", "logs/y.txt": b"y"})
    filters = FilterRules.from_args([("-", "*.tmp"), ("-", "logs/**")])
    summary = client.sync(src, Remote(bucket), hash_cache=cache, filters=filters)
    assert sorted(remote_state(emulator, bucket)) == ["keep.txt"]
    assert summary.skipped == {"excluded": 3}
    client.simple_upload(os.path.join(src, "skip.tmp"), bucket, "old.tmp")
    client.simple_upload(os.path.join(src, "skip.tmp"), bucket, "stray.txt")
    summary = client.sync(src, Remote(bucket), hash_cache=cache, filters=filters, delete=True)
    assert summary.deleted == 1 and summary.delete_status == "done"
    assert sorted(remote_state(emulator, bucket)) == ["keep.txt", "old.tmp"]  # excluded: not deleted


def test_dry_run_changes_nothing(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"a": b"a", "b": b"b", "c": b"c"})
    client.sync(src, Remote(bucket), hash_cache=cache)
    os.remove(os.path.join(src, "a"))
    make_tree(src, {"b": b"bb", "d": b"new"})
    before_remote = remote_state(emulator, bucket)
    before_local = local_state(src)
    emulator.reset_counters()
    rec = Recorder()
    summary = client.sync(src, Remote(bucket), hash_cache=cache, delete=True, dry_run=True, observer=rec)
    assert sorted(rec.actions) == [("delete", "a", "extra"), ("skip", "c", "same"), ("transfer", "b", "size"),
                                   ("transfer", "d", "missing")]
    assert summary.dry_run and summary.planned_files == 2 and summary.planned_bytes == 5
    assert summary.planned_deletes == 1 and summary.deleted == 0 and summary.transferred_files == 0
    assert emulator.counters == {"faults_injected": 0, "mgr": 1}  # the listing; no upload, delete or job
    assert remote_state(emulator, bucket) == before_remote and local_state(src) == before_local

    dst = tmp_path / "dst"
    make_tree(dst, {"local-only": b"x"})
    before_local = local_state(dst)
    emulator.reset_counters()
    summary = client.sync(Remote(bucket), str(dst), hash_cache=cache, delete=True, dry_run=True)
    assert summary.planned_files == 3 and summary.planned_deletes == 1
    assert emulator.counters == {"faults_injected": 0, "mgr": 1}
    assert local_state(dst) == before_local


def test_delete_only_after_a_clean_run(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"a": b"a", "unreadable": b"u"})
    client.simple_upload(os.path.join(src, "a"), bucket, "extra-1")
    client.simple_upload(os.path.join(src, "a"), bucket, "extra-2")

    real = client.form_uploader

    def failing_uploader(transfer=None):
        uploader = real(transfer)
        upload = uploader.upload_file

        def upload_file(path, bucket, key, **kwargs):
            if key == "unreadable":
                return Result(403, {"message": "no"}, {})
            return upload(path, bucket, key, **kwargs)

        uploader.upload_file = upload_file
        return uploader

    client.form_uploader = failing_uploader
    rec = Recorder()
    summary = client.sync(src, Remote(bucket), hash_cache=cache, delete=True, observer=rec)
    assert summary.failed == 1 and not summary.ok and summary.deleted == 0
    assert summary.delete_status.startswith("not done")
    assert rec.errors == [("unreadable", "upload failed: HTTP 403: no")]
    assert {"extra-1", "extra-2"} <= set(remote_state(emulator, bucket))


def test_max_delete_and_empty_source_are_refused(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"a": b"a"})
    for i in range(3):
        client.simple_upload(os.path.join(src, "a"), bucket, "x%d" % i)
    summary = client.sync(src, Remote(bucket), hash_cache=cache, delete=True, max_delete=2)
    assert summary.deleted == 0 and summary.delete_status.startswith("aborted") and not summary.ok
    assert len(remote_state(emulator, bucket)) == 4

    empty = tmp_path / "empty"
    empty.mkdir()
    summary = client.sync(str(empty), Remote(bucket), hash_cache=cache, delete=True)
    assert summary.delete_status.startswith("refused") and not summary.ok
    assert len(remote_state(emulator, bucket)) == 4

    summary = client.sync(Remote(bucket, "nothing-here"), str(src), hash_cache=cache, delete=True)
    assert summary.delete_status.startswith("refused") and os.path.exists(os.path.join(src, "a"))

    with pytest.raises(Exception, match="no such directory"):
        client.sync(str(tmp_path / "missing"), Remote(bucket), hash_cache=cache, delete=True)


def test_many_deletes_go_in_fmgr_batches_and_are_verified(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"keep": b"k"})
    one = os.path.join(src, "keep")
    for i in range(25):
        client.simple_upload(one, bucket, "old/%03d" % i)
    emulator.reset_counters()
    rec = Recorder()
    summary = client.sync(src, Remote(bucket), hash_cache=cache, delete=True, delete_batch=10, observer=rec)
    assert summary.ok and summary.deleted == 25, summary
    assert sorted(remote_state(emulator, bucket)) == ["keep"]
    deletes = [d for d in rec.done if d[0] == "delete"]
    assert len(deletes) == 25 and all(error is None for _, _, error in deletes)
    # 1 listing + 1 upload... : the deletions are 3 jobs (10 + 10 + 5) and their status polls, not 25 calls
    assert emulator.counters["upload"] == 1
    assert emulator.counters["mgr"] < 25


def test_per_object_deletes_when_the_batch_job_is_refused(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"keep": b"k"})
    for i in range(3):
        client.simple_upload(os.path.join(src, "keep"), bucket, "old%d" % i)
    refused = []
    on_service(client, "fmgr_service", "submit",
               lambda real: lambda *args, **kwargs: refused.append(1) or Result(400, {"message": "not here"}, {}))
    summary = client.sync(src, Remote(bucket), hash_cache=cache, delete=True)
    assert refused == [1]
    assert summary.ok and summary.deleted == 3
    assert sorted(remote_state(emulator, bucket)) == ["keep"]


def test_a_delete_the_listing_still_shows_is_a_failure(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"keep": b"k"})
    client.simple_upload(os.path.join(src, "keep"), bucket, "stays")
    on_service(client, "fmgr_service", "submit", lambda real: lambda *args, **kwargs: Result(400, {}, {}))
    on_service(client, "bucket_manager", "delete",  # claims success, deletes nothing
               lambda real: lambda bucket, key: Result(200, {}, {}))
    rec = Recorder()
    summary = client.sync(src, Remote(bucket), hash_cache=cache, delete=True, observer=rec)
    assert summary.deleted == 0 and summary.failed == 1 and not summary.ok
    assert ("stays", "delete failed: still listed after it was deleted") in rec.errors


def test_put_r_copies_everything_and_skip_existing_skips(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"a": b"a", "b": b"b"})
    assert client.upload_tree(src, bucket, "p", hash_cache=cache).transferred_files == 2
    emulator.reset_counters()
    summary = client.upload_tree(src, bucket, "p", hash_cache=cache)
    assert summary.transferred_files == 2 and "mgr" not in emulator.counters  # no listing needed
    make_tree(src, {"a": b"changed", "c": b"c"})
    summary = client.upload_tree(src, bucket, "p", hash_cache=cache, skip_existing=True)
    assert summary.transferred_files == 1 and summary.skipped == {"exists": 2}
    assert remote_state(emulator, bucket)["p/a"][0] == 1  # existing key kept as it was


def test_download_round_trip_into_a_new_folder(client, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", FILES)
    client.upload_tree(src, bucket, "t", hash_cache=cache)
    dst = tmp_path / "new" / "dst"
    summary = client.download_tree(bucket, "t", str(dst), hash_cache=cache)
    assert summary.ok and summary.transferred_files == len(FILES)
    assert local_state(dst) == local_state(src)
    settle()
    again = client.sync(Remote(bucket, "t"), str(dst), hash_cache=cache)
    # Small downloads are written and renamed within one clock tick: racy, so read back once.
    assert again.transferred_files == 0 and again.hashed_files <= len(FILES)
    third = client.sync(Remote(bucket, "t"), str(dst), hash_cache=cache)
    assert third.transferred_files == 0 and third.hashed_bytes == 0
    skip = client.download_tree(bucket, "t", str(dst), hash_cache=cache, skip_existing=True)
    assert skip.skipped == {"exists": len(FILES)}


def test_download_delete_removes_local_extras(client, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"a": b"a"})
    client.upload_tree(src, bucket, "", hash_cache=cache)
    dst = make_tree(tmp_path / "dst", {"a": b"old", "extra/x": b"x", "extra2": b"y"})
    summary = client.sync(Remote(bucket), dst, hash_cache=cache, delete=True)
    assert summary.ok and summary.deleted == 2 and summary.transferred_files == 1
    assert local_state(dst) == {"a": etag(os.path.join(src, "a"))}


def test_unsafe_keys_are_refused_and_nothing_is_written_outside(client, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"ok": b"ok"})
    client.upload_tree(src, bucket, "", hash_cache=cache)
    evil = ["../escape", "/etc/wcs-test", "a/../../b", "a//b", "nul\0byte", "x" * 300]

    def listing(real_list):
        def iter_objects(bucket_name, prefix=None, **kwargs):
            items = list(real_list(bucket_name, prefix, **kwargs))
            items += [ObjectInfo(key=k, size=1, hash="Fevil") for k in evil]
            return iter(sorted(items, key=lambda i: i.key))
        return iter_objects

    on_service(client, "bucket_manager", "iter_objects", listing)
    dst = tmp_path / "dst"
    rec = Recorder()
    summary = client.download_tree(bucket, "", str(dst), hash_cache=cache, observer=rec)
    assert summary.transferred_files == 1 and summary.failed == len(evil)
    assert sorted(where for where, _ in rec.errors) == sorted(evil)
    assert all(message.startswith("unsafe key") for _, message in rec.errors)
    for outside in (tmp_path / "escape", tmp_path / "b", "/etc/wcs-test"):
        assert not os.path.exists(str(outside))
    assert local_state(dst) == {"ok": etag(os.path.join(src, "ok"))}


def test_symlinked_folder_inside_the_target_is_not_written_through(client, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"link/passwd": b"pwned", "fine": b"f"})
    client.upload_tree(src, bucket, "", hash_cache=cache)
    outside = tmp_path / "outside"
    outside.mkdir()
    dst = tmp_path / "dst"
    dst.mkdir()
    os.symlink(str(outside), str(dst / "link"))
    rec = Recorder()
    summary = client.download_tree(bucket, "", str(dst), hash_cache=cache, observer=rec)
    assert summary.failed == 1 and summary.transferred_files == 1
    assert rec.errors[0][0] == "link/passwd" and "outside" in rec.errors[0][1]
    assert os.listdir(str(outside)) == []


def test_symlinks_and_fifos_are_skipped_with_a_note(client, emulator, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"real": b"r"})
    os.symlink("real", os.path.join(src, "link"))
    if hasattr(os, "mkfifo"):
        os.mkfifo(os.path.join(src, "pipe"))
    os.makedirs(os.path.join(src, "empty", "dir"))
    rec = Recorder()
    summary = client.sync(src, Remote(bucket), hash_cache=cache, observer=rec)
    assert sorted(remote_state(emulator, bucket)) == ["real"]
    assert summary.skipped.get("symlink") == 1
    assert any(name == "link" for name, _ in rec.notes)
    followed = client.sync(src, Remote(bucket), hash_cache=cache, follow_symlinks=True)
    assert followed.transferred_files == 1 and sorted(remote_state(emulator, bucket)) == ["link", "real"]


@pytest.mark.slow  # about 4 s: a 20 MiB file interrupted and resumed
def test_big_file_resumes_from_its_derived_record_and_stale_records_go(client, emulator, bucket, tmp_path, cache,
                                                                       config):
    src = make_tree(tmp_path / "src", {"big.bin": 3 * 4 * MiB + 10, "small": b"s"})
    big = os.path.join(src, "big.bin")
    emulator.set_faults("mkfile:500:1.0")
    first = client.sync(src, Remote(bucket), hash_cache=cache, multipart_threshold=4 * MiB)
    assert first.failed == 1 and first.transferred_files == 1
    upload_id = derived_upload_id(bucket, "big.bin", LocalFile.from_stat("big.bin", big, os.stat(big)))
    record = RecordStore(config.tmp_record_folder, upload_id).load()
    assert record is not None and len(record.blocks) == 4

    emulator.set_faults(None)
    emulator.reset_counters()
    second = client.sync(src, Remote(bucket), hash_cache=cache, multipart_threshold=4 * MiB)
    assert second.ok and second.transferred_files == 1
    assert emulator.counters.get("mkblk", 0) == 0 and emulator.counters["mkfile"] == 1  # every block recorded
    assert remote_state(emulator, bucket)["big.bin"][1] == etag(big)
    assert not RecordStore(config.tmp_record_folder, upload_id).exists()

    # A changed file: the old record can never be resumed and is removed by the next run.
    emulator.set_faults("mkfile:500:1.0")
    write_file(big, 2 * 4 * MiB + 3, seed=9)
    client.sync(src, Remote(bucket), hash_cache=cache, multipart_threshold=4 * MiB)
    stale = derived_upload_id(bucket, "big.bin", LocalFile.from_stat("big.bin", big, os.stat(big)))
    assert RecordStore(config.tmp_record_folder, stale).exists()
    emulator.set_faults(None)
    write_file(big, 2 * 4 * MiB + 5, seed=10)
    assert client.sync(src, Remote(bucket), hash_cache=cache, multipart_threshold=4 * MiB).ok
    assert not RecordStore(config.tmp_record_folder, stale).exists()
    assert remote_state(emulator, bucket)["big.bin"][1] == etag(big)


def test_fail_fast_stops_starting_transfers(client, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"f%02d" % i: b"x" for i in range(30)})
    client.form_uploader = lambda transfer=None: _Refusing()
    summary = client.sync(src, Remote(bucket), hash_cache=cache, fail_fast=True, transfers=2)
    assert summary.failed <= 3 and summary.transferred_files == 0
    assert "stopped after the first failure (fail fast)" in summary.errors


class _Refusing:
    def upload_file(self, *args, **kwargs):
        return Result(403, {"message": "refused"}, {})


def test_sync_arguments(client, tmp_path):
    with pytest.raises(ValueError, match="a bucket prefix"):
        client.sync(str(tmp_path), str(tmp_path))
    with pytest.raises(ValueError, match="delete needs a sync"):
        client.upload_tree(str(tmp_path), "b", delete=True)
    with pytest.raises(ValueError, match="transfers"):
        client.sync(str(tmp_path), Remote("b"), transfers=0)
    with pytest.raises(ValueError):
        client.sync(str(tmp_path), Remote("b"), no_such_option=1)


def test_staging_folders_of_killed_downloads_are_removed_by_the_next_sync(client, bucket, tmp_path, cache):
    src = make_tree(tmp_path / "src", {"a": b"a"})
    client.upload_tree(src, bucket, "", hash_cache=cache)
    dst = tmp_path / "dst"
    make_tree(dst, {".a.0123456789ab.part": b"user data", "sub/x": b"x"})
    killed = Staging.create(str(dst / "sub"))  # what a killed download leaves: a marked folder
    resumable = Staging.for_target(str(dst / "big"))
    for staged in (killed, resumable):
        os.close(staged.new_file("data"))
    summary = client.sync(Remote(bucket), str(dst), hash_cache=cache)
    assert summary.ok and summary.transferred_files == 1
    assert not os.path.exists(killed.path) and os.path.exists(resumable.path)  # kept: it resumes
    staged = os.path.basename(resumable.path)
    assert files_under(dst) == sorted([".a.0123456789ab.part", "a", staged + "/.wcs-staging", staged + "/data",
                                       "sub/x"])
    summary = client.sync(Remote(bucket), str(dst), hash_cache=cache, delete=True)
    assert summary.ok and summary.deleted == 2  # a name like a temporary file's is the user's: an extra
    assert files_under(dst) == sorted(["a", staged + "/.wcs-staging", staged + "/data"])


def test_a_listing_that_breaks_off_means_no_deletes(client, emulator, bucket, tmp_path, cache):
    from wcs.commons.errors import NetworkError

    src = make_tree(tmp_path / "src", {"a": b"a", "z": b"z"})
    for key in ("b-extra", "c-extra"):
        client.simple_upload(os.path.join(src, "a"), bucket, key)
    def broken(real_list):
        def iter_objects(bucket_name, prefix=None, **kwargs):
            for number, item in enumerate(real_list(bucket_name, prefix, **kwargs)):
                if number == 1:
                    raise NetworkError("connection reset while listing")
                yield item
        return iter_objects

    on_service(client, "bucket_manager", "iter_objects", broken)
    rec = Recorder()
    summary = client.sync(src, Remote(bucket), hash_cache=cache, delete=True, observer=rec)
    assert not summary.ok and summary.deleted == 0 and summary.delete_status.startswith("not done")
    assert any("listing failed: connection reset" in message for _, message in rec.errors)
    assert {"b-extra", "c-extra"} <= set(remote_state(emulator, bucket))


def test_files_and_blocks_share_one_bounded_pool(config, emulator, bucket, tmp_path, cache):
    import threading

    from wcs.services.client import Client

    config.update(concurrency=3, block_size=4 * MiB)
    files = {"small-%02d" % i: b"x" * i for i in range(30)}
    files.update({"big-1": 3 * 4 * MiB, "big-2": 2 * 4 * MiB + 1})
    src = make_tree(tmp_path / "src", files)
    peak = [0]
    stop = threading.Event()
    before = {t.ident for t in threading.enumerate()}  # pools of other tests' clients stay alive (daemons)

    def watch():
        while not stop.is_set():
            ours = [t for t in threading.enumerate() if t.ident not in before and t.name.startswith("wcs-transfer")]
            peak[0] = max(peak[0], len(ours))
            stop.wait(0.002)

    with Client(config) as cli:
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            summary = cli.sync(src, Remote(bucket), hash_cache=cache, transfers=4, multipart_threshold=4 * MiB)
        finally:
            stop.set()
            watcher.join()
        assert summary.ok and summary.transferred_files == 32
        assert 1 <= peak[0] <= 4  # the pool: max(concurrency, transfers); 2 files x 3 blocks did not add any
        assert cli.scheduler_for(cli.cfg.transfer).workers == 4
