"""``WcsFileSystem`` metadata, server-side changes, configuration and life across processes."""

import datetime
import io
import json
import os
import pickle
import subprocess
import sys

import fsspec
import pytest

from wcs.commons.config import Config
from wcs.commons.errors import InvalidArgument
from wcs.commons.util import etag_stream, urlsafe_base64_decode
from wcs.fs import WcsFileSystem


@pytest.fixture
def tree(wcsfs, bucket):
    """``a.txt``, ``dir/b.txt``, ``dir/sub/c.txt``, ``dir/sub/d.txt``, ``dirx.txt`` in the test bucket."""
    files = {"a.txt": b"a", "dir/b.txt": b"bb", "dir/sub/c.txt": b"ccc", "dir/sub/d.txt": b"dddd", "dirx.txt": b"x"}
    for key, data in files.items():
        wcsfs.pipe_file("%s/%s" % (bucket, key), data)
    return files


# -- metadata -------------------------------------------------------------------------------------


def test_info_of_files_directories_buckets_and_nothing(wcsfs, bucket, tree):
    info = wcsfs.info("wcs://%s/dir/b.txt" % bucket)
    assert (info["name"], info["size"], info["type"]) == ("%s/dir/b.txt" % bucket, 2, "file")
    assert info["etag"] == etag_stream(io.BytesIO(b"bb"))
    assert isinstance(info["mtime"], datetime.datetime) and info["mtime"].tzinfo is not None
    assert wcsfs.info("%s/dir/sub" % bucket) == {"name": "%s/dir/sub" % bucket, "size": 0, "type": "directory"}
    assert wcsfs.info(bucket)["type"] == "directory"
    assert wcsfs.info("")["type"] == "directory"
    for missing in ("%s/nothing" % bucket, "%s/di" % bucket, "no-such-bucket-x"):
        with pytest.raises(FileNotFoundError):
            wcsfs.info(missing)
    assert wcsfs.isdir("%s/dir" % bucket) and wcsfs.isfile("%s/dirx.txt" % bucket)
    assert not wcsfs.exists("%s/dir/nothing" % bucket)


def test_ls_uses_common_prefixes_as_directories(wcsfs, bucket, tree):
    entries = {e["name"]: e["type"] for e in wcsfs.ls(bucket)}
    assert entries == {"%s/a.txt" % bucket: "file", "%s/dir" % bucket: "directory", "%s/dirx.txt" % bucket: "file"}
    assert sorted(wcsfs.ls("%s/dir" % bucket, detail=False)) == ["%s/dir/b.txt" % bucket, "%s/dir/sub" % bucket]
    assert wcsfs.ls("%s/a.txt" % bucket, detail=False) == ["%s/a.txt" % bucket]
    assert {"name": bucket, "size": 0, "type": "directory"} in wcsfs.ls("")
    with pytest.raises(FileNotFoundError):
        wcsfs.ls("%s/nothing" % bucket)


def test_listings_are_cached_until_a_write_through_the_filesystem(wcsfs, bucket, tree, emulator):
    wcsfs.ls("%s/dir" % bucket)
    before = emulator.counters.get("mgr", 0)
    wcsfs.ls("%s/dir" % bucket)
    assert wcsfs.info("%s/dir/b.txt" % bucket)["size"] == 2
    assert emulator.counters.get("mgr", 0) == before  # all from the cache
    wcsfs.pipe_file("%s/dir/new.txt" % bucket, b"new")
    assert "%s/dir/new.txt" % bucket in wcsfs.ls("%s/dir" % bucket, detail=False)


def test_find_glob_du_walk(wcsfs, bucket, tree):
    everything = ["%s/%s" % (bucket, key) for key in sorted(tree)]
    assert wcsfs.find(bucket) == everything
    assert wcsfs.find("%s/dir" % bucket) == ["%s/dir/b.txt" % bucket, "%s/dir/sub/c.txt" % bucket,
                                               "%s/dir/sub/d.txt" % bucket]
    assert "%s/dir/sub" % bucket in wcsfs.find("%s/dir" % bucket, withdirs=True)
    assert wcsfs.find("%s/a.txt" % bucket) == ["%s/a.txt" % bucket]
    assert wcsfs.find("%s/nothing" % bucket) == []
    assert wcsfs.find("%s/dir" % bucket, maxdepth=1) == ["%s/dir/b.txt" % bucket]
    assert wcsfs.glob("wcs://%s/dir/sub/*.txt" % bucket) == ["%s/dir/sub/c.txt" % bucket, "%s/dir/sub/d.txt" % bucket]
    assert wcsfs.glob("%s/**/c.txt" % bucket) == ["%s/dir/sub/c.txt" % bucket]
    assert wcsfs.glob("%s/dir*" % bucket) == ["%s/dir" % bucket, "%s/dirx.txt" % bucket]
    assert wcsfs.du(bucket) == sum(len(v) for v in tree.values())
    assert wcsfs.du("%s/dir" % bucket, total=False) == {"%s/dir/b.txt" % bucket: 2, "%s/dir/sub/c.txt" % bucket: 3,
                                                        "%s/dir/sub/d.txt" % bucket: 4}
    walked = {root: sorted(files) for root, _, files in wcsfs.walk("%s/dir" % bucket)}
    assert walked == {"%s/dir" % bucket: ["b.txt"], "%s/dir/sub" % bucket: ["c.txt", "d.txt"]}


def test_ukey_checksum_and_modified_come_from_the_object(wcsfs, bucket, tree):
    path = "%s/dir/sub/c.txt" % bucket
    etag = etag_stream(io.BytesIO(b"ccc"))
    assert wcsfs.ukey(path) == etag
    assert wcsfs.checksum(path) == int.from_bytes(urlsafe_base64_decode(etag), "big")
    modified = wcsfs.modified(path)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - modified).total_seconds()) < 120
    with pytest.raises(IsADirectoryError):
        wcsfs.ukey("%s/dir" % bucket)


def test_directories_are_pseudo(wcsfs, bucket):
    wcsfs.mkdir("%s/empty/dir" % bucket)
    wcsfs.makedirs("%s/empty/dir" % bucket, exist_ok=True)
    assert not wcsfs.exists("%s/empty" % bucket)  # no empty directories on WCS
    with pytest.raises(NotImplementedError):
        wcsfs.mkdir("no-such-bucket-to-make")
    wcsfs.pipe_file("%s/full/x" % bucket, b"x")
    with pytest.raises(OSError):
        wcsfs.rmdir("%s/full" % bucket)
    with pytest.raises(NotADirectoryError):
        wcsfs.rmdir("%s/full/x" % bucket)
    wcsfs.rmdir("%s/empty" % bucket)  # an empty directory does not exist: nothing to do


# -- changes on the service ---------------------------------------------------------------------------


def test_cp_and_mv_are_server_side(wcsfs, bucket, tree, emulator):
    before = emulator.counters
    wcsfs.cp("%s/dir/b.txt" % bucket, "%s/copy.txt" % bucket)
    wcsfs.mv("%s/a.txt" % bucket, "%s/dir/sub/" % bucket)
    wcsfs.mv("%s/dirx.txt" % bucket, "%s/moved.txt" % bucket)
    after = emulator.counters
    assert after.get("download", 0) == before.get("download", 0)  # no byte came through here
    assert after.get("upload", 0) == before.get("upload", 0) and after.get("mkblk", 0) == before.get("mkblk", 0)
    assert wcsfs.cat_file("%s/copy.txt" % bucket) == b"bb"
    assert wcsfs.cat_file("%s/dir/sub/a.txt" % bucket) == b"a" and not wcsfs.exists("%s/a.txt" % bucket)
    assert wcsfs.cat_file("%s/moved.txt" % bucket) == b"x" and not wcsfs.exists("%s/dirx.txt" % bucket)
    wcsfs.mv("%s/dir" % bucket, "%s/renamed" % bucket, recursive=True)
    assert wcsfs.find("%s/renamed" % bucket) == ["%s/renamed/%s" % (bucket, k)
                                                 for k in ("b.txt", "sub/a.txt", "sub/c.txt", "sub/d.txt")]
    assert not wcsfs.exists("%s/dir" % bucket)
    with pytest.raises(FileNotFoundError):
        wcsfs.cp_file("%s/nothing" % bucket, "%s/x" % bucket)


def test_rm_of_many_keys_deletes_them_in_parallel(wcsfs, bucket, emulator):
    for i in range(30):
        wcsfs.pipe_file("%s/logs/%02d.log" % (bucket, i), b"%d" % i)
    wcsfs.pipe_file("%s/keep.txt" % bucket, b"keep")
    before = emulator.counters.get("mgr", 0)
    wcsfs.rm("%s/logs" % bucket, recursive=True)
    assert wcsfs.find(bucket) == ["%s/keep.txt" % bucket]
    assert emulator.counters.get("mgr", 0) - before < 40  # the listing and one delete per key
    wcsfs.rm_file("%s/keep.txt" % bucket)
    with pytest.raises(FileNotFoundError):
        wcsfs.rm_file("%s/keep.txt" % bucket)
    with pytest.raises(FileNotFoundError):
        wcsfs.rm("%s/nothing" % bucket)


# -- configuration ------------------------------------------------------------------------------------


def test_the_entry_point_needs_no_import(storage_options, bucket, wcsfs):
    wcsfs.pipe_file("%s/ep.txt" % bucket, b"entry point")
    script = ("import json, sys, fsspec\n"
              "assert 'wcs.fs' not in sys.modules\n"
              "with fsspec.open('wcs://%s/ep.txt', 'rb', **json.loads(sys.argv[1])) as fp:\n"
              "    sys.stdout.write(fp.read().decode())\n" % bucket)
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(storage_options)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "entry point"
    assert fsspec.get_filesystem_class("wcs") is WcsFileSystem


def test_options_a_config_file_a_config_object_and_a_dict(emulator, tmp_path, storage_options):
    path = emulator.write_config(str(tmp_path / "wcscfg"))
    from_file = WcsFileSystem(config=path, skip_instance_cache=True, block_size=8 << 20)
    assert from_file.config.put_url == emulator.url and from_file.config.block_size == 8 << 20
    from_object = WcsFileSystem(config=Config(path))
    assert from_object.config.secret_key == emulator.secret_key
    other = Config(path)
    other.secret_key = "another secret"
    assert WcsFileSystem(config=other).config.secret_key == "another secret"  # not the cached instance above
    assert WcsFileSystem(config=Config(path)) is WcsFileSystem(config=Config(path))
    whole = WcsFileSystem(config={"access_key": "k", "secret_key": "s"}, skip_instance_cache=True)
    assert whole.config.put_url == "" and whole.config.access_key == "k"
    with pytest.raises(InvalidArgument):
        WcsFileSystem(skip_instance_cache=True, acces_key="typo")
    with pytest.raises(InvalidArgument):
        WcsFileSystem(skip_instance_cache=True, block_size=1000)


def test_a_copy_carries_settings_not_connections(wcsfs, bucket):
    wcsfs.pipe_file("%s/s.txt" % bucket, b"shipped")
    client = wcsfs.client
    copy = pickle.loads(pickle.dumps(wcsfs))
    assert copy is not wcsfs and copy._client is None
    assert copy.config == wcsfs.config
    assert copy.cat_file("%s/s.txt" % bucket) == b"shipped"
    assert copy.client is not client


def test_a_forked_process_builds_its_own_client(wcsfs, bucket, monkeypatch):
    wcsfs.pipe_file("%s/f.txt" % bucket, b"forked")
    parent = wcsfs.client
    monkeypatch.setattr(os, "getpid", lambda: -12345)  # what a child after fork() sees
    child = wcsfs.client
    assert child is not parent and wcsfs.client is child
    assert wcsfs.cat_file("%s/f.txt" % bucket) == b"forked"
    child.close()


def test_a_spawned_process_reads_with_the_shipped_filesystem(wcsfs, bucket):
    wcsfs.pipe_file("%s/w.txt" % bucket, b"worker")
    script = ("import pickle, sys\n"
              "fs = pickle.loads(sys.stdin.buffer.read())\n"
              "sys.stdout.write(fs.cat_file('%s/w.txt').decode())\n" % bucket)
    proc = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(wcsfs), capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"worker"
