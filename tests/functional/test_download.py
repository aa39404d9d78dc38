"""Verified downloads from the emulator: hash checks, nothing partial left behind, retries."""

import os

import pytest

from tests.helpers.files import MiB
from wcs.commons.errors import IntegrityError, LocalFileError
from wcs.commons.util import etag


@pytest.fixture
def stored(client, bucket, make_file):
    path = make_file(5 * MiB + 3)
    assert client.simple_upload(path, bucket, "dir/file name.bin").code == 200
    return path


def test_download_verifies_and_renames_into_place(client, bucket, stored, tmp_path):
    target = tmp_path / "out.bin"
    deltas = []
    res = client.download(client.download_url(bucket, "dir/file name.bin"), str(target), progress=deltas.append,
                          expected_hash=etag(stored))
    assert res.code == 200 and res.ok and res.reqid
    assert res.body == {"hash": etag(stored), "fsize": 5 * MiB + 3, "path": str(target)}
    assert etag(str(target)) == etag(stored)
    assert sum(deltas) == 5 * MiB + 3
    assert sorted(os.listdir(str(tmp_path))) == sorted([os.path.basename(stored), "out.bin"])  # no .part left


def test_download_replaces_an_existing_file(client, bucket, stored, tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    assert client.download(client.download_url(bucket, "dir/file name.bin"), str(target)).code == 200
    assert etag(str(target)) == etag(stored)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_download_gets_the_mode_open_would_give(client, bucket, stored, tmp_path, umask):
    target = tmp_path / "out.bin"
    old = os.umask(umask)
    try:
        assert client.download(client.download_url(bucket, "dir/file name.bin"), str(target)).code == 200
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_download_over_an_existing_file_keeps_its_mode(client, bucket, stored, tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    assert client.download(client.download_url(bucket, "dir/file name.bin"), str(target)).code == 200
    assert etag(str(target)) == etag(stored)
    assert target.stat().st_mode & 0o777 == 0o640


def test_hash_mismatch_leaves_nothing(client, bucket, stored, tmp_path):
    target = tmp_path / "out.bin"
    deltas = []
    with pytest.raises(IntegrityError):
        client.download(client.download_url(bucket, "dir/file name.bin"), str(target), progress=deltas.append,
                        expected_hash="Fto5o-5ea0sNMlW_75VgGJCv2AcJ")
    assert not target.exists()
    assert sorted(os.listdir(str(tmp_path))) == [os.path.basename(stored)]  # no temporary file or folder left
    assert sum(deltas) == 0


def test_missing_object_is_404_and_leaves_nothing(client, bucket, tmp_path):
    target = tmp_path / "out.bin"
    res = client.download(client.download_url(bucket, "missing"), str(target))
    assert res.code == 404 and not res.ok
    assert os.listdir(str(tmp_path)) == []


def test_target_directory_must_exist(client, bucket, stored, tmp_path):
    with pytest.raises(LocalFileError):
        client.download(client.download_url(bucket, "dir/file name.bin"), str(tmp_path / "no" / "out.bin"))
    with pytest.raises(LocalFileError):
        client.download(client.download_url(bucket, "dir/file name.bin"), str(tmp_path))


def test_download_survives_injected_faults(fast_client, bucket, stored, tmp_path, faults):
    faults("download:500:0.2,download:reset:0.1", seed=5)
    for i in range(5):
        target = tmp_path / ("out-%d.bin" % i)
        res = fast_client.download(fast_client.download_url(bucket, "dir/file name.bin"), str(target))
        assert res.code == 200 and etag(str(target)) == etag(stored)


def test_unreachable_is_minus_one(config, tmp_path):
    from wcs.services.client import Client

    with Client(config.replace(connection_retries=0)) as cli:
        res = cli.download("http://127.0.0.1:9/b/k", str(tmp_path / "out"))
    assert res.code == -1 and os.listdir(str(tmp_path)) == []


def test_download_through_a_symlink_writes_its_target_and_keeps_the_link(client, bucket, stored, tmp_path):
    real = tmp_path / "real.bin"
    real.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    assert client.download(client.download_url(bucket, "dir/file name.bin"), str(link)).code == 200
    assert link.is_symlink() and etag(str(real)) == etag(stored)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_download_into_a_fifo_streams_into_it(client, bucket, stored, tmp_path):
    import hashlib
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    digest = []

    def drain():
        with open(str(fifo), "rb") as fp:
            digest.append(hashlib.sha1(fp.read()).hexdigest())

    reader = threading.Thread(target=drain)
    reader.start()
    res = client.download(client.download_url(bucket, "dir/file name.bin"), str(fifo))
    reader.join(30)
    assert res.code == 200 and res.body["fsize"] == 5 * MiB + 3
    assert stat.S_ISFIFO(os.stat(str(fifo)).st_mode), "the FIFO must not be replaced by a regular file"
    with open(stored, "rb") as fp:
        assert digest == [hashlib.sha1(fp.read()).hexdigest()]
