"""Pure parts of multipart upload: block plan, chunk plan, size checks, chunk answers, scheduling."""

import hashlib
import socket

import pytest
import requests

from wcs.commons.errors import InvalidArgument
from wcs.commons.http import Result, network_error, no_response
from wcs.commons.settings import TransferConfig, check_block_size, check_bput_size
from wcs.commons.util import BLOCK_SIZE, EtagHasher, crc32, etag_from_block_digests
from wcs.services import blocksteps
from wcs.services.blockplan import Block, file_etag, new_upload_id, plan_blocks
from wcs.services.resume import BlockRecord

MiB = 1024 * 1024


@pytest.mark.parametrize("size, block_size, expected", [
    (0, 4 * MiB, []),
    (1, 4 * MiB, [Block(0, 0, 1)]),
    (4 * MiB, 4 * MiB, [Block(0, 0, 4 * MiB)]),
    (4 * MiB + 1, 4 * MiB, [Block(0, 0, 4 * MiB), Block(1, 4 * MiB, 1)]),
    (20 * MiB, 8 * MiB, [Block(0, 0, 8 * MiB), Block(1, 8 * MiB, 8 * MiB), Block(2, 16 * MiB, 4 * MiB)]),
])
def test_plan_blocks(size, block_size, expected):
    plan = plan_blocks(size, block_size)
    assert plan == expected
    assert sum(b.size for b in plan) == size


@pytest.mark.parametrize("bad", [0, -4 * MiB, 3 * MiB, 4 * MiB + 1, "x", None, True])
def test_block_size_must_be_positive_multiple_of_4mib(bad):
    with pytest.raises(InvalidArgument, match="multiple of 4 MiB"):
        check_block_size(bad)
    with pytest.raises(ValueError):  # InvalidArgument is also a ValueError
        plan_blocks(10, bad)
    with pytest.raises(InvalidArgument, match="block_size"):  # checked once, when the settings are built
        TransferConfig(block_size=bad)


def test_block_size_accepts_numeric_strings():
    assert check_block_size("8388608") == 8 * MiB


@pytest.mark.parametrize("bad", [0, -1, "x", None])
def test_bput_size_must_be_positive(bad):
    with pytest.raises(InvalidArgument):
        check_bput_size(bad)
    with pytest.raises(InvalidArgument, match="bput_size"):
        TransferConfig(bput_size=bad)


def test_negative_size_rejected():
    with pytest.raises(InvalidArgument):
        plan_blocks(-1, BLOCK_SIZE)


def test_chunks_of_a_block():
    assert Block(0, 0, 10).chunks(4) == [(0, 4), (4, 4), (8, 2)]
    assert Block(3, 12 * MiB, 4 * MiB).chunks(4 * MiB) == [(0, 4 * MiB)]
    assert Block(0, 0, 5).chunks(100) == [(0, 5)]


def test_upload_ids_are_32_alphanumerics_and_distinct():
    ids = {new_upload_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 32 and i.isalnum() for i in ids)


def test_file_etag_from_recorded_digests_equals_plain_etag():
    data = bytes(range(256)) * (40 * 1024 + 3)  # ~10 MiB, not block aligned
    plan = plan_blocks(len(data), 8 * MiB)
    records = {}
    for block in plan:
        hasher = EtagHasher()
        hasher.update(data[block.offset:block.offset + block.size])
        records[block.index] = BlockRecord(block.index, block.offset, block.size, "ctx",
                                           [d.hex() for d in hasher.block_digests()])
    whole = EtagHasher()
    whole.update(data)
    assert file_etag(plan, records) == whole.etag()


def test_file_etag_of_empty_file():
    assert file_etag([], {}) == etag_from_block_digests([hashlib.sha1(b"").digest()]) == \
        "Fto5o-5ea0sNMlW_75VgGJCv2AcJ"


def _answer(code=200, **body):
    return Result(code, body, {"x-reqid": "r1"})


def test_check_chunk_accepts_matching_answer():
    data = b"hello"
    assert blocksteps.check_chunk(_answer(ctx="c1", crc32=crc32(data), offset=5), data, 5, 0) == "c1"


def test_check_chunk_tolerates_missing_optional_fields():
    assert blocksteps.check_chunk(_answer(ctx="c1"), b"hello", 5, 0) == "c1"


@pytest.mark.parametrize("answer", [
    _answer(ctx="c1", crc32=1, offset=5),          # crc mismatch
    _answer(ctx="c1", crc32="junk", offset=5),     # unreadable crc
    _answer(ctx="c1", crc32=907060870, offset=4),  # wrong offset
    _answer(crc32=907060870, offset=5),            # no ctx
    _answer(701, message="ctx invalid"),
    _answer(412, message="block incomplete"),
])
def test_check_chunk_restarts_block_on_inconsistent_answers(answer):
    with pytest.raises(blocksteps.Restart) as info:
        blocksteps.check_chunk(answer, b"hello", 5, 0)
    assert not info.value.result.ok  # what the caller would see if retries run out


@pytest.mark.parametrize("code", [401, 404, 406, 631, -1, 579])
def test_check_chunk_fails_block_on_other_errors(code):
    with pytest.raises(blocksteps.BlockFailed) as info:
        blocksteps.check_chunk(_answer(code, message="no"), b"hello", 5, 0)
    assert info.value.result.code == code


@pytest.mark.parametrize("code", [500, 503, 408, 429])
def test_check_chunk_restarts_block_when_transient_failures_outlive_the_retries(code):
    with pytest.raises(blocksteps.Restart) as info:
        blocksteps.check_chunk(_answer(code, message="busy"), b"hello", 5, 0)
    assert info.value.result.code == code


def test_check_chunk_restarts_after_a_reset_but_not_for_an_unreachable_host():
    reset = no_response(network_error(requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))))
    with pytest.raises(blocksteps.Restart):
        blocksteps.check_chunk(reset, b"hello", 5, 0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        requests.get("http://127.0.0.1:%d/" % port, timeout=5)
    except requests.ConnectionError as exc:
        refused = no_response(network_error(exc))
    with pytest.raises(blocksteps.BlockFailed):
        blocksteps.check_chunk(refused, b"hello", 5, 0)
