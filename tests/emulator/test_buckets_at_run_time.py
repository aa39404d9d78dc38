"""Buckets added and removed while an emulator runs (``wcs-emulator bucket add|remove|list``), from another
process than the server's: served at once, removal refused with objects unless ``--force``, then the
service's answers for a missing bucket; and the store's side of it (an object is never committed into a
bucket that another process removed)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.helpers.cli_runner import isolate_environment, run_tool, run_wcscmd
from wcs.commons.auth import upload_token_from_encoded
from wcs.commons.util import EtagHasher, urlsafe_base64_encode
from wcs.emulator.cli import main as emulator_main
from wcs.emulator.errors import BucketNotFound
from wcs.emulator.state import Store
from wcs.emulator.state.buckets import BucketNotEmpty, NoData, NoSuchBucket, add_bucket, list_buckets, remove_bucket

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AK, SK = "wcs-emulator-access-key", "wcs-emulator-secret-key"


def object_files(data_dir):
    return sorted(name for _, _, names in os.walk(os.path.join(data_dir, "objects")) for name in names)


def upload(url, bucket, key, data):
    policy = {"scope": "%s:%s" % (bucket, key), "deadline": int(time.time() * 1000) + 3600 * 1000}
    token = upload_token_from_encoded(AK, SK, urlsafe_base64_encode(json.dumps(policy)))
    return requests.post(url + "/file/upload", files={"token": (None, token), "file": (key, data)})


@pytest.fixture
def server(tmp_path, monkeypatch):
    """``wcs-emulator`` in a process of its own, with ``my-bucket`` and ``--write-config``."""
    isolate_environment(monkeypatch, tmp_path / "home")
    data_dir, config = str(tmp_path / "data"), str(tmp_path / "emulator.wcscfg")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir", data_dir,
                             "--bucket", "my-bucket", "--write-config", config],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("WCS emulator listening on"), line + proc.stderr.read()
        with open(config, "a", encoding="utf-8") as fp:
            fp.write("tmp_record_folder = %s\n" % (tmp_path / "records"))
        yield line.split()[-1], data_dir, config
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        proc.stdout.close()
        proc.stderr.close()


def test_a_bucket_added_and_removed_while_the_server_runs(server, tmp_path, capsys):
    url, data_dir, config = server

    def bucket(*args):
        return run_tool(capsys, emulator_main, "bucket", *(list(args) + ["--data-dir", data_dir]))

    local = tmp_path / "file.txt"
    local.write_bytes(b"hello from the docs\n")
    assert run_wcscmd(capsys, "-c", config, "put", "wcs://my-bucket/dir/file.txt", local).status == 0
    # the newcomer's step before the bucket exists
    refused = run_wcscmd(capsys, "-c", config, "cp", "wcs://my-bucket/dir/file.txt", "wcs://other-bucket/b.txt")
    assert refused.status != 0 and "Bucket Not Found" in refused.out + refused.err

    added = bucket("add", "other-bucket")
    assert added.status == 0 and added.out.startswith("created bucket other-bucket")
    assert bucket("add", "other-bucket").out.startswith("found bucket other-bucket")
    # served at once, by the server that was running all along: copy, move, form upload
    assert run_wcscmd(capsys, "-c", config, "cp", "wcs://my-bucket/dir/file.txt", "wcs://other-bucket/b.txt"
                      ).status == 0
    assert run_wcscmd(capsys, "-c", config, "mv", "wcs://other-bucket/b.txt", "wcs://other-bucket/c.txt"
                      ).status == 0
    resp = upload(url, "other-bucket", "direct.bin", b"x" * 1000)
    assert resp.status_code == 200, resp.text
    listed = run_wcscmd(capsys, "-c", config, "listbucket")
    assert listed.status == 0 and "other-bucket" in listed.out
    assert bucket("list").out.split() == ["my-bucket", "other-bucket"]

    before = object_files(data_dir)
    kept = bucket("remove", "other-bucket")
    assert kept.status == 1 and "holds 2 objects" in kept.err and "--force" in kept.err
    assert requests.get(url + "/other-bucket/c.txt").content == b"hello from the docs\n"
    assert object_files(data_dir) == before

    removed = bucket("remove", "other-bucket", "--force")
    assert removed.status == 0 and "2 objects deleted" in removed.out
    assert len(object_files(data_dir)) == len(before) - 2
    # the service's answers for a bucket that does not exist: 631 on upload paths, 404 elsewhere
    resp = upload(url, "other-bucket", "late.bin", b"late")
    assert resp.status_code == 631 and resp.json()["message"] == "Bucket Not Found"
    stat = run_wcscmd(capsys, "-c", config, "stat", "wcs://other-bucket/c.txt")
    assert stat.status != 0 and "Bucket Not Found" in stat.out + stat.err
    download = requests.get(url + "/other-bucket/c.txt")
    assert download.status_code == 404 and download.json()["message"] == "Bucket Not Found"
    assert "other-bucket" not in run_wcscmd(capsys, "-c", config, "listbucket").out
    assert bucket("remove", "other-bucket").status == 1
    # and the data of the other bucket is untouched
    assert requests.get(url + "/my-bucket/dir/file.txt").content == b"hello from the docs\n"


def test_bucket_command_as_a_process_of_its_own(tmp_path, capsys):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    data_dir = str(tmp_path / "d")
    missing = run_tool(capsys, emulator_main, "bucket", "list", "--data-dir", data_dir)
    assert missing.status == 1 and "holds no emulator data" in missing.err
    added = subprocess.run([sys.executable, "-m", "wcs.emulator", "bucket", "add", "fresh", "--data-dir", data_dir],
                           capture_output=True, text=True, env=env, timeout=60)
    assert added.returncode == 0 and added.stdout.startswith("created bucket fresh"), added.stderr
    assert run_tool(capsys, emulator_main, "bucket", "list", "--data-dir", data_dir).out == "fresh\n"


def test_bucket_command_arguments(capsys):
    for argv in (["bucket"], ["bucket", "drop", "x"], ["bucket", "add"], ["bucket", "add", "a/b"],
                 ["bucket", "add", "mkblk"]):
        with pytest.raises(SystemExit) as exc:
            emulator_main(argv)
        assert exc.value.code == 2
    assert "refused" in capsys.readouterr().err


# -- the store's side ---------------------------------------------------------------------------------------


def _temp(store, data):
    path = store.new_temp_path()
    with open(path, "wb") as fp:
        fp.write(data)
    hasher = EtagHasher()
    hasher.update(data)
    return path, len(data), hasher.etag()


@pytest.fixture
def store(tmp_path):
    opened = Store(str(tmp_path))
    opened.create_bucket("keep")
    opened.create_bucket("gone")
    yield opened
    opened.close()


def test_no_object_is_committed_into_a_bucket_removed_by_another_process(store):
    path, size, tag = _temp(store, b"data")
    assert remove_bucket(store.data_dir, "gone") == 0  # another connection, as another process would
    with pytest.raises(BucketNotFound):
        store.put_file("gone", "k", path, size, tag, "text/plain")
    assert object_files(store.data_dir) == [] and not os.listdir(store.tmp_dir)
    # the bucket comes back empty: no row was left behind
    assert add_bucket(store.data_dir, "gone")
    assert store.keys_under("gone", "") == []


def test_no_object_is_moved_into_a_bucket_removed_by_another_process(store):
    path, size, tag = _temp(store, b"data")
    store.put_file("keep", "k", path, size, tag, "text/plain")
    remove_bucket(store.data_dir, "gone")
    with pytest.raises(BucketNotFound):
        store._move("keep", "k", "gone", "k", overwrite=True)  # past its own bucket check, as in a race
    assert store.get("keep", "k") is not None


def test_an_object_whose_file_went_with_its_bucket_reads_as_missing(store):
    path, size, tag = _temp(store, b"data")
    info = store.put_file("gone", "k", path, size, tag, "text/plain")
    os.unlink(info.path)  # what `bucket remove --force` does after its commit, seen between row and open
    assert store.open("gone", "k") is None


def test_remove_with_force_deletes_rows_and_files(store):
    for key in ("a", "b/c"):
        path, size, tag = _temp(store, key.encode())
        store.put_file("gone", key, path, size, tag, "text/plain")
    path, size, tag = _temp(store, b"kept")
    kept = store.put_file("keep", "a", path, size, tag, "text/plain")
    with pytest.raises(BucketNotEmpty) as exc:
        remove_bucket(store.data_dir, "gone")
    assert exc.value.count == 2 and store.bucket_exists("gone")
    assert remove_bucket(store.data_dir, "gone", force=True) == 2
    assert not store.bucket_exists("gone") and object_files(store.data_dir) == [os.path.basename(kept.path)]
    assert list_buckets(store.data_dir) == ["keep"]
    with pytest.raises(NoSuchBucket):
        remove_bucket(store.data_dir, "gone")
    assert store.get("keep", "a").hash == kept.hash


def test_missing_data_dir(tmp_path):
    with pytest.raises(NoData):
        list_buckets(str(tmp_path / "nothing"))
    with pytest.raises(NoData):
        remove_bucket(str(tmp_path / "nothing"), "b")
    assert not (tmp_path / "nothing").exists()
    assert add_bucket(str(tmp_path / "new" / "dir"), "b") and list_buckets(str(tmp_path / "new" / "dir")) == ["b"]
