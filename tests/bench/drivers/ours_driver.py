"""Benchmark driver for our SDK, run by the harness as a child: ``ours_driver.py put-tree CFG BUCKET PREFIX DIR``.

``put-tree`` uploads every file under DIR to ``BUCKET/PREFIX<relative path>`` the way a program using
the SDK would when ``wcscmd put -r`` / ``sync`` do not exist: one form upload per file, all of them
on the client's one scheduler (``concurrency`` files at once). Prints one JSON line
(``files``, ``bytes``); exits 1 if any upload failed.
"""

import json
import os
import sys

from wcs.commons.config import Config
from wcs.services.client import Client


def walk(root):
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            yield path, os.path.relpath(path, root).replace(os.sep, "/")


def put_tree(cfg_path, bucket, prefix, root):
    failed = 0
    nbytes = 0
    with Client(Config(cfg_path)) as client:
        scheduler = client.scheduler_for(client.cfg.transfer)
        with scheduler.group() as group:
            futures = {group.submit(client.simple_upload, path, bucket, prefix + rel): path
                       for path, rel in walk(root)}
            for future in group.as_completed():
                result = future.result()
                if result.ok:
                    nbytes += os.path.getsize(futures[future])
                else:
                    failed += 1
                    print("%s: %s %s" % (futures[future], result.code, result.text[:200]), file=sys.stderr)
    print(json.dumps({"files": len(futures) - failed, "bytes": nbytes, "failed": failed}))
    return 1 if failed else 0


def main(argv):
    if len(argv) == 5 and argv[0] == "put-tree":
        return put_tree(*argv[1:])
    print(__doc__.split("\n\n")[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
