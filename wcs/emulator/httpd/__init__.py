"""The emulator's own HTTP/1.1 server: persistent connections, a bounded pool of workers, and no wait on
a client ever made by a worker.

Why not werkzeug's development server: one thread per connection, no timeouts, ``Connection: close`` on
every answer, and a dechunking reader that hands back more bytes than it holds (a crafted chunked body
killed the process). Why not cheroot or waitress: cheroot hands every new connection to a worker that
blocks reading its request line (measured: 100 silent connections delayed a request by 14 s with 10
workers and a 3 s timeout, and TLS handshakes run in its one selector thread); waitress reads each whole
request body before calling the app (no hashing as the bytes arrive, 1 GiB default cap) and has no TLS.
werkzeug stays what the app is written with (requests, responses, routing).

How a connection goes (modules):

* :mod:`~wcs.emulator.httpd.gate`: one selector thread accepts, completes TLS handshakes, gathers a
  request's head (:mod:`~wcs.emulator.httpd.head`) and its body's first bytes (what they call for:
  :mod:`~wcs.emulator.httpd.intake`), and holds connections that are idle between requests, lingering,
  or being written to slowly (where each connection is: :mod:`~wcs.emulator.httpd.connections`);
* :mod:`~wcs.emulator.httpd.exchange`: a worker runs the WSGI app for one request, reading the body
  through :mod:`~wcs.emulator.httpd.body` (framing by ``Content-Length`` or
  :mod:`~wcs.emulator.httpd.chunked`, never a byte past the end) and writing the answer
  (:mod:`~wcs.emulator.httpd.answer`), then hands the connection back;
* :mod:`~wcs.emulator.httpd.limits`: connection, worker, timeout and rate limits (:class:`Limits`);
* :mod:`~wcs.emulator.httpd.server`: :class:`Server` (the pool, shutdown), :func:`listen`, :func:`tls_context`.
"""

from wcs.emulator.httpd.answer import error_bytes
from wcs.emulator.httpd.intake import PREBUFFER
from wcs.emulator.httpd.limits import Limits
from wcs.emulator.httpd.server import Server, listen, tls_context

__all__ = ["Server", "Limits", "listen", "tls_context", "error_bytes", "PREBUFFER"]
