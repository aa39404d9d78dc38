"""``Client.append`` against the emulator: appendable objects grow by bytes, files and streams, the length
and etag are checked after every append, refusals come back as Results, and answers lost before or after
the append was carried out are settled (emulator faults for the first, a proxy that drops answers for
the second), also with eight threads racing for the end of one object."""

import io
import random
import threading

import pytest

from tests.helpers.lossy_proxy import lossy_proxy
from wcs.commons.errors import IntegrityError, InvalidArgument
from wcs.commons.http import Backoff, HttpClient
from wcs.commons.util import etag_stream
from wcs.services.client import Client


def etag(data):
    return etag_stream(io.BytesIO(data))


class Stream(io.RawIOBase):
    """A binary stream that cannot seek (a pipe), handing out at most ``chunk`` bytes per read."""

    def __init__(self, data, chunk=7):
        super().__init__()
        self._data = io.BytesIO(data)
        self._chunk = chunk

    def readable(self):
        return True

    def read(self, size=-1):
        return self._data.read(min(self._chunk, size) if size and size > 0 else self._chunk)


@pytest.fixture
def fast(config):
    """A client whose retries back off for milliseconds (``config`` may be changed first)."""
    clients = []

    def make(cfg=None, pool=8):
        cfg = cfg or config
        http = HttpClient(timeout=30, retries=6, pool_size=pool, backoff=Backoff(base=0.001, cap=0.01))
        client = Client(cfg, http=http)
        clients.append((client, http))
        return client

    yield make
    for client, http in clients:
        client.close()
        http.close()


def content(client, bucket, key):
    out = io.BytesIO()
    client.download_fileobj(bucket, key, out).raise_for_status()
    return out.getvalue()


def test_append_creates_and_extends_with_bytes_files_and_streams(client, bucket, tmp_path):
    first = client.append(bucket, "log", b"hello ")
    assert first.ok and first.next_position == 6 and first.data["hash"] == etag(b"hello ")
    path = tmp_path / "more.txt"
    path.write_bytes(b"IGNORED-world")
    with open(path, "rb") as fp:
        fp.seek(8)  # from the file's current position
        second = client.append(bucket, "log", fp)
    assert second.next_position == 11 and second.data["hash"] == etag(b"hello world")
    third = client.append(bucket, "log", Stream(b"\nfrom a pipe" * 50), piece_size=100)
    whole = b"hello world" + b"\nfrom a pipe" * 50
    assert third.ok and third.next_position == len(whole) and third.data["hash"] == etag(whole)
    assert content(client, bucket, "log") == whole
    info = client.stat_object(bucket, "log")
    assert info.appendable and info.object_type == "Appendable" and info.size == len(whole)
    assert client.stat(bucket, "log").next_position == len(whole)


def test_a_long_source_goes_as_pieces_each_checked(client, bucket, emulator, tmp_path):
    data = bytes(random.Random(3).getrandbits(8) for _ in range(10000))
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    before = emulator.counters.get("upload", 0)
    with open(path, "rb") as fp:
        result = client.append(bucket, "pieces", fp, piece_size=3000)
    assert result.ok and result.next_position == 10000 and result.data["hash"] == etag(data)
    assert emulator.counters["upload"] - before == 4  # 3000 + 3000 + 3000 + 1000
    assert content(client, bucket, "pieces") == data
    # appending onto what others wrote: no etag to check against, the length still is
    assert client.append(bucket, "pieces", b"!", position=10000).next_position == 10001


def test_refusals_come_back_as_results(client, bucket, bad_client):
    assert client.append(bucket, "a", b"abc").ok
    stale = client.append(bucket, "a", b"zz", position=1)
    assert stale.code == 409 and stale.message.startswith("Position Not Equal To Length")
    assert stale.next_position == 3
    client.simple_upload(__file__, bucket, "normal")
    refused = client.append(bucket, "normal", b"more")
    assert refused.code == 409 and refused.message == "Object Not Appendable"
    assert client.append("no-such-bucket-" + bucket, "k", b"x").code == 631
    # without a position, the stat that finds the length answers first
    assert bad_client.append(bucket, "a", b"x").code == 401
    with pytest.raises(InvalidArgument):
        client.append(bucket, "a", "text is not bytes")
    with pytest.raises(InvalidArgument):
        client.append(bucket, "a", b"x", position=-1)
    with pytest.raises(InvalidArgument):
        client.append(bucket, "a", b"x", piece_size=0)
    assert client.stat_object(bucket, "a").size == 3


def test_a_corrupted_append_is_caught_by_its_hash(fast, bucket, faults):
    faults("upload:corrupt:1")
    with pytest.raises(IntegrityError, match="hash"):
        fast().append(bucket, "c", b"bytes that arrive damaged")


def test_answers_lost_before_the_append_are_sent_again(fast, bucket, faults):
    faults("upload:reset:0.3", seed=5)
    client = fast()
    expected = b""
    for i in range(30):
        piece = b"<piece %d>" % i
        result = client.append(bucket, "reset", piece)
        expected += piece
        assert result.ok and result.next_position == len(expected), result
    faults(None)
    assert content(client, bucket, "reset") == expected
    assert client.stat_object(bucket, "reset").hash == etag(expected)


@pytest.mark.parametrize("download_domain", [True, False], ids=["read-back", "length-only"])
def test_answers_lost_after_the_append_are_settled_by_the_object(fast, config, emulator, bucket, download_domain):
    with lossy_proxy(emulator.url, 0.4, seed=3, lose=lambda method, path: path.startswith("/append/")) as proxy:
        cfg = config.replace(put_url=proxy.url, download_url=config.download_url if download_domain else "")
        client = fast(cfg)
        expected = b""
        for i in range(16):
            piece = b"[%d]" % i * (i + 1)
            result = client.append(bucket, "lost", piece)
            expected += piece
            assert result.ok and result.next_position == len(expected), result
            assert result.data["hash"] == etag(expected)
        assert proxy.lost >= 3
    assert content(fast(), bucket, "lost") == expected


def _race(client, bucket, key, writers, per_writer):
    """Each writer appends its pieces at the position it believes is the end, taking the length from a
    409 when another writer got there first. Returns {position: piece} of every append that succeeded."""
    landed = {}
    lock = threading.Lock()
    errors = []

    def writer(number):
        rng = random.Random(number)
        position = 0
        try:
            for seq in range(per_writer):
                piece = b"<w%d:%d:%s>" % (number, seq, b"." * rng.randrange(0, 40))
                while True:
                    result = client.append(bucket, key, piece, position=position)
                    if result.ok:
                        with lock:
                            assert position not in landed
                            landed[position] = piece
                        position = result.next_position
                        break
                    assert result.code == 409, result
                    position = result.next_position
        except Exception as exc:  # reported by the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not errors, errors[0]
    return landed


@pytest.mark.parametrize("per_writer", [pytest.param(125, marks=pytest.mark.slow, id="1000"),
                                        pytest.param(2, id="16")])
def test_eight_threads_append_with_lost_answers_to_the_exact_concatenation(fast, config, emulator, bucket, faults,
                                                                          per_writer):
    faults("upload:reset:0.05", seed=11)  # lost before the append
    with lossy_proxy(emulator.url, 0.05, seed=7, lose=lambda method, path: path.startswith("/append/")) as proxy:
        client = fast(config.replace(put_url=proxy.url), pool=16)
        landed = _race(client, bucket, "race.log", 8, per_writer)
    faults(None)
    assert len(landed) == 8 * per_writer
    offsets = sorted(landed)
    assert offsets[0] == 0 and all(a + len(landed[a]) == b for a, b in zip(offsets, offsets[1:]))
    expected = b"".join(landed[offset] for offset in offsets)
    for number in range(8):  # every piece of every writer, once, in its writer's order
        mine = [landed[offset] for offset in offsets if landed[offset].startswith(b"<w%d:" % number)]
        assert [piece.split(b":")[1] for piece in mine] == [b"%d" % seq for seq in range(per_writer)]
    assert content(client, bucket, "race.log") == expected
    assert client.stat_object(bucket, "race.log").hash == etag(expected)
    if per_writer > 100:
        assert proxy.lost > 0 and emulator.counters["faults_injected"] > 0
