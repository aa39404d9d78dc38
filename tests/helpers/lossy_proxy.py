"""A loopback HTTP proxy that loses answers: the request reaches the server and is carried out, then the
client's connection is dropped (RST) instead of the answer being relayed. The emulator's own faults
strike before a request is handled; this is the other half of a lost answer, after it."""

import contextlib
import http.client
import random
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Optional
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class LossyProxy:
    """Counters ``forwarded`` and ``lost``; ``rate`` and ``lose`` may be changed while it runs."""

    def __init__(self, target: str, rate: float, seed: int = 1,
                 lose: Optional[Callable[[str, str], bool]] = None) -> None:
        self.target = urlsplit(target)
        self.rate = rate
        self.lose = lose or (lambda method, path: True)
        self.forwarded = 0
        self.lost = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() not in _HOP_BY_HOP and name.lower() != "host"}
                upstream = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port, timeout=30)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                except (OSError, http.client.HTTPException):  # the server dropped it: so does the proxy
                    self._drop()
                    return
                finally:
                    upstream.close()
                with proxy._lock:
                    proxy.forwarded += 1
                    drop = proxy.lose(self.command, self.path) and proxy._rng.random() < proxy.rate
                    if drop:
                        proxy.lost += 1
                if drop:
                    self._drop()
                    return
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _drop(self) -> None:
                self.close_connection = True
                try:  # linger 0: the close is an RST, as from a crashed middlebox
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            do_GET = do_POST = do_HEAD = _relay

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


@contextlib.contextmanager
def lossy_proxy(target: str, rate: float, seed: int = 1,
                lose: Optional[Callable[[str, str], bool]] = None) -> Iterator[LossyProxy]:
    """A running :class:`LossyProxy` in front of ``target``, stopped on exit."""
    proxy = LossyProxy(target, rate, seed, lose)
    proxy._thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
