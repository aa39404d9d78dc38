"""Test files with known content: ``write_file`` and the ``MiB`` unit the sizes are written in; a folder
of given files (``make_tree``) and the etag of bytes (``etag_of``)."""

import functools
import os

from wcs.commons.util import EtagHasher

MiB = 1024 * 1024


@functools.lru_cache(maxsize=8)
def _pattern(seed):
    # Byte i is (i * 31 + seed) % 251, a sequence with period 251: build one period and repeat it
    # (a generator over the whole MiB costs 0.1 s per seed).
    period = bytes((i * 31 + seed) % 251 for i in range(251))
    return (period * ((MiB + 7) // 251 + 1))[: MiB + 7]


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


def make_tree(root, files):
    """Write ``{rel: bytes}`` under the folder ``root`` (made as needed; an int instead of bytes: that many
    deterministic bytes, :func:`write_file`); returns ``root`` as str."""
    for rel, data in files.items():
        path = os.path.join(str(root), *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(data, int):
            write_file(path, data, seed=len(rel))
        else:
            with open(path, "wb") as fp:
                fp.write(data)
    return str(root)


def etag_of(data):
    """The WCS etag of ``data`` (bytes)."""
    hasher = EtagHasher()
    hasher.update(data)
    return hasher.etag()
