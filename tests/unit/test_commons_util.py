"""Pin the shared hashing and encoding code with the fixed vectors of the protocol reference (sections 1.2, 11)."""

import io
import random
import subprocess
import sys

import pytest

from wcs.commons import util

ETAG_VECTORS = [
    (b"", "Fto5o-5ea0sNMlW_75VgGJCv2AcJ"),
    (b"hello", "Fqr0xh3cxeii2r7eDztILNmuqUNN"),
    (b"test", "FqlKj-XMsZumHEwIc9OR6YeYL7vT"),
    (bytes(4 * 1024 * 1024), "FivMvS848VwT631aif2dhfWV4jvD"),
    (bytes(4 * 1024 * 1024 + 1), "lhCFgki5yzon0rjN9uJusf6qtsF6"),
]


@pytest.mark.parametrize("data,expected", ETAG_VECTORS, ids=["empty", "hello", "test", "4MiB", "4MiB+1"])
def test_etag_stream_vectors(data, expected):
    assert util.etag_stream(io.BytesIO(data)) == expected


@pytest.mark.parametrize("data,expected", ETAG_VECTORS, ids=["empty", "hello", "test", "4MiB", "4MiB+1"])
def test_etag_of_file_vectors(tmp_path, data, expected):
    path = tmp_path / "f"
    path.write_bytes(data)
    assert util.etag(str(path)) == expected


@pytest.mark.parametrize("data,expected", ETAG_VECTORS, ids=["empty", "hello", "test", "4MiB", "4MiB+1"])
def test_incremental_hasher_any_slicing(data, expected):
    hasher = util.EtagHasher()
    step = 1_000_003
    for start in range(0, len(data), step):
        hasher.update(data[start:start + step])
    assert hasher.etag() == expected
    assert hasher.size == len(data)


def test_etag_shape_prefix_and_length():
    single = util.etag_stream(io.BytesIO(b"x"))
    multi = util.etag_stream(io.BytesIO(b"x" * (8 * 1024 * 1024 + 5)))
    assert len(single) == len(multi) == 28
    assert single[0] == "F" and multi[0] == "l"


def test_etag_from_block_digests_matches_stream():
    data = bytes(range(256)) * (3 * 16384 + 7)  # a little over 12 MiB
    hasher = util.EtagHasher()
    hasher.update(data)
    assert util.etag_from_block_digests(hasher.block_digests()) == util.etag_stream(io.BytesIO(data))


def test_etag_with_another_block_size_is_the_official_value(tmp_path):
    # The official etag(path, block_size) hashes blocks of that size (issue 13); the service only uses 4 MiB.
    import hashlib

    data = bytes(range(256)) * 12
    digests = [hashlib.sha1(data[i:i + 1024]).digest() for i in range(0, len(data), 1024)]
    expected = util.urlsafe_base64_encode(b"\x96" + hashlib.sha1(b"".join(digests)).digest())
    assert util.etag_stream(io.BytesIO(data), block_size=1024) == expected
    path = tmp_path / "f"
    path.write_bytes(data)
    assert util.etag(str(path), 1024) == expected and util.etag(str(path), 4096) == util.etag(str(path))
    with pytest.raises(ValueError):
        util.etag_stream(io.BytesIO(b"x"), block_size=0)


def test_official_checksum_helpers_return_the_official_types(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"hello world")
    assert util.crc64(b"hello world") == str(util.crc64_int(b"hello world")) == util.file_crc64(str(path))
    assert util.file_crc64(b"hello world", 4, False) == util.crc64(b"hello world") and util.crc64(b"") == "0"
    with pytest.raises(util.ParameterError):
        util.crc64("text")
    with pytest.raises(util.ParameterError):
        util.file_crc64(str(tmp_path / "missing"))
    assert util.crc32("hello world") == util.crc32(b"hello world") == util.file_crc32(str(path)) == 222957957
    with open(path, "rb") as fp:
        assert util.readfile(fp, 6, 5) == b"world" and util.readfile(fp, 100, 5) is None
    assert util.https_check("h/x") == "http://h/x" and util.https_check("h/x", https=True) == "https://h/x"
    assert util.https_check("HTTPS://h") == "HTTPS://h" and len(util.GetUuid()) == 32


def test_entry_uri_vector():
    assert util.entry("images", "gjh_syn1.txt") == "aW1hZ2VzOmdqaF9zeW4xLnR4dA=="
    assert util.entry("b", "a.txt") == "YjphLnR4dA=="
    assert util.entry("b", None) == "Yg=="


def test_base64_keeps_padding_and_is_urlsafe():
    assert util.urlsafe_base64_encode("a") == "YQ=="
    assert util.urlsafe_base64_encode(b"\xfb\xff") == "-_8="


@pytest.mark.parametrize("text", ["aW1hZ2VzOmdqaF9zeW4xLnR4dA==", "aW1hZ2VzOmdqaF9zeW4xLnR4dA",
                                  b"aW1hZ2VzOmdqaF9zeW4xLnR4dA=="])
def test_base64_decode_is_lenient_about_padding(text):
    assert util.urlsafe_base64_decode(text) == b"images:gjh_syn1.txt"


def test_base64_decode_rejects_garbage():
    with pytest.raises(ValueError):
        util.urlsafe_base64_decode("not base64 at all!")


def test_base64_round_trips_unicode():
    assert util.urlsafe_base64_decode(util.urlsafe_base64_encode("目录/文件 ?#%+")).decode() == "目录/文件 ?#%+"


def test_crc32_vector():
    assert util.crc32(b"hello") == 907060870


@pytest.mark.parametrize("data,expected", [(b"123456789", 11051210869376104954),
                                           (b"hello", 11177612005948864433), (b"", 0)])
def test_crc64_ecma_vectors(data, expected):
    assert util.crc64_int(data) == expected


def test_crc64_continues_across_calls():
    assert util.crc64_int(b"6789", util.crc64_int(b"12345")) == util.crc64_int(b"123456789")


def test_hasher_continues_after_given_piece_digests():
    data = bytes(range(256)) * (5 * 4096 + 3)  # 5 MiB + 768 bytes
    first = util.EtagHasher()
    first.update(data[:util.BLOCK_SIZE])
    resumed = util.EtagHasher(first.digests)
    resumed.update(data[util.BLOCK_SIZE:])
    assert resumed.etag() == util.etag_stream(io.BytesIO(data))
    assert resumed.size == len(data) and resumed.filled == len(data) % util.BLOCK_SIZE


def test_crc64_every_length_and_split_matches_bytewise_definition():
    def bytewise(data):
        crc = 0xFFFFFFFFFFFFFFFF
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
        return crc ^ 0xFFFFFFFFFFFFFFFF

    data = bytes(range(7, 250))
    for n in range(0, 40):
        assert util.crc64_int(data[:n]) == bytewise(data[:n])
    assert util.crc64_int(data[13:], util.crc64_int(data[:13])) == bytewise(data)


def _crc64_table_reference(data, marks):
    """CRC-64/XZ one byte at a time (independent of the library), recorded at each prefix length in marks."""
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
        table.append(crc)
    crc, seen = 0xFFFFFFFFFFFFFFFF, {}
    for n, byte in enumerate(data, 1):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        if n in marks:
            seen[n] = crc ^ 0xFFFFFFFFFFFFFFFF
    return seen


def test_crc64_long_inputs_match_a_bytewise_table():
    # The library switches to SIMD folding past some length: check lengths around every likely threshold.
    rng = random.Random(64)
    data = rng.getrandbits(8 * 70000).to_bytes(70000, "little")
    marks = {n for base in (64, 128, 256, 512, 1024, 4096, 16384, 65536) for n in (base - 1, base, base + 1)}
    marks |= {rng.randrange(1, len(data)) for _ in range(20)} | {len(data)}
    for n, expected in _crc64_table_reference(data, marks).items():
        assert util.crc64_int(data[:n]) == expected, n


def test_crc64_random_splits_equal_one_shot_for_every_buffer_type():
    rng = random.Random(17)
    size = 10 * 1024 * 1024
    data = rng.getrandbits(8 * size).to_bytes(size, "little")
    whole = util.crc64_int(data)
    assert whole == util.crc64_int(bytearray(data)) == util.crc64_int(memoryview(data))
    cuts = sorted({0, size} | {rng.randrange(size) for _ in range(40)} | {1, 2, 7, size - 1})
    view = memoryview(bytearray(data))
    for convert in (bytes, bytearray, lambda piece: piece):  # slices of a memoryview are read in place
        value = 0
        for start, end in zip(cuts, cuts[1:]):
            value = util.crc64_int(convert(view[start:end]), value)
        assert value == whole


def test_crc64_refuses_text_and_out_of_range_values():
    with pytest.raises(TypeError):
        util.crc64_int("123456789")
    for value in (-1, 1 << 64):
        with pytest.raises(OverflowError):
            util.crc64_int(b"x", value)


def test_importing_the_sdk_does_not_load_the_crc64_extension():
    # `wcscmd --help` stays instant: the extension loads on the first crc64 call only.
    code = ("import sys, wcs, wcs.commons.util, wcs.cli.wcscmd, wcs.cli.crc64_cal; "
            "sys.stderr.write(repr([m for m in sys.modules if m.startswith('fastcrc')]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "[]"
