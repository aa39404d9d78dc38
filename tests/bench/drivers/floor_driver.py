"""The least a no-op sync of a folder must do, as a child process of the benchmark: its CPU floor.

``floor_driver.py CFG BUCKET PREFIX DIR CACHE``: the interpreter and our client's imports (what any
run of ours starts with), the listing of ``BUCKET/PREFIX`` page after page decoded into ``(key,
size, hash)`` tuples, a bare ``os.scandir`` walk of ``DIR`` with one ``stat`` per entry, and one
query of the etag cache ``CACHE`` (every row). Nothing is compared or decided: what ``wcscmd sync``
spends beyond this is its own overhead. Prints one JSON line (the counts and the time of each part).
"""

import json
import os
import sqlite3
import sys
import time


def walk(root):
    files = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif st.st_size >= 0:
                    files += 1
    return files


def main(cfg_path, bucket, prefix, root, cache):
    from wcs.commons.config import Config
    from wcs.services.client import Client

    times = {}
    started = time.perf_counter()
    with Client(Config(cfg_path)) as client:
        manager = client.bucket_manager()
        listed = []
        for page in manager.iter_pages(bucket, prefix=prefix, limit=1000):
            page.raise_for_status()
            listed.extend((item["key"], int(item["fsize"]), item["hash"]) for item in page.body.get("items") or [])
    times["listing"] = time.perf_counter() - started
    started = time.perf_counter()
    files = walk(root)
    times["walk"] = time.perf_counter() - started
    started = time.perf_counter()
    db = sqlite3.connect(cache)
    rows = db.execute("SELECT ident, size, mtime_ns, ctime_ns, etag FROM etags").fetchall()
    db.close()
    times["cache"] = time.perf_counter() - started
    print(json.dumps({"listed": len(listed), "files": files, "cached": len(rows),
                      "seconds": {name: round(value, 3) for name, value in times.items()}}))
    return 0 if len(listed) == files else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
