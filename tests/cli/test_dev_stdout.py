"""``/dev/stdout`` and other descriptors as output paths (issue 21, item 6): written through, never
replaced by a new file. Real processes with real redirections: ``>> log`` is a file opened with
``O_APPEND``, ``| cat`` a pipe."""

import json
import os
import subprocess
import sys

import pytest

from wcs.commons import fsutil
from wcs.services.client import Client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EARLIER = b"an earlier line of the log\n"
DATA = b"the object's bytes\n" * 100


def wcscmd(*argv, stdout, cwd):
    """``bin/wcscmd`` (this checkout's package) as a process writing its stdout to ``stdout``."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "bin", "wcscmd"), *argv], cwd=str(cwd),
                          stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, timeout=60)


@pytest.fixture
def stored(client, bucket, tmp_path):
    path = tmp_path / "object.txt"
    path.write_bytes(DATA)
    assert client.simple_upload(str(path), bucket, "dir/object.txt").ok
    return "wcs://%s/dir/object.txt" % bucket


def _log(tmp_path):
    log = tmp_path / "log.txt"
    log.write_bytes(EARLIER)
    return log


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "link"])
def test_get_into_dev_stdout_appends_to_a_redirected_log(cfgfile, stored, tmp_path, name):
    log = _log(tmp_path)
    if name == "link":
        os.symlink("/dev/stdout", str(tmp_path / "link"))
    with open(str(log), "ab") as out:  # the shell's `>> log.txt`
        proc = wcscmd("-c", cfgfile, "get", stored, name, stdout=out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert log.read_bytes() == EARLIER + DATA  # nothing lost, the object after it, no JSON in the data
    assert os.path.islink(str(tmp_path / "link")) or name != "link"


def test_get_into_dev_stdout_through_a_pipe(cfgfile, stored, tmp_path):
    proc = wcscmd("-c", cfgfile, "get", stored, "/dev/stdout", stdout=subprocess.PIPE, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == DATA


@pytest.mark.parametrize("command", ["list", "listall"])
def test_listings_into_dev_stdout_append_to_a_redirected_log(cfgfile, stored, bucket, tmp_path, command):
    log = _log(tmp_path)
    with open(str(log), "ab") as out:
        proc = wcscmd("-c", cfgfile, command, "wcs://%s" % bucket, "/dev/stdout", stdout=out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    content = log.read_bytes()
    assert content.startswith(EARLIER)
    listing = json.loads(content[len(EARLIER):].decode("utf-8"))
    items = listing["items"] if command == "list" else listing
    assert [item["key"] for item in items] == ["dir/object.txt"]


def test_the_library_writes_through_any_descriptor(client: Client, bucket, stored, tmp_path):
    log = _log(tmp_path)
    fd = os.open(str(log), os.O_WRONLY | os.O_APPEND)
    try:
        result = client.download_file(bucket, "dir/object.txt", "/dev/fd/%d" % fd)
        assert result.ok
        with fsutil.atomic_write("/proc/self/fd/%d" % fd) as stream:
            stream.write("a listing\n")
    finally:
        os.close(fd)
    assert log.read_bytes() == EARLIER + DATA + b"a listing\n"
    read_end, write_end = os.pipe()
    try:
        assert client.download_file(bucket, "dir/object.txt", "/dev/fd/%d" % write_end).ok
        os.close(write_end)
        assert os.read(read_end, 10 * len(DATA)) == DATA
    finally:
        os.close(read_end)


def test_descriptor_paths_are_recognised(tmp_path):
    assert fsutil.descriptor_of("/dev/stdout") == 1 and fsutil.descriptor_of("/dev/stderr") == 2
    fd = os.open(str(tmp_path), os.O_RDONLY)
    try:
        assert fsutil.descriptor_of("/proc/self/fd/%d" % fd) == fd and fsutil.descriptor_of("/dev/fd/%d" % fd) == fd
    finally:
        os.close(fd)
    assert fsutil.descriptor_of("/dev/fd/%d" % fd) is None  # closed: nothing to write through
    os.symlink("/dev/stdout", str(tmp_path / "out"))
    os.symlink("out", str(tmp_path / "out2"))
    assert fsutil.descriptor_of(str(tmp_path / "out2")) == 1
    (tmp_path / "plain").write_bytes(b"")
    os.symlink(str(tmp_path / "plain"), str(tmp_path / "to-plain"))
    for path in ("plain", "to-plain", "missing"):
        assert fsutil.descriptor_of(str(tmp_path / path)) is None
    assert fsutil.is_special("/dev/stdout") and not fsutil.is_special(str(tmp_path / "plain"))
