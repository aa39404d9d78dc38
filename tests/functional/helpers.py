"""Helpers shared by the service tests (plain functions; fixtures are in conftest.py)."""

import contextlib
import functools
import http.server
import threading

MiB = 1024 * 1024


@functools.lru_cache(maxsize=8)
def _pattern(seed):
    return bytes((i * 31 + seed) % 251 for i in range(MiB + 7))


def write_file(path, size, seed=0):
    """Write ``size`` deterministic bytes (different per ``seed`` and per MiB) to ``path``; returns it as str."""
    pattern = _pattern(seed)
    with open(str(path), "wb") as fp:
        left, n = size, 0
        while left:
            piece = pattern[n % 7:][: min(left, MiB)]
            fp.write(piece)
            left -= len(piece)
            n += 1
    return str(path)


def batch_log(emulator, upload_id):
    """``(block_order, block_size)`` of the completed mkblk calls of one upload, in arrival order."""
    return [(order, size) for batch, order, size in emulator.mkblk_log if batch == upload_id]


@contextlib.contextmanager
def loopback_server(handler, **state):
    """A threaded HTTP server on 127.0.0.1 serving ``handler``; ``state`` becomes server attributes."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for name, value in state.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
