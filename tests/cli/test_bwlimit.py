"""``--bwlimit RATE`` (and ``bwlimit`` in the config): one client-side budget for every connection of a command."""

import os
import time

import pytest

from wcs.commons.config import Config
from wcs.services.client import Client

MiB = 1024 * 1024


def test_the_client_has_one_bucket_at_the_configured_rate(wcscmd, cfgfile, tmp_path):
    with Client(Config(None, bwlimit="2M")) as client:
        assert client.http.bucket is not None and client.http.bucket.rate == 2 * MiB
    with Client(Config(None)) as client:
        assert client.http.bucket is None
    dumped = wcscmd("-c", cfgfile, "--dump-config", "--bwlimit", "1.5MiB")
    assert "# from flag --bwlimit\nbwlimit = %d\n" % int(1.5 * MiB) in dumped.out


@pytest.mark.parametrize("argv, needle", [
    (["put", "wcs://b/k", "f", "--bwlimit", "fast"], "--bwlimit"),
    (["stat", "wcs://b/k", "--bwlimit", "1M"], "--bwlimit does not apply to stat"),
])
def test_bad_or_misplaced_bwlimit_exits_2(wcscmd, argv, needle):
    run = wcscmd(*argv)
    assert run.status == 2 and needle in run.err


def _timed(wcscmd, *argv):
    started = time.monotonic()
    run = wcscmd(*argv)
    assert run.status == 0, run.err
    seconds = time.monotonic() - started
    print("%s: %.2f s" % (" ".join(argv[2:4]), seconds))
    return seconds


@pytest.mark.slow  # about 8 s of throttled transfers
def test_uploads_and_downloads_take_as_long_as_the_limit_says(wcscmd, cfgfile, bucket, tmp_path):
    data = tmp_path / "four.bin"
    data.write_bytes(os.urandom(4 * MiB))
    obj = "wcs://%s/four.bin" % bucket
    # 4 MiB at 2 MiB/s: 2 s less the first burst (a tenth of a second's worth). The floor holds on any
    # machine (a busy one is only slower); the ceiling is only there to catch a limit applied twice.
    seconds = _timed(wcscmd, "-c", cfgfile, "put", obj, str(data), "--bwlimit", "2M")
    assert 1.8 <= seconds < 30
    seconds = _timed(wcscmd, "-c", cfgfile, "get", obj, str(tmp_path / "copy.bin"), "--bwlimit", "2M")
    assert 1.8 <= seconds < 30
    assert (tmp_path / "copy.bin").read_bytes() == data.read_bytes()
    # Two blocks sent at once share the one budget: 8 MiB take 4 s, not 2.
    big = tmp_path / "eight.bin"
    big.write_bytes(os.urandom(8 * MiB))
    seconds = _timed(wcscmd, "-c", cfgfile, "multiput", "wcs://%s/eight.bin" % bucket, str(big), "--bwlimit", "2M",
                     "--concurrency", "2")
    assert 3.8 <= seconds < 60
    # The ranges of a parallel download too (two ranges of 4 MiB at once).
    with open(cfgfile, "a", encoding="utf-8") as fp:
        fp.write("download_threshold = %d\ndownload_part_size = %d\n" % (4 * MiB, 4 * MiB))
    seconds = _timed(wcscmd, "-c", cfgfile, "get", "wcs://%s/eight.bin" % bucket, str(tmp_path / "eight.copy"),
                     "--bwlimit", "2M", "--concurrency", "2")
    assert 3.8 <= seconds < 60
    assert (tmp_path / "eight.copy").read_bytes() == big.read_bytes()


@pytest.mark.slow  # about 1 s of a throttled download
def test_a_transfer_without_a_terminal_says_how_far_it_is(wcscmd, cfgfile, bucket, tmp_path):
    data = tmp_path / "two.bin"
    data.write_bytes(os.urandom(2 * MiB))
    obj = "wcs://%s/two.bin" % bucket
    assert wcscmd("-c", cfgfile, "put", obj, str(data)).status == 0
    run = wcscmd("-c", cfgfile, "get", obj, str(tmp_path / "copy.bin"), "--bwlimit", "2M", "--stats", "0.2")
    assert run.status == 0, run.err
    status = [line for line in run.err_lines if line.startswith("wcscmd: status: copy.bin: ")]
    assert len(status) >= 2 and all(" of 2.00MB, " in line for line in status)
