"""Downloads under connections cut mid-body (issue 14.5): every file right, only the rest of a part refetched."""

import os

import pytest

from tests.helpers.files import write_file
from wcs.commons.http import Backoff, HttpClient
from wcs.commons.util import etag
from wcs.services.client import Client

MiB = 1024 * 1024
SEED = int(os.environ.get("WCS_TEST_FAULT_SEED", "11"))


@pytest.mark.slow
@pytest.mark.parametrize("ranged", [True, False], ids=["parallel-ranges", "one-stream"])
def test_64_mib_downloads_finish_correct_with_20_percent_of_bodies_cut(config, emulator, bucket, tmp_path, ranged):
    path = write_file(tmp_path / "big.bin", 64 * MiB, seed=9)
    config.update(connection_retries=8, concurrency=4, download_part_size=8 * MiB,
                  download_threshold=8 * MiB if ranged else 1 << 40)
    http = HttpClient(timeout=30, retries=8, pool_size=8, backoff=Backoff(base=0.001, cap=0.01))
    with Client(config, http=http) as client:
        assert client.multipart_upload(path, bucket, "big").ok
        emulator.reset_counters()
        emulator.set_faults("download:cut:0.2", seed=SEED)
        try:
            rounds = 3 if ranged else 8  # enough requests for the 20 % to be drawn whatever the seed
            for attempt in range(rounds):
                target = tmp_path / ("out-%d.bin" % attempt)
                res = client.download_file(bucket, "big", target)
                assert res.ok, res
                assert etag(str(target)) == etag(str(path))
                os.unlink(target)
        finally:
            emulator.set_faults(None)
    counters = emulator.counters
    assert counters["faults_injected"] > 0
    # A cut body is continued, not restarted: requests stay close to one per part plus one per cut.
    parts = 8 if ranged else 1
    assert counters["download"] <= rounds * parts + 2 * counters["faults_injected"]
