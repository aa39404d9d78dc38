"""Staging folders of downloads: made exclusively, recognised only by their mark, shared while in use,
and temporary names that fit whatever the length of the target's name (issue 21, items 2, 3, 13)."""

import os
import threading

import pytest

from wcs.commons import fsutil, staging
from wcs.commons.staging import RESUMABLE, TEMPORARY, Staging, StagingPool, kind_of


def test_a_staging_folder_is_private_marked_and_removed_whole(tmp_path):
    made = Staging.create(str(tmp_path))
    assert staging.NAME_RE.match(os.path.basename(made.path))
    assert os.stat(made.path).st_mode & 0o777 == 0o700
    assert kind_of(made.path) == TEMPORARY
    fd, path = made.new_temporary_file()
    os.close(fd)
    with pytest.raises(FileExistsError):
        made.new_file(os.path.basename(path))
    os.symlink(str(tmp_path / "outside"), made.file("link"))
    with pytest.raises(OSError):
        made.new_file("link")  # never created through a symlink
    assert not (tmp_path / "outside").exists()
    made.remove()
    assert os.listdir(str(tmp_path)) == []


def test_only_the_mark_of_the_folder_itself_counts(tmp_path):
    assert kind_of(str(tmp_path / ".wcs-tmp-0123456789abcdef01234567")) is None  # missing
    plain = tmp_path / ".wcs-tmp-0123456789abcdef01234567"
    plain.mkdir()
    assert kind_of(str(plain)) is None  # a name is not a mark
    (plain / staging.MARK).write_text("wcs-staging 1:2")
    assert kind_of(str(plain)) is None  # a regular file is not one (a key could make it)
    other = Staging.create(str(tmp_path))
    os.unlink(str(plain / staging.MARK))
    os.symlink(os.readlink(other.file(staging.MARK)), str(plain / staging.MARK))
    assert kind_of(str(plain)) is None  # another folder's mark (a copy keeps the text, not the inode)
    link = tmp_path / ".wcs-tmp-fedcba9876543210fedcba98"
    os.symlink(other.path, str(link))
    assert kind_of(str(link)) is None  # a symlink to a staging folder is not one
    assert kind_of(other.path) == TEMPORARY
    os.chmod(other.path, 0o770)
    assert kind_of(other.path) is None  # others may write in it: not trusted
    os.chmod(other.path, 0o700)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(other.path, 12345, -1)
        assert kind_of(other.path) is None  # another user's folder, whatever its mark


def test_the_resumable_folder_is_found_again_or_replaced_by_a_temporary_one(tmp_path):
    target = str(tmp_path / ("n" * 255))  # any name length: the folder's name is a digest
    first = Staging.for_target(target)
    assert (first.kind, first.reused) == (RESUMABLE, False) and len(os.path.basename(first.path)) < 40
    again = Staging.for_target(target)
    assert (again.path, again.reused) == (first.path, True)
    first.remove()
    with open(first.path, "wb") as fp:  # the name taken by a user's file (a key named so)
        fp.write(b"user data")
    fallback = Staging.for_target(target)
    assert fallback.kind == TEMPORARY and fallback.path != first.path
    with open(first.path, "rb") as fp:
        assert fp.read() == b"user data"


def test_the_pool_shares_a_folder_while_downloads_run_and_removes_it_after_the_last(tmp_path):
    pool = StagingPool()
    with pool.folder(str(tmp_path)) as one:
        with pool.folder(str(tmp_path)) as two:
            assert one is two
        assert os.path.isdir(one.path)
    assert os.listdir(str(tmp_path)) == []
    barrier = threading.Barrier(8)
    seen = []

    def download():
        with pool.folder(str(tmp_path)) as folder:
            fd, path = folder.new_temporary_file()
            os.close(fd)
            seen.append(path)
            barrier.wait()

    threads = [threading.Thread(target=download) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 8 and len({os.path.dirname(p) for p in seen}) == 1
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("length", [200, 240, 255])
def test_atomic_write_of_a_name_as_long_as_a_file_name_may_be(tmp_path, length):
    path = tmp_path / ("é" * (length // 2) + "x" * (length % 2))
    assert len(os.fsencode(path.name)) == length
    with fsutil.atomic_write(str(path)) as fp:
        fp.write("complete")
    assert path.read_text() == "complete" and os.listdir(str(tmp_path)) == [path.name]
