"""What a resumed multipart upload tells: a note when there is nothing to resume, and how much is already stored."""

import os

import pytest

from wcs.commons.util import etag


@pytest.fixture
def c(wcscmd, cfgfile):
    return lambda *argv: wcscmd("-c", cfgfile, *argv)


def test_upload_id_without_a_record_says_it_starts_a_new_upload(c, bucket, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(5 * 1024 * 1024))
    run = c("multiput", "wcs://%s/f.bin" % bucket, str(path), "--upload-id", "myOwnId42")
    assert run.status == 0, run.err
    assert run.err_lines == [
        "wcscmd: upload id: myOwnId42",
        "wcscmd: note: no record for upload id myOwnId42 in %s: starting a new upload" % (tmp_path / "records")]
    assert run.json["body"]["hash"] == etag(str(path))


def _interrupted_after_first_block(c, bucket, path, monkeypatch):
    from wcs.services import blocksteps

    original = blocksteps.BlockSteps.send_block

    def stop_at_the_second_block(self, file_path, block, *args):
        if block.index > 0:
            raise KeyboardInterrupt
        return original(self, file_path, block, *args)

    monkeypatch.setattr(blocksteps.BlockSteps, "send_block", stop_at_the_second_block)
    run = c("multiput", "wcs://%s/r.bin" % bucket, path, "--concurrency", "0")
    monkeypatch.undo()
    assert run.status == 130, run.err
    return run.err_lines[0].split()[-1]


def test_resume_says_how_many_blocks_are_already_uploaded(wcscmd, cfgfile, bucket, tmp_path, monkeypatch):
    path = tmp_path / "r.bin"
    path.write_bytes(os.urandom(9 * 1024 * 1024))
    upload_id = _interrupted_after_first_block(lambda *a: wcscmd("-c", cfgfile, *a), bucket, str(path), monkeypatch)
    run = wcscmd("-c", cfgfile, "multiput", "wcs://%s/r.bin" % bucket, str(path), "--upload-id", upload_id)
    assert run.status == 0, run.err
    assert run.err_lines == ["wcscmd: upload id: %s" % upload_id,
                             "wcscmd: resuming: 1 of 3 blocks already uploaded"]
    assert run.json["body"]["hash"] == etag(str(path))


def test_subscribers_hear_on_resumed(client, bucket, tmp_path):
    from wcs.services import blocksteps

    path = tmp_path / "s.bin"
    path.write_bytes(os.urandom(9 * 1024 * 1024))
    client.cfg.concurrency = 0
    original = blocksteps.BlockSteps.send_block
    calls = []

    class Listener:  # only the hook it needs
        def on_resumed(self, transfer, blocks_done, blocks_total):
            calls.append((transfer.key, blocks_done, blocks_total))

    def failing_second(self, file_path, block, *args):
        if block.index == 1:
            raise KeyboardInterrupt
        return original(self, file_path, block, *args)

    blocksteps.BlockSteps.send_block = failing_second
    try:
        with pytest.raises(KeyboardInterrupt):
            client.multipart_upload(str(path), bucket, "s.bin", upload_id="sub1", subscribers=[Listener()])
    finally:
        blocksteps.BlockSteps.send_block = original
    assert calls == []  # a fresh upload is not a resume
    res = client.multipart_upload(str(path), bucket, "s.bin", upload_id="sub1", subscribers=[Listener()])
    assert res.ok and calls == [("s.bin", 1, 3)]
