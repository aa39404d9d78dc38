"""Benchmark driver for ``wcs://`` reads through fsspec, run by the harness as a child with an interpreter
that has pandas and pyarrow, and our checkout on ``PYTHONPATH``.

* ``read-column CFG URL COLUMN [CACHE_TYPE]``: ``pd.read_parquet(URL, columns=[COLUMN])`` with
  ``storage_options={"config": CFG}``; with CACHE_TYPE the file is opened by hand with that fsspec
  cache (pandas cannot pass one) and handed to ``pd.read_parquet``.
* ``read-seq CFG URL READ_SIZE [CACHE_TYPE]``: open URL and read it to the end in READ_SIZE reads.

Each prints one JSON line: the seconds the reading took (imports and start-up excluded), what it
read, and the file's cache counters when it has them.
"""

import json
import sys
import time


def read_column(cfg, url, column, cache_type=None):
    import fsspec
    import pandas as pd

    started = time.perf_counter()
    stats = {}
    if cache_type:
        fs, path = fsspec.core.url_to_fs(url, config=cfg)
        with fs.open(path, "rb", cache_type=cache_type) as fp:
            frame = pd.read_parquet(fp, columns=[column])
            stats = _cache_stats(fp)
    else:
        frame = pd.read_parquet(url, columns=[column], storage_options={"config": cfg})
    seconds = time.perf_counter() - started
    print(json.dumps(dict(stats, seconds=seconds, rows=len(frame), columns=list(frame.columns),
                          checksum=float(frame[column].sum()))))
    return 0


def read_seq(cfg, url, read_size, cache_type=None):
    import hashlib

    import fsspec

    fs, path = fsspec.core.url_to_fs(url, config=cfg)
    options = {"cache_type": cache_type} if cache_type else {}
    started = time.perf_counter()
    digest = hashlib.sha1()
    total = 0
    with fs.open(path, "rb", **options) as fp:
        while True:
            data = fp.read(int(read_size))
            if not data:
                break
            digest.update(data)
            total += len(data)
        stats = _cache_stats(fp)
    seconds = time.perf_counter() - started
    print(json.dumps(dict(stats, seconds=seconds, bytes=total, sha1=digest.hexdigest())))
    return 0


def _cache_stats(fp):
    cache = getattr(fp, "cache", None)
    return {"cache": getattr(cache, "name", "?"), "hits": getattr(cache, "hit_count", -1),
            "misses": getattr(cache, "miss_count", -1), "requested": getattr(cache, "total_requested_bytes", -1)}


def main(argv):
    commands = {"read-column": read_column, "read-seq": read_seq}
    if len(argv) in (4, 5) and argv[0] in commands:
        return commands[argv[0]](*argv[1:])
    print(__doc__.split("\n\n")[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
