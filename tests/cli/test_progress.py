"""The multiput progress bar moves as bytes are sent: many small steps per chunk, not one per chunk."""

import io
import os

import pytest

from wcs.cli.wcscmd import main
from wcs.services.bodies import SLICE

MiB = 1024 * 1024


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so the bar is drawn."""

    def isatty(self):
        return True


def test_multiput_bar_gets_progress_in_slices_smaller_than_a_chunk(cfgfile, bucket, tmp_path, monkeypatch):
    from wcs.cli import progress

    deltas = []
    update = progress.Progress.update

    def recorded(self, delta):
        deltas.append(delta)
        update(self, delta)

    monkeypatch.setattr(progress.Progress, "update", recorded)
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(9 * MiB))
    out, err = io.StringIO(), _Terminal()
    status = main(["-c", cfgfile, "multiput", "wcs://%s/big.bin" % bucket, str(path), "--concurrency", "2"],
                  stdout=out, stderr=err, environ={})
    assert status == 0, err.getvalue()
    chunk = 4 * MiB  # bput_size: one chunk per 4 MiB block
    assert sum(deltas) == 9 * MiB
    assert max(deltas) <= SLICE < chunk
    assert len(deltas) >= 9 * MiB // SLICE
    assert "big.bin" in err.getvalue()  # the bar was drawn on the terminal


def test_sdk_progress_of_one_chunk_comes_in_slices(client, bucket, tmp_path):
    path = tmp_path / "one.bin"
    path.write_bytes(os.urandom(4 * MiB))
    deltas = []
    res = client.multipart_upload(str(path), bucket, "one.bin", progress=deltas.append)
    assert res.ok
    assert sum(deltas) == 4 * MiB and len(deltas) == 4 * MiB // SLICE and max(deltas) == SLICE


class _Stop(Exception):
    pass


def test_a_resumed_ranged_download_does_not_count_the_parts_on_disk_as_speed(config, bucket, tmp_path):
    from wcs.cli.progress import Progress
    from wcs.services.client import Client

    config.update(download_threshold=8 * MiB, download_part_size=4 * MiB, concurrency=1)
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(3 * 4 * MiB))
    target = str(tmp_path / "copy.bin")
    with Client(config) as client:
        assert client.multipart_upload(str(path), bucket, "big.bin").ok
        got = [0]

        def stop_in_the_second_part(delta):
            got[0] += delta
            if got[0] > 5 * MiB:
                raise _Stop()

        with pytest.raises(_Stop):
            client.download_file(bucket, "big.bin", target, progress=stop_in_the_second_part)
        with Progress(None, "copy.bin", enabled=True, stream=_Terminal()) as bar:
            assert client.download_file(bucket, "big.bin", target, subscribers=bar.subscribers()).ok
            meter = bar.meter
    assert meter.total == meter.done == 12 * MiB
    assert meter.moved == 8 * MiB  # the first part was on disk: done, but no speed


@pytest.mark.parametrize("quiet", [True, False])
def test_a_sync_that_draws_no_line_loads_no_tqdm_and_no_mime_table(cfgfile, bucket, tmp_path, quiet):
    # tqdm costs a start-up more than comparing thousands of unchanged files: only a drawn line needs it.
    import subprocess
    import sys

    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    args = ["-c", cfgfile, "sync", str(folder), "wcs://%s/t/" % bucket] + (["-q"] if quiet else [])
    code = ("import sys; from wcs.cli.wcscmd import main; from wcs.cli.commands import upload_options; "
            "status = main(%r); sys.stderr.write(repr((status, 'tqdm' in sys.modules, "
            "upload_options._table.cache_info().currsize)))" % args)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    for _ in range(2):  # an upload, then a no-op
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, env=env)
        assert proc.stderr.splitlines()[-1] == "(0, False, 0)", proc.stderr
