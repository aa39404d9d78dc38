"""Fixtures of the ``wcs://`` tests: storage options pointing at the emulator, and a filesystem on them."""

import pytest

fsspec = pytest.importorskip("fsspec")


@pytest.fixture
def storage_options(emulator, tmp_path):
    """What a user passes as ``storage_options``: the keys and the emulator's three endpoints."""
    return {"access_key": emulator.access_key, "secret_key": emulator.secret_key, "put_url": emulator.url,
            "mgr_url": emulator.url, "download_url": emulator.url + "/{bucket}",
            "tmp_record_folder": str(tmp_path / "records")}


@pytest.fixture
def wcsfs(storage_options):
    """A fresh ``WcsFileSystem`` on the emulator (not shared through fsspec's instance cache)."""
    fs = fsspec.filesystem("wcs", skip_instance_cache=True, **storage_options)
    yield fs
    if fs._client is not None:
        fs._client.close()
