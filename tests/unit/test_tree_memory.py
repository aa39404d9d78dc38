"""The plan of a tree run is streamed: memory does not grow with the number of objects listed."""

import tracemalloc

import pytest

from wcs.commons.config import Config
from wcs.commons.result import ObjectInfo
from wcs.services.client import Client
from wcs.services.tree import Remote


@pytest.mark.slow
def test_planning_against_many_objects_keeps_memory_flat(tmp_path):
    cfg = Config(access_key="a", secret_key="b", put_url="http://127.0.0.1:9", mgr_url="http://127.0.0.1:9",
                 download_url="http://127.0.0.1:9/{bucket}")
    count = 30000

    def listing(bucket, prefix="", recursive=True):
        """The facade's listing, which the tree engine is given: ``count`` objects, produced one at a time."""
        for i in range(count):
            key = "p/%07d/object.bin" % i
            yield ObjectInfo(key=key, size=i, hash="Fx", raw={"key": key, "fsize": str(i), "hash": "Fx"})

    with Client(cfg) as client:
        client.list_entries = listing
        (tmp_path / "dst").mkdir()
        tracemalloc.start()
        try:
            summary = client.sync(Remote("b", "p"), str(tmp_path / "dst"), dry_run=True, hash_cache=None,
                                  delete=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert summary.planned_files == count
    # 30,000 listed objects of ~500 bytes each would be ~15 MB if they were kept
    assert peak < 2 * 1024 * 1024, peak
