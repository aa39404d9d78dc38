"""ChunkReader: a bounded, rewindable view reporting progress, as requests and the form encoder use it."""

import io
import threading

import pytest
from requests_toolbelt import MultipartEncoder

from wcs.commons.errors import Cancelled, LocalFileError
from wcs.commons.util import EtagHasher
from wcs.services.bodies import BufferReader, ChunkReader, SourceReadError
from wcs.services.events import Notifier, Subscriber, TransferInfo

DATA = bytes(range(256)) * 40  # 10240 bytes


def test_view_reads_only_its_window():
    reader = ChunkReader(io.BytesIO(DATA), 100, 1000)
    assert len(reader) == 1000
    first = reader.read(300)
    assert first == DATA[100:400]
    assert len(reader) == 700 and reader.tell() == 300
    assert reader.read() == DATA[400:1100]
    assert reader.read(10) == b"" and len(reader) == 0


def test_progress_observer_and_rewind():
    deltas, seen, rewinds = [], [], []
    reader = ChunkReader(io.BytesIO(DATA), 0, 500, deltas.append, seen.append, lambda: rewinds.append(1))
    reader.read(200)
    reader.read(200)
    assert sum(deltas) == 400 and b"".join(seen) == DATA[:400]
    assert reader.seek(0) == 0
    assert sum(deltas) == 0 and deltas[-1] == -400 and rewinds == [1]
    assert reader.read() == DATA[:500]
    assert sum(deltas) == 500


def test_seek_to_current_position_is_a_no_op_and_partial_seeks_are_refused():
    deltas = []
    reader = ChunkReader(io.BytesIO(DATA), 0, 500, deltas.append)
    reader.read(10)
    assert reader.seek(0, io.SEEK_CUR) == 10
    assert reader.seek(10) == 10
    with pytest.raises(io.UnsupportedOperation):
        reader.seek(5)
    assert deltas == [10]


def test_readinto():
    reader = ChunkReader(io.BytesIO(DATA), 10, 20)
    buf = bytearray(50)
    assert reader.readinto(buf) == 20
    assert bytes(buf[:20]) == DATA[10:30]


def test_file_shorter_than_the_view_raises():
    reader = ChunkReader(io.BytesIO(DATA[:100]), 50, 100)
    reader.read(50)
    with pytest.raises(SourceReadError, match="truncated") as info:
        reader.read(10)
    assert isinstance(info.value.error, LocalFileError)
    assert not isinstance(info.value, OSError)  # or urllib3 would report a broken connection


def test_form_encoder_streams_the_view():
    deltas = []
    hasher = EtagHasher()
    reader = ChunkReader(io.BytesIO(DATA), 0, len(DATA), deltas.append, hasher.update)
    encoder = MultipartEncoder([("token", "t"), ("file", ("name", reader, "application/octet-stream"))])
    expected_len = encoder.len
    out = b""
    while True:
        piece = encoder.read(1000)
        if not piece:
            break
        out += piece
    assert len(out) == expected_len
    assert DATA in out
    assert sum(deltas) == len(DATA)
    assert max(deltas) <= 1000  # never more than what one read asked for
    expected = EtagHasher()
    expected.update(DATA)
    assert hasher.etag() == expected.etag()


def test_notifier_calls_never_overlap_and_carry_the_transfer():
    active = [0]
    overlaps = []
    total = [0]
    seen = set()

    class Counting(Subscriber):
        def on_progress(self, transfer, delta):
            active[0] += 1
            if active[0] > 1:
                overlaps.append(1)
            total[0] += delta
            seen.add(transfer.id)
            active[0] -= 1

    info = TransferInfo.new("upload", "b", "k", None, 8000)
    report = Notifier.of(info, None, [Counting()]).progress
    threads = [threading.Thread(target=lambda: [report(1) for _ in range(2000)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert total[0] == 8000 and not overlaps and seen == {info.id}
    assert not Notifier.of(info)


def test_buffer_reader_hands_out_slices_without_copying_and_takes_progress_back_on_rewind():
    data = bytearray(DATA)
    deltas = []
    reader = BufferReader(data, deltas.append, slice_size=1000)
    assert len(reader) == len(DATA)
    first = reader.read(10)
    assert isinstance(first, memoryview) and first.obj is data and len(first) == 1000
    rest = b"".join(bytes(reader.read(8192)) for _ in range(len(DATA)))
    assert bytes(first) + rest == DATA and len(reader) == 0
    assert sum(deltas) == len(DATA)
    reader.seek(0)
    assert sum(deltas) == 0 and len(reader) == len(DATA)


def test_buffer_reader_stops_when_cancelled():
    cancel = threading.Event()
    reader = BufferReader(DATA, cancel=cancel)
    reader.read(10)
    cancel.set()
    with pytest.raises(Cancelled):
        reader.read(10)


def test_a_small_form_in_memory_is_the_encoders_form():
    import email.parser

    from wcs.services.bodies import form_in_memory

    fields = [("token", "T:ok"), ("key", "照片/a b.jpg")]
    body, headers = form_in_memory(fields, "%E7%85%A7", b"\x00DATA\r\n--x", "image/jpeg")
    message = email.parser.BytesParser().parsebytes(b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n"
                                                    + body)
    parts = message.get_payload()
    assert [part.get_param("name", header="content-disposition") for part in parts] == ["token", "key", "file"]
    assert parts[0].get_payload(decode=True) == b"T:ok"
    assert parts[1].get_payload(decode=True).decode("utf-8") == "照片/a b.jpg"
    assert parts[2].get_filename() == "%E7%85%A7" and parts[2].get_content_type() == "image/jpeg"
    assert parts[2].get_payload(decode=True) == b"\x00DATA\r\n--x"
