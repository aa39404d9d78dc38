"""Issue 21 point 1, and the framing rules of issue 23 point 1: request bodies are framed by code that
cannot read past their end, bad framing answers 400, and the server survives anything a client sends.

* A chunk header of ``40000000``, a few bytes and a half-closed socket used to kill the emulator with
  SIGSEGV (werkzeug's dechunking reader handed back more bytes than it held), before or after the
  request reached its handler, also for a refused upload whose body is drained; a malformed chunk
  header answered 500. Now 400 (or the refusal's own status) and the server keeps serving.
* Request smuggling: ``Content-Length`` with ``Transfer-Encoding``, unknown codings, duplicate or odd
  lengths, folded or space-before-colon fields are refused and the connection closed, so a second
  request hidden in a body is never executed.
* The chunked reader, fed a body split at every offset, gives exactly the data sent and leaves exactly
  the bytes after the body for the next request.
* A fuzzer sends thousands of chunked bodies (random chunk sizes, extensions, trailers, truncations,
  half-closes, bad hex, overlong and huge sizes, bare LFs, long lines) to one emulator in a child
  process: every valid one is stored as exactly the bytes sent (``checksum``, ``crc32`` and ``offset``
  of ``mkblk``), every invalid one answers 400, and the process is alive after each. The default run
  sends a few hundred; the ``slow`` run 20,000.
"""

import hashlib
import json
import random
import socket
import time
import zlib

import pytest

from tests.helpers.raw_http import emulator_process, read_reply
from wcs.commons.auth import upload_token_from_encoded
from wcs.commons.util import urlsafe_base64_encode
from wcs.emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from wcs.emulator.httpd import PREBUFFER
from wcs.emulator.httpd.body import ChunkedBody, Source
from wcs.emulator.httpd.conn import Conn
from wcs.emulator.httpd.limits import Limits, Pace


@pytest.fixture(scope="module")
def child(tmp_path_factory):
    """An emulator in a child process: ``(process, port)``."""
    with emulator_process(str(tmp_path_factory.mktemp("framing"))) as running:
        yield running


def _token(scope="b"):
    policy = {"scope": scope, "deadline": int(time.time() * 1000) + 3600 * 1000}
    return upload_token_from_encoded(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY,
                                     urlsafe_base64_encode(json.dumps(policy)))


TOKEN = _token()


def _exchange(port, data, half_close=False, pieces=1):
    """Send ``data`` on a new connection (in ``pieces`` writes), maybe half-close; the first answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        step = max(1, len(data) // pieces)
        for start in range(0, len(data), step):
            sock.sendall(data[start:start + step])
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        with sock.makefile("rb") as rfile:
            return read_reply(rfile)


def _alive(proc, port):
    assert proc.poll() is None, "the emulator died with status %s" % proc.returncode
    reply = _exchange(port, b"GET /b/missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply is not None and reply.status == 404


def _chunked_head(path, auth=True):
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n%s\r\n"
            % (path.encode(), b"Authorization: UpToken %s\r\n" % TOKEN.encode() if auth else b""))


# -- the crash -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, auth", [("/file/upload", False), ("/mkblk/4194304/0", False),
                                        ("/mkblk/4194304/0", True)], ids=["form", "refused-mkblk", "mkblk"])
@pytest.mark.parametrize("sent", [6, PREBUFFER + 100], ids=["before-the-handler", "inside-the-handler"])
def test_a_huge_chunk_then_a_half_close_is_400_and_the_server_lives(child, path, auth, sent):
    proc, port = child
    reply = _exchange(port, _chunked_head(path, auth) + b"40000000\r\n" + b"a" * sent, half_close=True)
    assert proc.poll() is None, "the emulator died with status %s" % proc.returncode
    # a refused upload keeps its refusal; its body could not be drained to the end either way
    assert reply is not None and reply.status in ((400, 401) if not auth and "mkblk" in path else (400,))
    assert reply.headers["connection"] == "close"
    _alive(proc, port)


@pytest.mark.parametrize("size_line", [b"zz", b"0x10", b"-1", b" 1", b"1 1", b"+1", b"", b"1_0",
                                       b"0" * 17 + b"1", b"1;\x01"])
@pytest.mark.parametrize("before", [b"", b"%x\r\n%s\r\n" % (PREBUFFER + 10, b"z" * (PREBUFFER + 10))],
                         ids=["first", "after-64KiB"])
def test_a_malformed_chunk_size_line_is_400(child, size_line, before):
    proc, port = child
    reply = _exchange(port, _chunked_head("/mkblk/4194304/0") + before + size_line + b"\r\nabc\r\n0\r\n\r\n")
    assert reply is not None and reply.status == 400, reply
    assert "chunk" in json.loads(reply.body)["message"]
    assert proc.poll() is None


# -- request smuggling ------------------------------------------------------------------------------------

SMUGGLED = b"GET /b/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize("fields, code", [
    (b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(SMUGGLED), 400),
    (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
    (b"Transfer-Encoding: gzip, chunked\r\n", 501),
    (b"Transfer-Encoding: chunked, gzip\r\n", 400),
    (b"Transfer-Encoding: xchunked\r\n", 400),
    (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400),
    (b"Transfer-Encoding : chunked\r\n", 400),
    (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400),
    (b"Content-Length: 5, 6\r\n", 400),
    (b"Content-Length: +5\r\n", 400),
    (b"Content-Length: 0x5\r\n", 400),
    (b"Content-Length: 5 5\r\n", 400),
    (b"X-Folded: a\r\n Transfer-Encoding: chunked\r\n", 400),
    (b"X-Bare: a\rTransfer-Encoding: chunked\r\n", 400),
    (b"X-Nul: a\x00b\r\n", 400),
], ids=["cl-then-te", "te-then-cl", "gzip-chunked", "chunked-gzip", "xchunked", "te-twice", "space-before-colon",
        "two-lengths", "length-list", "plus-length", "hex-length", "spaced-length", "folded", "bare-cr", "nul"])
def test_ambiguous_framing_is_refused_and_the_connection_closed(child, fields, code):
    proc, port = child
    request = b"POST /b/k HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n0\r\n\r\n" + SMUGGLED
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        with sock.makefile("rb") as rfile:
            reply = read_reply(rfile)
            assert reply is not None and reply.status == code, reply
            assert json.loads(reply.body)["code"] == code and reply.headers["connection"] == "close"
            assert read_reply(rfile) is None  # the hidden request was not answered: it was never run
    assert proc.poll() is None


def test_transfer_encoding_in_http_1_0_is_refused(child):
    reply = _exchange(child[1], b"POST /b/k HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert reply is not None and reply.status == 400


def test_repeated_identical_lengths_and_chunked_with_trailers_are_served(child):
    port = child[1]
    data = b"0123456789"
    reply = _exchange(port, b"POST /mkblk/10/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 10\r\n"
                            b"Authorization: UpToken %s\r\nConnection: close\r\n\r\n%s" % (TOKEN.encode(), data))
    assert reply is not None and reply.status == 200 and json.loads(reply.body)["offset"] == 10
    body = b"3;ext=1\r\n012\r\n7 ; q=\"a b\"\r\n3456789\r\n0\r\nX-Trailer: yes\r\n\r\n"
    reply = _exchange(port, _chunked_head("/mkblk/10/0") + body)
    assert reply is not None and reply.status == 200
    assert json.loads(reply.body)["checksum"] == hashlib.md5(data).hexdigest()


# -- the reader, split at every offset ------------------------------------------------------------------

def _read_body(prefix, rest):
    """Read one chunked body through the server's reader: ``prefix`` already in the connection's buffer
    (what the selector gathered), ``rest`` still on the socket. Returns (data, bytes left after it)."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(rest)
        theirs.shutdown(socket.SHUT_WR)
        conn = Conn(ours, ("test", 0), False, 0.0)
        conn.buffer += prefix
        body = ChunkedBody(Source(conn, Pace(Limits()), False))
        data = body.read()
        assert body.complete
        ours.settimeout(5)
        left = bytes(conn.buffer)
        while True:
            more = ours.recv(65536)
            if not more:
                return data, left
            left += more


def test_the_chunked_reader_gives_the_data_and_nothing_past_the_body_at_every_split():
    data = bytes(range(256)) * 3
    body = b"a;x=1\r\n" + data[:10] + b"\r\n" + b"2F6\r\n" + data[10:] + b"\r\n0\r\nT: v\r\n\r\n"
    after = b"GET /next HTTP/1.1\r\n\r\n"
    wire = body + after
    for split in range(len(wire) + 1):
        assert _read_body(wire[:split], wire[split:]) == (data, after), split


def test_the_chunked_reader_refuses_what_the_framing_does_not_allow():
    from werkzeug.exceptions import BadRequest, ClientDisconnected

    for wire, error in [(b"5\r\nabc", ClientDisconnected), (b"40000000\r\nabc", ClientDisconnected),
                        (b"3\r\nabcXY0\r\n\r\n", BadRequest), (b"3\nabc\r\n0\r\n\r\n", BadRequest),
                        (b"3;" + b"e" * 5000 + b"\r\nabc\r\n0\r\n\r\n", BadRequest),
                        (b"0\r\nno colon\r\n\r\n", BadRequest)]:
        with pytest.raises(error):
            _read_body(b"", wire)


# -- the fuzzer -------------------------------------------------------------------------------------------

_BAD_SIZES = [b"zz", b"-1", b"0x10", b" 1", b"1 1", b"+1", b"", b"1_0", b"g", b"0" * 17 + b"1"]
_EXTENSIONS = [b";a", b";name=value", b';q="x y"', b" ;bws", b"\t;t=1", b";a;b=2"]
_MUTATIONS = ["truncate", "bad-size", "huge", "bare-lf", "no-crlf", "ext-ctl", "bad-trailer", "long-line"]


def _case(rng):
    """``(wire bytes of one chunked body, data it carries, valid?)``, maybe broken on purpose."""
    size = rng.choice([rng.randint(1, 64), rng.randint(1, 2000), rng.randint(1, 20000)]
                      + ([rng.randint(PREBUFFER - 2000, PREBUFFER + 9000)] if rng.random() < 0.1 else []))
    data = rng.getrandbits(8 * size).to_bytes(size, "little")
    pieces = []  # [size line, CRLF, data, CRLF] per chunk, then the last chunk and trailers
    start = 0
    while start < size:
        count = min(size - start, rng.choice([1, rng.randint(1, 100), rng.randint(1, size)]))
        digits = b"%x" % count
        digits = (b"0" * rng.randint(0, 16 - len(digits)) + digits) if rng.random() < 0.2 else digits
        digits = digits.upper() if rng.random() < 0.3 else digits
        ext = rng.choice(_EXTENSIONS) if rng.random() < 0.2 else b""
        pieces.append([digits + ext, b"\r\n", data[start:start + count], b"\r\n"])
        start += count
    trailers = b"".join(b"X-T%d: v%d\r\n" % (i, i) for i in range(rng.choice([0, 0, 0, 1, 3])))
    last = [rng.choice([b"0", b"000"]), b"\r\n", trailers, b"\r\n"]
    mutation = rng.choice(_MUTATIONS) if rng.random() < 0.5 else None
    chunk = rng.choice(pieces)
    if mutation == "bad-size":
        chunk[0] = rng.choice(_BAD_SIZES)
    elif mutation == "huge":
        chunk[0] = rng.choice([b"40000000", b"FFFFFFFFFFFFFFFF", b"7fffffff"])
    elif mutation == "bare-lf":
        chunk[1] = b"\n"
    elif mutation == "no-crlf":
        chunk[3] = rng.choice([b"XY", b"\n", b"\rX", b""]) + b"0\r\n\r\n"
    elif mutation == "ext-ctl":
        chunk[0] += b";bad\x01"
    elif mutation == "bad-trailer":
        last[2] = b"no colon here\r\n"
    elif mutation == "long-line":
        chunk[0] += b";" + b"e" * 5000
    wire = b"".join(b"".join(piece) for piece in pieces + [last])
    if mutation == "truncate":
        wire = wire[:rng.randrange(len(wire))]
    if mutation is None and rng.random() < 0.2:
        wire += b"GARBAGE AFTER THE BODY"  # never read as part of it (and, with Connection: close, never run)
    return wire, data, mutation is None


def _fuzz(child, count, seed):
    proc, port = child
    rng = random.Random(seed)
    for number in range(count):
        wire, data, valid = _case(rng)
        half_close = not valid or rng.random() < 0.3  # an invalid body may wait for bytes that never come
        head = _chunked_head("/mkblk/%d/0" % len(data))
        reply = _exchange(port, head + wire, half_close=half_close, pieces=rng.choice([1, 1, 2, 3]))
        assert proc.poll() is None, "case %d (seed %d) killed the emulator" % (number, seed)
        if valid:
            assert reply is not None and reply.status == 200, (number, seed, reply)
            answer = json.loads(reply.body)
            assert answer["checksum"] == hashlib.md5(data).hexdigest(), (number, seed)
            assert answer["crc32"] == zlib.crc32(data) and answer["offset"] == len(data)
        else:
            assert reply is not None and reply.status == 400, (number, seed, reply)
        if number % 100 == 99:
            _alive(proc, port)
    _alive(proc, port)


def test_fuzzed_chunked_framing(child):
    _fuzz(child, 300, seed=int(time.time()))


@pytest.mark.slow
def test_fuzzed_chunked_framing_many_thousands(child):
    _fuzz(child, 20000, seed=int(time.time()))
