"""The HTTP/1.1 exchange of in-memory bodies (``wcs.commons.wire``): each answer is read as
``http.client`` reads it (status, headers, body), with ``http.client``'s exceptions for the same
faults, and a connection is kept only when the answer's end was certain."""

import http.client
import io
import socket
import threading

import pytest

from wcs.commons import wire


def read(data, method="GET", close=True):
    """The answer read from a socket the other end of which sent ``data`` (then closed, when ``close``)."""
    ours, theirs = socket.socketpair()

    def send():
        try:
            theirs.sendall(data)
            if close:
                theirs.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the reader gave up (a malformed answer) and closed its end

    sender = threading.Thread(target=send)  # more than the socket buffers hold waits for the reader
    with ours, theirs:
        ours.settimeout(5)
        sender.start()
        try:
            return wire.read_answer(wire.SocketReader(ours), method)
        finally:
            ours.close()
            sender.join()


class _FakeSocket:
    def __init__(self, data):
        self.data = data

    def makefile(self, mode):
        return io.BytesIO(self.data)


def as_http_client_reads_it(data, method="GET"):
    response = http.client.HTTPResponse(_FakeSocket(data), method=method)
    response.begin()
    body = response.read()
    headers = {}
    for name, value in response.msg.items():
        name = name.lower()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return response.status, response.reason, headers, body, not response.will_close


ANSWERS = {
    "length": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\n"
               b"X-Trailer: t\r\n\r\n",
    "until closed": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nthe rest of the stream",
    "204": b"HTTP/1.1 204 No Content\r\nX-Reqid: r\r\n\r\n",
    "304": b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    "continue first": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}",
    "http/1.0": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "http/1.0 keep-alive": b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
    "close": b"HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 4\r\n\r\nfail",
    "repeated": b"HTTP/1.1 200 OK\r\nVary: Origin\r\nSet-Cookie: a=1\r\nvary: Accept-Encoding\r\n"
                b"Set-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
    "spaces": b"HTTP/1.1 200 OK\r\nX-Odd:   padded value  \r\nX-Empty:\r\nContent-Length: 0\r\n\r\n",
    "folded": b"HTTP/1.1 200 OK\r\nX-Long: first\r\n  second\r\nContent-Length: 0\r\n\r\n",
    "bad length": b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\nuntil the end",
    "no reason": b"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx",
    "bare newlines": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_an_answer_reads_as_http_client_reads_it(name):
    data = ANSWERS[name]
    answer = read(data)
    assert (answer.status, answer.reason, answer.headers, answer.body, answer.reusable) == \
        as_http_client_reads_it(data)


def test_a_head_answer_has_no_body_whatever_its_length():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
    answer = read(data, "HEAD", close=False)
    assert answer.body == b"" and answer.reusable and answer.headers["content-length"] == "1234"
    assert as_http_client_reads_it(data, "HEAD")[3] == b""


def test_a_framed_answer_is_read_without_waiting_for_the_connection_to_close():
    answer = read(ANSWERS["length"], close=False)  # a read past the answer would block, then time out
    assert answer.body == b'{"a":1}' and answer.reusable


def test_every_value_of_a_repeated_header_stays_apart_for_cookies():
    answer = read(ANSWERS["repeated"])
    assert answer.msg.get_all("set-cookie") == ["a=1", "b=2"] and answer.get_all("X-None", []) == []
    assert answer.headers["set-cookie"] == "a=1, b=2"


def test_a_length_beside_a_chunked_coding_is_ignored_and_the_connection_not_kept():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    answer = read(data, close=False)
    assert answer.body == b"ok" and not answer.reusable


def test_a_chunked_coding_that_is_not_the_last_leaves_the_body_to_the_end_of_the_connection():
    answer = read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw bytes")
    assert answer.body == b"raw bytes" and not answer.reusable


def test_bytes_after_the_answer_mean_the_connection_is_out_of_step():
    answer = read(ANSWERS["length"] + b"HTTP/1.1 200 OK\r\n", close=False)
    assert answer.body == b'{"a":1}' and not answer.reusable


def test_a_length_is_read_as_urllib3_reads_it():
    assert read(b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", close=False).body == b"ok"
    assert read(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", close=False).reusable
    with pytest.raises(wire.ConflictingLength):
        read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", close=False)
    answer = read(b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\nto the end")  # a Latin-1 digit is no digit
    assert answer.body == b"to the end" and not answer.reusable


def test_another_coding_than_chunked_is_read_by_its_length_without_waiting_but_not_trusted():
    answer = read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok", close=False)
    assert answer.body == b"ok" and not answer.reusable


def test_a_minor_version_after_1_1_reads_as_1_1():
    assert read(b"HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok", close=False).reusable


@pytest.mark.parametrize("data, error", [
    (b"", http.client.RemoteDisconnected),
    (b"HTTP/1.1 2\xb20 OK\r\nContent-Length: 2\r\n\r\nok", http.client.BadStatusLine),
    (b"HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok", http.client.BadStatusLine),
    (b"garbage\r\n\r\n", http.client.BadStatusLine),
    (b"HTTP/1.1 2xx OK\r\n\r\n", http.client.BadStatusLine),
    (b"HTTP/2 200 OK\r\n\r\n", http.client.UnknownProtocol),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", http.client.IncompleteRead),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", http.client.IncompleteRead),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", http.client.IncompleteRead),
    (b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * 70000 + b"\r\n\r\n", http.client.LineTooLong),
    (b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n", http.client.HTTPException),
])
def test_a_malformed_or_cut_answer_raises_what_http_client_raises(data, error):
    with pytest.raises(error):
        read(data)
    with pytest.raises(error):
        as_http_client_reads_it(data)


def test_an_answer_cut_inside_its_headers_is_refused():
    # http.client would take it for a complete answer with an empty body.
    with pytest.raises(http.client.IncompleteRead):
        read(b"HTTP/1.1 200 OK\r\nContent-Len")


def test_the_request_is_laid_out_as_http_client_lays_it_out():
    head = wire.request_bytes("POST", "/up?x=1", "127.0.0.1:8930", [("User-Agent", "ua"), ("Content-Length", 3)])
    assert head == b"POST /up?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8930\r\nUser-Agent: ua\r\nContent-Length: 3\r\n\r\n"
    with pytest.raises(http.client.InvalidURL):
        wire.request_bytes("GET", "/a b", "h", [])
    # A Host of the caller's replaces the default one; bytes and numbers go out as http.client sends them.
    assert wire.request_bytes("GET", "/", "h:1", [("host", "bucket.example"), ("X-B", b"abc"), ("X-N", 7)]) \
        == b"GET / HTTP/1.1\r\nhost: bucket.example\r\nX-B: abc\r\nX-N: 7\r\n\r\n"
    with pytest.raises(UnicodeEncodeError):
        wire.request_bytes("GET", "/", "h", [("X-Name", "\u20ac")])


def test_a_long_body_is_read_across_many_receives():
    body = bytes(range(256)) * 20000  # 5 MB
    answer = read(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert answer.body == body
