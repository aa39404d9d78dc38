"""Benchmark driver for the official SDK 5.0.36, run by the harness as a child with that SDK's python.

* ``put-tree CFG BUCKET PREFIX DIR``: upload every file under DIR to ``BUCKET/PREFIX<relative path>``
  in one process, looping over ``Client.simple_upload`` (what a program using the official SDK does:
  it has no recursive upload, and its ``Config`` is a process-wide singleton, so one client, one
  file after the other).
* ``check-tree CFG BUCKET PREFIX DIR``: the best no-op "sync" the official SDK allows: list the
  prefix page by page (``bucket_list``) and compare every local file by size and etag (it has no
  cache of local etags, so every file is read).

Each prints one JSON line and exits 1 if a call failed (the official calls return a status, they
do not raise).
"""

import json
import os
import sys

from wcs.commons.config import Config
from wcs.commons.util import etag_stream
from wcs.services.client import Client


def walk(root):
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            yield path, os.path.relpath(path, root).replace(os.sep, "/")


def put_tree(cfg_path, bucket, prefix, root):
    client = Client(Config(cfg_path))
    files = nbytes = failed = 0
    for path, rel in walk(root):
        answer = client.simple_upload(path, bucket, prefix + rel)
        if answer[0] == 200:
            files += 1
            nbytes += os.path.getsize(path)
        else:
            failed += 1
            print("%s: %s %s" % (path, answer[0], str(answer[1])[:200]), file=sys.stderr)
    print(json.dumps({"files": files, "bytes": nbytes, "failed": failed}))
    return 1 if failed else 0


def check_tree(cfg_path, bucket, prefix, root):
    client = Client(Config(cfg_path))
    remote = {}
    marker = None
    pages = 0
    while True:
        answer = client.bucket_list(bucket, prefix=prefix, marker=marker, limit=1000)
        pages += 1
        if answer[0] != 200:
            print("list: %s %s" % (answer[0], str(answer[1])[:200]), file=sys.stderr)
            return 1
        body = answer[1]
        for item in body.get("items", []):
            remote[item["key"]] = (int(item["fsize"]), item["hash"])
        marker = body.get("marker")
        if not marker:
            break
    same = differ = 0
    for path, rel in walk(root):
        with open(path, "rb") as fp:
            local = (os.fstat(fp.fileno()).st_size, etag_stream(fp))
        if remote.get(prefix + rel) == local:
            same += 1
        else:
            differ += 1
    print(json.dumps({"same": same, "differ": differ, "pages": pages}))
    return 0


def main(argv):
    commands = {"put-tree": put_tree, "check-tree": check_tree}
    if len(argv) == 5 and argv[0] in commands:
        return commands[argv[0]](*argv[1:])
    print(__doc__.split("\n\n")[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
