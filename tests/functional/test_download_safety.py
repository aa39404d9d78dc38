"""Downloads and folder syncs against the emulator, on a real file system, where the target folder
holds what a download must not trust: planted symlinks, keys named like temporary files, very long
names, and partial files changed behind a checkpoint's back (issue 21, items 2, 3, 4 and 13)."""

import json
import os

import pytest

from tests.helpers.files import MiB, write_file
from wcs.commons.staging import NAME_RE
from wcs.commons.util import etag
from wcs.services.client import Client
from wcs.services.ranged import CHECKPOINT_NAME, PARTIAL_NAME, staging_path
from wcs.services.tree import Remote

BIG = 2 * 4 * MiB + 12345  # three 4 MiB parts


class Stop(Exception):
    pass


@pytest.fixture
def ranged(config, tmp_path):
    """Objects of 1 MiB or more come as 4 MiB ranges, one at a time (an interruption leaves whole parts)."""
    config.update(download_threshold=MiB, download_part_size=4 * MiB, concurrency=1)
    return config


@pytest.fixture
def cache(tmp_path):
    return str(tmp_path / "etags.sqlite")


def read(path):
    with open(str(path), "rb") as fp:
        return fp.read()


def files_under(root):
    return sorted(os.path.relpath(os.path.join(folder, name), str(root)).replace(os.sep, "/")
                  for folder, _, names in os.walk(str(root)) for name in names)


# -- item 2: a planted symlink named like the partial file ------------------------------------------

@pytest.mark.parametrize("how", ["get", "get -r"])
def test_a_symlink_planted_as_the_partial_file_is_not_followed(ranged, bucket, tmp_path, how):
    source = write_file(tmp_path / "big.bin", BIG, seed=1)
    victim = tmp_path / "outside.txt"
    victim.write_bytes(b"precious, outside the target folder")
    dst = tmp_path / "dst"
    dst.mkdir()
    # The names the partial file and its checkpoint had: both point out of the folder.
    os.symlink(str(victim), str(dst / ".big.bin.wcs-download"))
    os.symlink(str(victim), str(dst / ".big.bin.wcs-download.json"))
    with Client(ranged) as client:
        assert client.multipart_upload(source, bucket, "big.bin").ok
        if how == "get":
            assert client.download_file(bucket, "big.bin", str(dst / "big.bin")).ok
        else:
            assert client.download_tree(bucket, "", str(dst), hash_cache=None).ok
    assert read(victim) == b"precious, outside the target folder"
    assert not os.path.islink(str(dst / "big.bin")) and read(dst / "big.bin") == read(source)
    assert os.readlink(str(dst / ".big.bin.wcs-download")) == str(victim)  # the user's link, left alone


# -- item 3: keys named like temporary files are the user's files ------------------------------------

def test_keys_named_like_partial_files_do_not_collide_with_the_download(ranged, bucket, tmp_path, cache):
    source = write_file(tmp_path / "big.bin", BIG, seed=2)
    small = {"p/.big.bin.wcs-download": b"a key named like the partial file",
             "p/.big.bin.wcs-download.json": b'{"not": "a checkpoint"}'}
    with Client(ranged) as client:
        assert client.multipart_upload(source, bucket, "p/big.bin").ok
        for key, data in small.items():
            path = tmp_path / "small"
            path.write_bytes(data)
            assert client.simple_upload(str(path), bucket, key).ok
        dst = tmp_path / "dst"
        summary = client.download_tree(bucket, "p", str(dst), hash_cache=cache, transfers=3)
    assert summary.ok and summary.transferred_files == 3
    assert files_under(dst) == [".big.bin.wcs-download", ".big.bin.wcs-download.json", "big.bin"]
    assert read(dst / "big.bin") == read(source)
    for key, data in small.items():
        assert read(dst / key[2:]) == data


def test_a_key_named_like_a_temporary_file_survives_the_next_sync(client, bucket, tmp_path, cache):
    note = tmp_path / "note"
    note.write_bytes(b"my notes")
    assert client.simple_upload(str(note), bucket, "p/.notes.0123456789ab.tmp").ok
    dst = tmp_path / "dst"
    assert client.sync(Remote(bucket, "p"), str(dst), hash_cache=cache).transferred_files == 1
    again = client.sync(Remote(bucket, "p"), str(dst), hash_cache=cache, delete=True)
    assert again.ok and again.deleted == 0
    assert read(dst / ".notes.0123456789ab.tmp") == b"my notes"


def test_a_local_file_named_like_a_temporary_file_is_uploaded_and_kept(client, emulator, bucket, tmp_path, cache):
    src = tmp_path / "src"
    src.mkdir()
    (src / ".db.0123456789ab.part").write_bytes(b"database")
    (src / "other").write_bytes(b"other")
    assert client.sync(str(src), Remote(bucket, "p"), hash_cache=cache).transferred_files == 2
    again = client.sync(str(src), Remote(bucket, "p"), hash_cache=cache, delete=True)
    assert again.ok and again.deleted == 0
    stored = {info.key for info in emulator.store.keys_under(bucket, "p/")}
    assert stored == {"p/.db.0123456789ab.part", "p/other"}


def test_a_key_inside_a_staging_folder_is_refused_not_written_over_the_partial_file(ranged, bucket, tmp_path):
    dst = tmp_path / "dst"
    dst.mkdir()
    source = write_file(tmp_path / "big.bin", BIG, seed=3)
    staged = os.path.basename(staging_path(str(dst / "big.bin")))
    with Client(ranged) as client:
        assert client.multipart_upload(source, bucket, "big.bin").ok
        with pytest.raises(Stop):
            client.download_file(bucket, "big.bin", str(dst / "big.bin"), progress=_stop_after(4 * MiB))
        partial = read(os.path.join(staging_path(str(dst / "big.bin")), PARTIAL_NAME))
        (tmp_path / "evil").write_bytes(b"evil")
        assert client.simple_upload(str(tmp_path / "evil"), bucket, staged + "/" + PARTIAL_NAME).ok
        summary = client.download_tree(bucket, "", str(dst), hash_cache=None, transfers=1,
                                       filters=_only(staged + "/" + PARTIAL_NAME))
    assert summary.failed == 1 and summary.transferred_files == 0
    assert read(os.path.join(staging_path(str(dst / "big.bin")), PARTIAL_NAME)) == partial


def _only(rel):
    from wcs.services.tree import FilterRules

    return FilterRules.from_args([("+", rel), ("-", "**")])


# -- item 13: names as long as a file name may be -------------------------------------------------------

LONG = "l" * 236 + ".bin"  # 240 bytes


@pytest.mark.parametrize("size", [10, BIG], ids=["small", "ranged"])
def test_a_backup_of_long_names_made_with_sync_restores_with_sync(ranged, bucket, tmp_path, cache, size):
    src = tmp_path / "src"
    src.mkdir()
    write_file(src / LONG, size, seed=4)
    write_file(src / ("é" * 127), 20, seed=5)  # 254 bytes of UTF-8
    with Client(ranged) as client:
        assert client.sync(str(src), Remote(bucket, "backup"), hash_cache=cache).transferred_files == 2
        dst = tmp_path / "restore"
        summary = client.sync(Remote(bucket, "backup"), str(dst), hash_cache=cache)
        assert summary.ok and summary.transferred_files == 2, summary.errors
    assert files_under(dst) == files_under(src)
    assert etag(str(dst / LONG)) == etag(str(src / LONG))


def test_an_interrupted_download_of_a_long_name_is_finished_by_the_next_run(ranged, bucket, tmp_path):
    source = write_file(tmp_path / "big.bin", BIG, seed=6)
    target = tmp_path / LONG
    with Client(ranged) as client:
        assert client.multipart_upload(source, bucket, "big").ok
        with pytest.raises(Stop):
            client.download_file(bucket, "big", str(target), progress=_stop_after(4 * MiB))
        assert client.download_file(bucket, "big", str(target)).ok
    assert read(target) == read(source)
    assert [name for name in os.listdir(str(tmp_path)) if NAME_RE.match(name)] == []


# -- item 4: a resumed download checks the bytes on disk, not only its checkpoint ----------------------

def _stop_after(limit):
    got = [0]

    def progress(delta):
        got[0] += delta
        if got[0] > limit:
            raise Stop()

    return progress


def _interrupted(client, bucket, key, target):
    """Start a download of ``key`` into ``target`` and stop it after its first part; the checkpoint."""
    with pytest.raises(Stop):
        client.download_file(bucket, key, str(target), progress=_stop_after(5 * MiB))
    folder = staging_path(str(target))
    with open(os.path.join(folder, CHECKPOINT_NAME), encoding="utf-8") as fp:
        checkpoint = json.load(fp)
    assert checkpoint["parts"], "the first part should be recorded as finished"
    return folder, checkpoint


def test_bytes_changed_in_a_finished_part_are_fetched_again(ranged, emulator, bucket, tmp_path):
    source = write_file(tmp_path / "big.bin", BIG, seed=7)
    target = tmp_path / "out.bin"
    with Client(ranged) as client:
        assert client.multipart_upload(source, bucket, "big").ok
        folder, checkpoint = _interrupted(client, bucket, "big", target)
        with open(os.path.join(folder, PARTIAL_NAME), "r+b") as fp:
            fp.seek(1000)
            fp.write(b"XXXX")  # inside part 0, which the checkpoint lists as done
        emulator.reset_counters()
        result = client.download_file(bucket, "big", str(target))
    assert result.ok and result.body["hash"] == etag(source)
    assert etag(str(target)) == etag(source) and read(target) == read(source)
    # part 0 again, and those never fetched
    assert emulator.counters.get("download", 0) == 1 + 3 - len(checkpoint["parts"])


@pytest.mark.parametrize("digests", ["the object's", "the zeros'"])
def test_a_forged_checkpoint_over_a_file_of_zeros_is_not_renamed_into_place(ranged, bucket, tmp_path, digests):
    source = write_file(tmp_path / "big.bin", BIG, seed=8)
    target = tmp_path / "out.bin"
    with Client(ranged) as client:
        assert client.multipart_upload(source, bucket, "big").ok
        folder, checkpoint = _interrupted(client, bucket, "big", target)
        with open(os.path.join(folder, PARTIAL_NAME), "r+b") as fp:
            fp.write(bytes(BIG))
        forged = tmp_path / ("zeros" if digests == "the zeros'" else "big.bin")
        if digests == "the zeros'":
            forged.write_bytes(bytes(BIG))
        checkpoint["parts"] = {str(i): _block_sha1s(forged, i * 4 * MiB, min(BIG, (i + 1) * 4 * MiB)) for i in range(3)}
        with open(os.path.join(folder, CHECKPOINT_NAME), "w", encoding="utf-8") as fp:
            json.dump(checkpoint, fp)
        result = client.download_file(bucket, "big", str(target))
    assert result.ok and read(target) == read(source)


def _block_sha1s(path, start, end):
    import hashlib

    with open(str(path), "rb") as fp:
        fp.seek(start)
        data = fp.read(end - start)
    return [hashlib.sha1(data[i:i + 4 * MiB]).hexdigest() for i in range(0, len(data), 4 * MiB)]
