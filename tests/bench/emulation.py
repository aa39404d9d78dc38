"""What the benchmarks run against: one ``wcs-emulator`` process, its buckets seeded, and the local files.

Buckets are seeded through the emulator's state layer (:meth:`wcs.emulator.state.Store.put_files`)
before it starts serving: it is the same code path an upload ends in (file renamed into place, then
its row), without 100,000 HTTP round trips, and all rows in one transaction.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

from tests.bench.children import BenchError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MiB = 1024 * 1024
KiB = 1024


def seed_bucket(data_dir: str, bucket: str, count: int, prefix: str = "objects/",
                names: Optional[Iterable[str]] = None) -> None:
    """Put ``count`` small objects (``<prefix>000000.txt`` ..., or the keys ``names``) into ``bucket``
    (before the emulator serves)."""
    from wcs.commons.util import EtagHasher
    from wcs.emulator.state import Store

    store = Store(data_dir)

    keys = names if names is not None else ("%s%06d.txt" % (prefix, i) for i in range(count))

    def items() -> Iterator[Tuple[str, str, int, str, str]]:
        for i, key in enumerate(keys):
            data = ("object %d\n" % i).encode()
            hasher = EtagHasher()
            hasher.update(data)
            temp = store.new_temp_path()
            with open(temp, "wb") as fp:
                fp.write(data)
            yield key, temp, len(data), hasher.etag(), "text/plain"

    try:
        store.create_bucket(bucket)
        store.put_files(bucket, items())
    finally:
        store.close()


def seed_tree(data_dir: str, bucket: str, prefix: str, tree: "Tree") -> None:
    """Make ``bucket``/``prefix`` hold exactly the files of ``tree`` (same keys, sizes and etags), as if
    it had been uploaded: each file is hard-linked into the store (stored files are never modified)."""
    from wcs.emulator.state import Store

    store = Store(data_dir)

    def items() -> Iterator[Tuple[str, str, int, str, str]]:
        for rel, size, etag in tree.files:
            temp = store.new_temp_path()
            try:
                os.link(os.path.join(tree.root, rel), temp)
            except OSError:
                shutil.copyfile(os.path.join(tree.root, rel), temp)
            yield prefix + rel, temp, size, etag, "application/octet-stream"

    try:
        store.create_bucket(bucket)
        store.put_files(bucket, items())
    finally:
        store.close()


class EmulatorProcess:
    """``python -m wcs.emulator`` on 127.0.0.1, a free port, a given data dir."""

    def __init__(self, data_dir: str, buckets: Sequence[str], config: str) -> None:
        self.data_dir = data_dir
        self.buckets = list(buckets)
        self.config = config
        self.proc: Optional[subprocess.Popen] = None
        self.url = ""

    @property
    def address(self) -> Tuple[str, int]:
        host, _, port = self.url.split("//", 1)[1].rpartition(":")
        return host, int(port)

    def start(self) -> "EmulatorProcess":
        argv = [sys.executable, "-m", "wcs.emulator", "--host", "127.0.0.1", "--port", "0",
                "--data-dir", self.data_dir, "--write-config", self.config]
        for name in self.buckets:
            argv += ["--bucket", name]
        env = dict(os.environ, PYTHONPATH=REPO)
        self.proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if "listening on" not in line:
            self.stop()
            raise BenchError("wcs-emulator did not start: %r" % line)
        self.url = line.strip().rsplit(" ", 1)[-1]
        return self

    def cpu_seconds(self) -> float:
        """User + system CPU time of the emulator process so far (0 when unknown)."""
        if self.proc is None:
            return 0.0
        return process_cpu("/proc/%d/stat" % self.proc.pid)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None


def process_cpu(stat_path: str) -> float:
    """User + system seconds from a ``/proc/.../stat`` file (a process or one thread); 0 when unknown."""
    try:
        with open(stat_path, encoding="ascii") as fp:
            fields = fp.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


# -- local files ----------------------------------------------------------------------------------


def make_file(path: str, size: int) -> None:
    """``size`` bytes of incompressible data, written in 4 MiB chunks."""
    with open(path, "wb") as fp:
        left = size
        chunk = os.urandom(4 * MiB)
        while left > 0:
            take = min(left, len(chunk))
            fp.write(chunk[:take])
            left -= take
            chunk = chunk[1:] + chunk[:1]  # different blocks, cheaply


class Tree:
    """A directory of ``count`` files of ``low``..``high`` bytes (uniform, fixed seed), 100 per folder,
    with each file's relative path, size and etag."""

    def __init__(self, root: str, count: int, low: int = 4 * KiB, high: int = 64 * KiB, seed: int = 17) -> None:
        from wcs.commons.util import etag

        self.root = root
        self.files: List[Tuple[str, int, str]] = []
        rng = random.Random(seed)
        pool = os.urandom(high + 4096)
        for i in range(count):
            rel = "d%03d/f%05d.bin" % (i // 100, i)
            path = os.path.join(root, rel)
            if i % 100 == 0:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            size = rng.randint(low, high)
            start = rng.randrange(4096)
            with open(path, "wb") as fp:
                fp.write(i.to_bytes(8, "big") + pool[start:start + size - 8])  # distinct contents
            self.files.append((rel, size, etag(path)))

    @property
    def nbytes(self) -> int:
        return sum(size for _, size, _ in self.files)

    def __len__(self) -> int:
        return len(self.files)
