"""Keys to local paths: every key that could land outside the folder, or is no file name, is refused."""

import os

import pytest

from wcs.services.tree.safepath import UnsafeKey, check_target, key_segments, local_path, prepare_parent


@pytest.mark.parametrize("rel", ["../x", "a/../../b", "a/..", "/etc/x", "a//b", "./a", "a/./b", "", "a\0b",
                                 "x" * 256, "a/" + "é" * 128, "b\ud800.txt", "a/\udcff", "\udfff"])
def test_unsafe_keys_are_refused(tmp_path, rel):
    with pytest.raises(UnsafeKey):
        local_path(str(tmp_path), rel)


@pytest.mark.parametrize("rel", ["C:/x", "a\\b", "CON", "nul.txt", "a/com1", "trailing.", "space ", "q?", "a|b"])
def test_windows_names_are_refused_on_windows(rel):
    with pytest.raises(UnsafeKey):
        key_segments(rel, windows=True)
    if "\\" not in rel and ":" not in rel:
        assert key_segments(rel, windows=False) == rel.split("/")


@pytest.mark.parametrize("rel", ["a", "a/b/c.txt", "é ü/日本.txt", "..a", "a..", ".hidden", "a b/ c "])
def test_plain_keys_map_below_the_root(tmp_path, rel):
    path = local_path(str(tmp_path), rel, windows=False)
    assert path == os.path.join(str(tmp_path), *rel.split("/"))
    assert os.path.commonpath([str(tmp_path), path]) == str(tmp_path)


def test_prepare_parent_creates_folders_inside_only(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    target = local_path(str(root), "a/b/c.txt")
    prepare_parent(str(root), target)
    assert os.path.isdir(str(root / "a" / "b"))


def test_symlinked_folder_leading_out_is_not_written_through(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(str(outside), str(root / "link"))
    with pytest.raises(UnsafeKey, match="outside"):
        prepare_parent(str(root), local_path(str(root), "link/new/x"))
    assert os.listdir(str(outside)) == []  # not even an empty folder was made out there
    # a symlinked folder that stays inside is fine
    (root / "real").mkdir()
    os.symlink("real", str(root / "inner"))
    prepare_parent(str(root), local_path(str(root), "inner/sub/x"))
    assert os.path.isdir(str(root / "real" / "sub"))


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "a").write_bytes(b"x")
    with pytest.raises(UnsafeKey, match="in the way"):
        prepare_parent(str(tmp_path), local_path(str(tmp_path), "a/b"))


def test_check_target(tmp_path):
    root = str(tmp_path)
    check_target(root, os.path.join(root, "new"))
    (tmp_path / "f").write_bytes(b"x")
    check_target(root, str(tmp_path / "f"))
    (tmp_path / "d").mkdir()
    with pytest.raises(UnsafeKey, match="folder"):
        check_target(root, str(tmp_path / "d"))
    os.symlink(str(tmp_path / "f"), str(tmp_path / "inlink"))
    with pytest.raises(UnsafeKey, match="symlink"):
        check_target(root, str(tmp_path / "inlink"))
    check_target(root, str(tmp_path / "inlink"), follow_symlinks=True)
    os.symlink("/etc/passwd", str(tmp_path / "outlink"))
    with pytest.raises(UnsafeKey, match="outside"):
        check_target(root, str(tmp_path / "outlink"), follow_symlinks=True)
    if hasattr(os, "mkfifo"):
        os.mkfifo(str(tmp_path / "pipe"))
        with pytest.raises(UnsafeKey, match="regular"):
            check_target(root, str(tmp_path / "pipe"))
