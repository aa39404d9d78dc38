"""A file of an upload sync replaced by a FIFO between the walk and its transfer (issue 21, item 11):
refused and reported, never waited on, never stored as an empty object."""

import os
import threading

import pytest

from wcs.services.tree import Remote, TreeObserver

WAIT = 20  # seconds; the fixed code answers at once, the old one waits for a writer forever


class SwapOnFirstAction(TreeObserver):
    """When the first file is handed out, replaces ``victim`` (already walked) with a FIFO."""

    def __init__(self, victim):
        self.victim = victim
        self.swapped = False
        self.errors = []

    def on_action(self, action):
        if not self.swapped:
            self.swapped = True
            os.unlink(self.victim)
            os.mkfifo(self.victim)

    def on_error(self, where, message):
        self.errors.append((where, message))


def _run_unwedged(call, fifo):
    """``call()`` in a thread; if it is still running after WAIT seconds, release it by writing to
    ``fifo`` (an open for writing and a close: the reader sees an empty file) and fail."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(WAIT)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY))
        thread.join(WAIT)
        pytest.fail("the sync waited on the FIFO until something wrote to it")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.parametrize("remote_copy", [False, True], ids=["new file", "compared by hash"])
def test_a_file_swapped_for_a_fifo_is_refused_not_waited_on(client, emulator, bucket, tmp_path, remote_copy):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"first")
    (src / "b.bin").write_bytes(b"the real content")
    if remote_copy:  # same size remotely: the sync must read the file to compare etags
        other = tmp_path / "other"
        other.write_bytes(b"an older content")
        assert client.simple_upload(str(other), bucket, "b.bin").ok
    before = {info.key: info.hash for info in emulator.store.keys_under(bucket, "")}
    observer = SwapOnFirstAction(str(src / "b.bin"))
    summary = _run_unwedged(lambda: client.sync(str(src), Remote(bucket), hash_cache=None, observer=observer),
                            str(src / "b.bin"))
    assert observer.swapped
    assert summary.failed == 1 and summary.transferred_files == 1
    assert [where for where, _ in observer.errors] == ["b.bin"]
    assert "not a regular file" in observer.errors[0][1]
    stored = {info.key: info.hash for info in emulator.store.keys_under(bucket, "")}
    assert stored.get("b.bin") == before.get("b.bin")  # nothing stored for it, no empty object


def test_put_of_a_fifo_path_given_as_a_file_is_refused(client, bucket, tmp_path):
    from wcs.commons.errors import LocalFileError

    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    for upload in (client.simple_upload, client.multipart_upload):
        with pytest.raises(LocalFileError, match="not a regular file"):
            _run_unwedged(lambda upload=upload: upload(fifo, bucket, "k"), fifo)
