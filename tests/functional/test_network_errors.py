"""Transport failures typed where they happen: each ``NetworkError.kind`` from a real socket situation on 127.0.0.1.

Every case goes through :class:`~wcs.commons.http.HttpClient` over a real socket; the error's
``kind``, ``url``, ``host``, ``port`` and ``reason`` are what the CLI's line is made of. Two
situations cannot come from loopback as such: a name lookup (the system resolver asks the network
about ``nonexistent.invalid``), so that one answers "no such name" through a resolver stub, and a
connect timeout, which comes from a listener whose accept queue is full (Linux drops the SYN; the
test is skipped where the system answers it anyway) and is also checked on the exception requests
raises for it.
"""

import contextlib
import errno
import http.server
import shutil
import socket
import ssl
import struct
import subprocess
import threading

import pytest
import requests
import urllib3

from tests.helpers.servers import loopback_server
from wcs.commons.errors import NetworkError, NetworkKind
from wcs.commons.http import Backoff, HttpClient, network_error

TIMEOUT = 0.5


def client(**kw):
    return HttpClient(timeout=TIMEOUT, retries=0, backoff=Backoff(base=0.001, cap=0.01), **kw)


def failure(url, **kw):
    """The NetworkError of one GET of ``url`` that got no answer."""
    result = client(**kw).request("GET", url)
    assert result.code == -1, result
    assert isinstance(result.error, NetworkError)
    return result.error


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def listener(backlog=8):
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(backlog)
        yield sock
    finally:
        sock.close()


@contextlib.contextmanager
def serving(sock, answer):
    """Accept connections on ``sock`` in a thread; ``answer(conn)`` handles each (the test's side of the wire)."""
    stop = threading.Event()

    def loop():
        sock.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                answer(conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/obj?x=1" % sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()


def rst(conn):
    """Make the close of ``conn`` a TCP RST (linger 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def reset(conn):
    """Drop the connection with a RST after reading the request."""
    conn.settimeout(2)
    with contextlib.suppress(OSError):
        conn.recv(65536)
    rst(conn)


def assert_where(error, url, port):
    assert (error.url, error.host, error.port) == (url, "127.0.0.1", port)
    assert error.address == "127.0.0.1:%d" % port


def test_a_closed_port_is_refused():
    port = closed_port()
    url = "http://127.0.0.1:%d/k" % port
    error = failure(url)
    assert error.kind == NetworkKind.REFUSED == "refused"
    assert_where(error, url, port)
    assert error.reason == "[Errno %d] %s" % (errno.ECONNREFUSED, "Connection refused")
    assert not error.connected and error.retryable
    assert "ConnectionError" in str(error)  # the library's whole text stays the message


def test_a_listener_that_never_answers_is_a_read_timeout():
    with listener() as sock:
        port = sock.getsockname()[1]
        url = "http://127.0.0.1:%d/k" % port
        error = failure(url)
    assert error.kind == NetworkKind.READ_TIMEOUT
    assert_where(error, url, port)
    assert error.reason == "nothing received for 0.5 s"
    assert error.connected and error.retryable


def test_a_server_that_resets_is_a_reset():
    with listener() as sock, serving(sock, reset) as url:
        error = failure(url)
        port = sock.getsockname()[1]
    assert error.kind == NetworkKind.RESET
    assert_where(error, url, port)
    assert error.reason == "[Errno %d] Connection reset by peer" % errno.ECONNRESET
    assert error.connected and error.retryable


def test_a_server_that_closes_without_answering_is_a_reset():
    with listener() as sock, serving(sock, lambda conn: conn.recv(65536)) as url:
        error = failure(url)
    assert error.kind == NetworkKind.RESET and error.connected and error.retryable
    assert error.reason  # "Remote end closed connection without response", or a reset on some systems


def _half_body(conn):
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"e\"\r\n\r\n" + b"x" * 400)
    rst(conn)


def test_a_body_cut_off_is_a_reset_of_the_response_url():
    with listener() as sock, serving(sock, _half_body) as url:
        received = []
        result = client().get_body(url, received.append)
        port = sock.getsockname()[1]
    assert result.code == -1 and isinstance(result.error, NetworkError)
    assert result.error.kind == NetworkKind.RESET and result.error.retryable
    assert_where(result.error, url, port)
    assert sum(map(len, received)) <= 400


class _Plain(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # name fixed by http.server
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_https_to_a_plain_http_server_is_not_tls():
    with loopback_server(_Plain) as server:
        port = server.server_address[1]
        url = "https://127.0.0.1:%d/k" % port
        error = failure(url)
    assert error.kind == NetworkKind.NOT_TLS
    assert_where(error, url, port)
    assert error.reason == "WRONG_VERSION_NUMBER"
    assert not error.retryable


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("cert")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def _tls_handshake(context):
    def answer(conn):
        conn.settimeout(2)
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)
    return answer


def test_a_self_signed_certificate_is_tls_untrusted(self_signed):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed)
    with listener() as sock, serving(sock, _tls_handshake(context)) as url:
        url = url.replace("http://", "https://")
        error = failure(url)
        port = sock.getsockname()[1]
    assert error.kind == NetworkKind.TLS_UNTRUSTED
    assert_where(error, url, port)
    assert error.reason == "certificate verify failed: self-signed certificate"
    assert not error.retryable and error.connected


def test_an_unresolvable_name_is_dns(monkeypatch):
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        # What the system's resolver answers for a name under .invalid (RFC 6761), without asking
        # a name server on the network as it would.
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    error = failure("http://nonexistent.invalid:8080/k")
    assert error.kind == NetworkKind.DNS
    assert (error.host, error.port, error.address) == ("nonexistent.invalid", 8080, "nonexistent.invalid:8080")
    assert error.reason == "[Errno %d] Name or service not known" % socket.EAI_NONAME
    assert not error.connected and error.retryable


@contextlib.contextmanager
def full_accept_queue():
    """A listener with backlog 0 whose queue holds one unaccepted connection: Linux drops further SYNs."""
    with listener(backlog=0) as sock:
        port = sock.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                fillers.append(filler)
                filler.settimeout(0.2)
                try:
                    filler.connect(("127.0.0.1", port))
                except socket.timeout:
                    break  # the queue is full: the next connect waits as this one did
            else:
                pytest.skip("this system completes connections beyond the listen backlog")
            yield port
        finally:
            for filler in fillers:
                filler.close()


def test_a_full_accept_queue_is_a_connect_timeout():
    with full_accept_queue() as port:
        url = "http://127.0.0.1:%d/k" % port
        error = failure(url)
    assert error.kind == NetworkKind.CONNECT_TIMEOUT
    assert_where(error, url, port)
    assert error.reason == "connection timed out after 0.5 s"
    assert not error.connected and error.retryable


def _wrapped(cause, outer=requests.ConnectionError, url="https://h.example:8443/k"):
    """The exception requests raises for urllib3's ``cause`` at the end of its retries."""
    pool = urllib3.HTTPSConnectionPool("h.example", 8443)
    return outer(urllib3.exceptions.MaxRetryError(pool, "/k", cause), request=requests.Request("GET", url).prepare())


def test_translation_of_a_connect_timeout_as_requests_raises_it():
    conn = urllib3.connection.HTTPSConnection("h.example", 8443)
    cause = urllib3.exceptions.ConnectTimeoutError(conn, "Connection to h.example timed out. (connect timeout=3)")
    error = network_error(_wrapped(cause, requests.exceptions.ConnectTimeout), timeout=3)
    assert (error.kind, error.address, error.reason) == (NetworkKind.CONNECT_TIMEOUT, "h.example:8443",
                                                         "connection timed out after 3 s")
    assert error.url == "https://h.example:8443/k" and not error.connected and error.retryable


def test_translation_of_another_tls_failure():
    alert = ssl.SSLError(1, "[SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error (_ssl.c:1006)")
    alert.reason = "TLSV1_ALERT_INTERNAL_ERROR"
    error = network_error(_wrapped(urllib3.exceptions.SSLError(alert), requests.exceptions.SSLError))
    assert error.kind == NetworkKind.TLS and error.address == "h.example:8443"
    assert error.reason == "tlsv1 alert internal error (TLSV1_ALERT_INTERNAL_ERROR)"
    assert not error.retryable


def test_translation_of_an_unreachable_network():
    conn = urllib3.connection.HTTPConnection("far.example", 80)
    cause = urllib3.exceptions.NewConnectionError(conn, "Failed to establish a new connection")
    cause.__cause__ = OSError(errno.ENETUNREACH, "Network is unreachable")
    error = network_error(_wrapped(cause, url="http://far.example/k"))
    assert (error.kind, error.address) == (NetworkKind.UNREACHABLE, "far.example:80")
    assert error.reason == "[Errno %d] Network is unreachable" % errno.ENETUNREACH and not error.connected


def test_a_redirect_names_the_host_that_failed():
    port = closed_port()

    class Redirect(_Plain):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:%d/elsewhere" % port)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with loopback_server(Redirect) as server:
        error = failure("http://127.0.0.1:%d/k" % server.server_address[1])
    assert error.kind == NetworkKind.REFUSED and error.port == port
    assert error.url == "http://127.0.0.1:%d/elsewhere" % port


class _Body(_Plain):
    def do_GET(self):
        self.server.gets += 1
        body = b"x" * 3000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   BrokenPipeError(errno.EPIPE, "Broken pipe")], ids=["full-disk", "closed-pipe"])
def test_the_sinks_own_oserror_is_not_a_network_error(error):
    def sink(data):
        raise error

    with loopback_server(_Body, gets=0) as server:
        with pytest.raises(OSError) as raised:
            HttpClient(timeout=5, retries=3, backoff=Backoff(base=0.001, cap=0.01)).get_body(
                "http://127.0.0.1:%d/k" % server.server_address[1], sink, read_size=1000)
        assert raised.value is error and server.gets == 1  # unchanged, at once, never retried
