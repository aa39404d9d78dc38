"""Answers read whole go straight to a connection of urllib3's pool (``HttpClient._direct``), not through
requests' ``Session.send``: the same request on the wire, the same answer, redirects, cookies and failures
handled as requests handles them. Each test compares with a plain ``requests.Session`` where one can.
"""

import gzip
import http.server
import io
import socket
import threading

import pytest
import requests

from tests.helpers.servers import loopback_server
from wcs.commons.http import USER_AGENT, Backoff, HttpClient


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records each request (method, path, headers, body) and answers from ``server.answers`` by path."""

    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.seen.append((self.command, self.path, dict(self.headers.items()), body))
        status, headers, payload = self.server.answers.get(self.path, (200, {}, b"{}"))
        if callable(payload):
            payload(self)
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value % {"port": self.server.server_address[1]} if "%(" in value else value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    with loopback_server(_Recorder, seen=[], answers={}, lock=threading.Lock()) as server:
        server.base = "http://127.0.0.1:%d" % server.server_address[1]
        yield server


def client(**kw):
    return HttpClient(timeout=5, backoff=Backoff(base=0.001, cap=0.01), **kw)


def plain_session():
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = USER_AGENT
    return session


@pytest.mark.parametrize("method, data", [("GET", None), ("POST", None), ("POST", b"\x00bytes"),
                                          ("POST", "text \u00e9"), ("DELETE", None), ("PUT", b"x" * 70000)])
def test_the_request_on_the_wire_is_the_one_requests_sends(recorder, method, data):
    headers = {"Authorization": "WCS abc", "Content-Type": "application/json"}
    ours = client()
    answer = ours.request(method, recorder.base + "/a/b%20c?x=1&y=%2F", data=data, headers=dict(headers))
    with plain_session() as session:
        theirs = session.request(method, recorder.base + "/a/b%20c?x=1&y=%2F", data=data, headers=dict(headers))
    ours.close()
    assert answer.code == theirs.status_code == 200
    (m1, p1, h1, b1), (m2, p2, h2, b2) = recorder.seen
    assert (m1, p1, b1) == (m2, p2, b2)
    assert h1 == h2  # names, values and order


def test_an_answer_reads_as_requests_reads_it(recorder):
    recorder.answers["/latin"] = (200, {"Content-Type": "text/plain", "X-Reqid": "r0"}, "caf\u00e9".encode("latin-1"))
    recorder.answers["/json"] = (200, {"Content-Type": "application/json", "X-Reqid": "r1"},
                                 '{"name": "\u00e9t\u00e9"}'.encode("utf-8"))
    ours = client()
    with plain_session() as session:
        for path in ("/latin", "/json"):
            answer = ours.request("GET", recorder.base + path)
            theirs = session.get(recorder.base + path)
            assert answer.text == theirs.text and answer.headers["X-Reqid"] == theirs.headers.get("X-Reqid")
            assert answer.headers == {name.lower(): value for name, value in theirs.headers.items()}
    assert ours.request("GET", recorder.base + "/json").body == {"name": "\u00e9t\u00e9"}
    ours.close()


def test_a_303_after_a_post_is_followed_with_a_get_and_keeps_the_signature_on_the_same_origin(recorder):
    recorder.answers["/upload"] = (303, {"Location": "/done?x=1"}, b"")
    recorder.answers["/done?x=1"] = (200, {"Content-Type": "application/json"}, b'{"ok": 1}')
    ours = client()
    answer = ours.request("POST", recorder.base + "/upload", data=b"form", headers={"Authorization": "WCS k:s"})
    assert answer.code == 200 and answer.body == {"ok": 1}
    (m1, _, _, b1), (m2, p2, h2, b2) = recorder.seen
    assert (m1, b1, m2, p2, b2) == ("POST", b"form", "GET", "/done?x=1", b"")
    assert h2["Authorization"] == "WCS k:s" and "Content-Length" not in h2 and "Content-Type" not in h2
    # Not followed when the caller says so: the Location is the answer (a returnUrl upload).
    stopped = ours.request("POST", recorder.base + "/upload", data=b"form", allow_redirects=False)
    assert stopped.code == 303 and stopped.body == "/done?x=1"
    ours.close()


def test_a_307_repeats_the_post_and_another_origin_gets_no_signature(recorder):
    with loopback_server(_Recorder, seen=[], answers={}, lock=threading.Lock()) as other:
        recorder.answers["/a"] = (307, {"Location": "http://127.0.0.1:%d/b" % other.server_address[1]}, b"")
        ours = client()
        answer = ours.request("POST", recorder.base + "/a", data=b"again", headers={"Authorization": "WCS k:s"})
        ours.close()
        assert answer.code == 200
        [(method, path, headers, body)] = other.seen
    assert (method, path, body) == ("POST", "/b", b"again") and "Authorization" not in headers


def test_a_redirect_loop_ends_in_one_failed_attempt(recorder):
    recorder.answers["/loop"] = (302, {"Location": "/loop"}, b"")
    answer = client(retries=3).request("GET", recorder.base + "/loop")
    assert answer.code == -1 and "TooManyRedirects" in answer.message and answer.attempts == 1
    assert len(recorder.seen) == 31  # the first request and requests' 30 redirects


def test_a_header_that_would_split_the_request_is_refused_before_sending(recorder):
    answer = client().request("GET", recorder.base + "/x", headers={"x-wcs-meta-a": "1\r\nInjected: yes"})
    assert answer.code == -1 and "InvalidHeader" in answer.message and recorder.seen == []


def test_an_answer_cut_short_is_asked_again(recorder):
    calls = []

    def cut_then_whole(handler):
        calls.append(1)
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        if len(calls) == 1:
            handler.wfile.write(b'{"partial"')
            handler.close_connection = True
        else:
            handler.wfile.write(b'{"whole": "%s"}' % (b"x" * 87))  # 100 bytes

    recorder.answers["/cut"] = (200, {}, cut_then_whole)
    answer = client(retries=2).request("GET", recorder.base + "/cut")
    assert answer.code == 200 and answer.attempts == 2 and answer.body == {"whole": "x" * 87}


def test_cookies_set_on_a_direct_answer_go_back_with_the_next_request(recorder):
    recorder.answers["/login"] = (200, {"Set-Cookie": "session=abc; Path=/"}, b"{}")
    ours = client()
    assert ours.request("GET", recorder.base + "/login").ok and ours.request("POST", recorder.base + "/next").ok
    ours.close()
    assert "Cookie" not in recorder.seen[0][2] and recorder.seen[1][2]["Cookie"] == "session=abc"


def test_in_memory_bodies_skip_requests_send_and_streams_take_it(recorder):
    ours = client()
    through_requests = []
    send = ours.session.send
    ours.session.send = lambda *args, **kw: through_requests.append(1) or send(*args, **kw)
    assert ours.request("POST", recorder.base + "/small", data=b"in memory").ok
    assert ours.request("GET", recorder.base + "/listing").ok and through_requests == []
    assert ours.request("POST", recorder.base + "/big", body=lambda: (io.BytesIO(b"ab"), {"Content-Length": "2"})).ok
    assert through_requests == [1] and recorder.seen[-1][3] == b"ab"
    ours.close()


def test_a_redirect_to_a_url_it_cannot_follow_is_refused_not_sent_again(recorder):
    recorder.answers["/odd"] = (302, {"Location": "ftp://127.0.0.1/elsewhere"}, b"")
    answer = client(retries=2).request("POST", recorder.base + "/odd", data=b"once")
    assert answer.code == -1 and "InvalidURL" in answer.message and len(recorder.seen) == 1


def test_a_compressed_answer_and_repeated_headers_read_as_requests_reads_them(recorder):
    def gzipped(handler):
        body = gzip.compress('{"name": "\u00e9t\u00e9"}'.encode("utf-8"))
        handler.send_response(200)
        for name, value in [("Content-Type", "application/json"), ("Content-Encoding", "gzip"), ("X-Reqid", "r2"),
                            ("Vary", "Origin"), ("Vary", "Accept-Encoding"), ("Content-Length", str(len(body)))]:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    recorder.answers["/gz"] = (200, {}, gzipped)
    ours = client()
    answer = ours.request("GET", recorder.base + "/gz")
    ours.close()
    with plain_session() as session:
        theirs = session.get(recorder.base + "/gz")
    assert answer.body == {"name": "\u00e9t\u00e9"} and answer.text == theirs.text
    assert answer.headers == {name.lower(): value for name, value in theirs.headers.items()}
    assert answer.headers["vary"] == "Origin, Accept-Encoding"


def test_a_kept_connection_the_server_closed_is_replaced_without_a_failed_attempt(recorder):
    hung_up = threading.Event()

    def answer_then_hang_up(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"{}")
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_WR)  # no "Connection: close": the client still keeps it
        handler.close_connection = True
        hung_up.set()

    recorder.answers["/bye"] = (200, {}, answer_then_hang_up)
    ours = client(retries=0)
    assert ours.request("GET", recorder.base + "/bye").ok
    assert hung_up.wait(5)
    again = ours.request("POST", recorder.base + "/next", data=b"once")
    ours.close()
    assert again.ok and again.attempts == 1
    assert [seen[:2] for seen in recorder.seen] == [("GET", "/bye"), ("POST", "/next")]


def test_chunked_and_close_delimited_answers_read_as_requests_reads_them(recorder):
    def chunked(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for piece in (b'{"items": [', b'1, 2', b"]}"):
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        handler.wfile.write(b"0\r\n\r\n")

    def until_closed(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(b'{"to": "the end"}')
        handler.close_connection = True

    recorder.answers["/chunked"] = (200, {}, chunked)
    recorder.answers["/closed"] = (200, {}, until_closed)
    ours = client(retries=0)
    with plain_session() as session:
        for path in ("/chunked", "/closed", "/chunked", "/closed"):
            answer = ours.request("GET", recorder.base + path)
            theirs = session.get(recorder.base + path)
            assert answer.code == 200 and answer.body == theirs.json() and answer.text == theirs.text
    ours.close()


def test_the_request_target_is_encoded_as_requests_sends_it(recorder):
    ours = client()
    with plain_session() as session:
        for path in ("/a#fragment", "/a[1]?q=[x]", "/a%2fb?x=%2f"):
            assert ours.request("GET", recorder.base + path).ok and session.get(recorder.base + path).ok
    ours.close()
    paths = [seen[1] for seen in recorder.seen]
    assert paths[0::2] == paths[1::2] == ["/a", "/a%5B1%5D?q=%5Bx%5D", "/a%2Fb?x=%2F"]
