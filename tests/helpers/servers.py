"""A throwaway HTTP server on 127.0.0.1 for tests that need something other than the emulator to talk to."""

import contextlib
import http.server
import threading


class FilesHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` ({path: bytes}) for GET and HEAD (404 for any other path), quietly."""

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.do_GET(body=False)

    def do_GET(self, body=True):
        data = self.server.files.get(self.path)
        self.send_response(200 if data is not None else 404)
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        if body and data:
            self.wfile.write(data)


@contextlib.contextmanager
def loopback_server(handler, **state):
    """A threaded HTTP server on 127.0.0.1 serving ``handler``; ``state`` becomes server attributes."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for name, value in state.items():
        setattr(server, name, value)
    # A short poll interval: shutdown() waits up to one interval, at the end of every test using this.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
