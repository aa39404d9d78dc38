"""The local walk: key order equal to sorting the whole relative paths, what is skipped, identities."""

import os
import random

import pytest

from wcs.commons.errors import LocalFileError
from wcs.commons.staging import Staging
from wcs.services.tree.localtree import LocalTree, check_local_dir

TRICKY = ["a", "a.txt", "a-b", "a0", "a b", "A", "é", "日本語", "!x", " lead", "z~", "a\u00a0b", "emoji😀"]


def build(root, rels):
    for rel in rels:
        path = os.path.join(str(root), *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fp:
            fp.write(rel.encode("utf-8"))


def walk(root, **kwargs):
    notes = []
    tree = LocalTree(str(root), on_note=lambda where, kind, msg: notes.append((os.path.basename(where), kind)),
                     **kwargs)
    return [f.rel for f in tree], notes, tree


def test_order_is_the_order_of_whole_keys_as_the_service_lists_them(tmp_path):
    # Folders whose names sort around '/' (0x2F): '-', '.', ' ', '!' sort before it, '0' and letters after.
    rels = []
    for top in TRICKY:
        rels.append(top + "/inner")
        rels.append(top + "x")
        rels.append(top + "/deeper/f")
    rels += ["ab/c", "a.b/c", "a-/c"]
    build(tmp_path, rels)
    found, _, tree = walk(tmp_path)
    assert found == sorted(rels)
    # code point order of str is the byte order of their UTF-8 encodings (the emulator's sqlite order)
    assert found == sorted(rels, key=lambda r: r.encode("utf-8"))
    assert tree.count == len(rels) and tree.complete


def test_random_trees_walk_in_sorted_order(tmp_path):
    rng = random.Random(5)
    alphabet = ["a", "b", "-", ".", "0", "é", " ", "_", "Z"]
    rels = set()
    while len(rels) < 300:
        depth = rng.randint(1, 4)
        parts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3))) for _ in range(depth)]
        if any(p in (".", "..") for p in parts):
            continue
        rels.add("/".join(parts))
    # a name cannot be both a file and a folder: keep the files that are no folder's prefix
    rels = {r for r in rels if not any(o.startswith(r + "/") for o in rels)}
    build(tmp_path, sorted(rels))
    assert walk(tmp_path)[0] == sorted(rels)
    # What the planner takes: (rel, file) pairs, the same files in the same order.
    pairs = list(LocalTree(str(tmp_path)).entries())
    assert [rel for rel, _ in pairs] == sorted(rels) and all(f.rel == rel for rel, f in pairs)


def test_symlinks_fifos_and_empty_folders(tmp_path):
    build(tmp_path, ["real/f.txt", "top.txt"])
    os.makedirs(str(tmp_path / "empty" / "deeper"))
    os.symlink("top.txt", str(tmp_path / "link.txt"))
    os.symlink("real", str(tmp_path / "linkdir"))
    os.symlink("missing", str(tmp_path / "dangling"))
    if hasattr(os, "mkfifo"):
        os.mkfifo(str(tmp_path / "pipe"))
    found, notes, _ = walk(tmp_path)
    assert found == ["real/f.txt", "top.txt"]
    kinds = dict(notes)
    assert kinds["link.txt"] == "symlink" and kinds["linkdir"] == "symlink" and kinds["dangling"] == "symlink"
    if hasattr(os, "mkfifo"):
        assert kinds["pipe"] == "special"

    found, notes, _ = walk(tmp_path, follow_symlinks=True)
    assert found == ["link.txt", "linkdir/f.txt", "real/f.txt", "top.txt"]
    assert dict(notes)["dangling"] == "broken-symlink"


def test_symlink_loops_are_not_followed_forever(tmp_path):
    build(tmp_path, ["d/f"])
    os.symlink("..", str(tmp_path / "d" / "up"))
    found, notes, _ = walk(tmp_path, follow_symlinks=True)
    assert found == ["d/f"]
    assert ("up", "symlink-loop") in notes


def test_only_marked_staging_folders_are_left_out_and_look_alikes_are_user_data(tmp_path):
    look_alikes = [".f.bin.0123456789ab.part", ".big.wcs-download", ".big.wcs-download.json", ".x.0123456789ab.tmp",
                   ".wcs-tmp-0123456789abcdef01234567/data", ".wcs-dl-0123456789abcdef01234567/partial"]
    build(tmp_path, ["f.bin", ".hidden"] + look_alikes)
    temporary = Staging.create(str(tmp_path))
    resumable = Staging.for_target(str(tmp_path / "big.bin"))
    for staged in (temporary, resumable):
        os.close(staged.new_file("data"))
    found, _, tree = walk(tmp_path)
    assert found == sorted(["f.bin", ".hidden"] + look_alikes)  # the unmarked ones are the user's
    assert tree.abandoned == [temporary.path]  # the resumable one is kept for the next run
    # A copy of a staging folder is not this program's: its mark names another inode.
    os.rename(temporary.path, str(tmp_path / "moved"))
    os.mkdir(temporary.path)
    os.symlink(os.readlink(str(tmp_path / "moved" / ".wcs-staging")), temporary.path + "/.wcs-staging")
    with open(temporary.path + "/x", "wb") as fp:
        fp.write(b"x")
    assert os.path.basename(temporary.path) + "/x" in walk(tmp_path)[0]


def test_deep_trees_need_no_recursion(tmp_path):
    rel = "/".join(["d"] * 600) + "/leaf"
    path = os.path.join(str(tmp_path), *rel.split("/"))
    os.makedirs(os.path.dirname(path))
    open(path, "wb").close()
    assert walk(tmp_path)[0] == [rel]


def test_identity_and_entry_fields(tmp_path):
    build(tmp_path, ["x"])
    (f,) = list(LocalTree(str(tmp_path)))
    st = os.stat(str(tmp_path / "x"))
    assert (f.rel, f.size, f.mtime_ns, f.dev, f.ino) == ("x", 1, st.st_mtime_ns, st.st_dev, st.st_ino)
    assert f.identity == (st.st_dev, st.st_ino, 1, st.st_mtime_ns, st.st_ctime_ns)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_folder_is_an_error_and_the_walk_incomplete(tmp_path):
    build(tmp_path, ["ok/f", "locked/g"])
    os.chmod(str(tmp_path / "locked"), 0)
    try:
        errors = []
        tree = LocalTree(str(tmp_path), on_error=lambda where, msg: errors.append(where))
        assert [f.rel for f in tree] == ["ok/f"]
        assert not tree.complete and errors
    finally:
        os.chmod(str(tmp_path / "locked"), 0o755)


def test_check_local_dir(tmp_path):
    build(tmp_path, ["file"])
    assert check_local_dir(str(tmp_path)) == str(tmp_path)
    with pytest.raises(LocalFileError, match="no such directory"):
        check_local_dir(str(tmp_path / "missing"))
    with pytest.raises(LocalFileError, match="not a directory"):
        check_local_dir(str(tmp_path / "file"))
