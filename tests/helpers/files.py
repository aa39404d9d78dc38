"""Test files with known content: ``write_file`` and the ``MiB`` unit the sizes are written in."""

import functools

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
