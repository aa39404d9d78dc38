"""The multiput progress bar moves as bytes are sent: many small steps per chunk, not one per chunk."""

import io
import os

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
