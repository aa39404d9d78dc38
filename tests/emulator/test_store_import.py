"""``Store.put_files``: the bulk import used to seed big buckets behaves like one ``put_file`` per object."""

import os

from wcs.commons.util import EtagHasher
from wcs.emulator.state import Store


def _temp(store: Store, data: bytes):
    path = store.new_temp_path()
    with open(path, "wb") as fp:
        fp.write(data)
    hasher = EtagHasher()
    hasher.update(data)
    return path, len(data), hasher.etag()


def test_put_files_imports_replaces_and_survives_a_restart(tmp_path):
    store = Store(str(tmp_path))
    try:
        store.create_bucket("b")
        path, size, etag = _temp(store, b"old")
        old = store.put_file("b", "k1", path, size, etag, "text/plain")
        items = []
        for key, data in (("k1", b"new one"), ("k2", b"two"), ("dir/k3", b"")):
            path, size, etag = _temp(store, data)
            items.append((key, path, size, etag, "application/octet-stream"))
        assert store.put_files("b", iter(items)) == 3
        assert not os.path.exists(old.path)  # the replaced object's file is gone
        assert not os.listdir(store.tmp_dir)
        assert [info.key for info in store.under("b", "")] == ["dir/k3", "k1", "k2"]
    finally:
        store.close()
    store = Store(str(tmp_path))
    try:
        info = store.get("b", "k1")
        assert info is not None and info.fsize == 7 and info.hash == items[0][3]
        with open(info.path, "rb") as fp:
            assert fp.read() == b"new one"
    finally:
        store.close()
