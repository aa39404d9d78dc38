"""The benchmark cases on a shaped link: what a user sees over the internet, ours against the official SDK.

Every request of both SDKs goes through one :class:`~tests.bench.shaper.Shaper` (their configs name
it as the emulator), so each connection pays the round-trip time and is held to its bandwidth, and
all of them share the total: the client that keeps the link full wins. Each case runs the two sides
alternately, as the loopback cases do, and reports wall time, peak RSS, bytes read and what the link
carried (:class:`~tests.bench.children.Run` ``extra``).

* ``shaped_multiput``: one 256 MiB file by both ``wcscmd multiput`` (4 MiB blocks, ``concurrency``).
* ``shaped_get``: one 256 MiB object; ours ``wcscmd get wcs://...`` (parallel ranges), the official
  ``wcscmd get URL`` (one stream).
* ``shaped_put_tree``, ``shaped_resync``, ``shaped_listings``: many objects (:mod:`tests.bench.shaped_many`).
* ``shaped_get_parts`` and ``shaped_range_reads``: one object's bytes (:mod:`tests.bench.shaped_io`).
"""

import os
from typing import Any, Callable, Dict, List, Optional

from tests.bench.children import BenchError, CaseResult, Run
from tests.bench.emulation import MiB, Tree, make_file
from tests.bench.shaped_io import IO_CASES, IoCases
from tests.bench.shaped_many import MANY_CASES, ManyCases

OURS, OFFICIAL = "ours", "official"
SHAPED_CASES = (
    "shaped_multiput",
    "shaped_get",
) + MANY_CASES + IO_CASES  # one entry per case: shaped_many.py and shaped_io.py list theirs
DRIVERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drivers")


class ShapedCases(ManyCases, IoCases):
    """The shaped cases, mixed into :class:`~tests.bench.harness.Bench` (needs its sides, client, shaper...)."""

    root: str
    sizes: Any
    sides: Dict[str, Any]
    client: Any
    shaper: Any
    say: Callable[[str], None]
    workdir: str
    resync_tree: Optional[Tree]
    results: List[CaseResult]

    def _child(self, env: Dict[str, str], argv: List[str]) -> Run:
        raise NotImplementedError  # provided by Bench

    def _pairs(self, result: CaseResult, sides: Any, pairs: int, one: Callable[[str, int], Run]) -> CaseResult:
        raise NotImplementedError  # provided by Bench

    # -- helpers --------------------------------------------------------------------------------

    def _shaped(self, side: str, *argv: str) -> List[str]:
        info = self.sides[side]
        return info.wcscmd + ["-c", info.shaped_config] + list(argv)

    def _driver(self, side: str, *argv: str) -> List[str]:
        info = self.sides[side]
        script = os.path.join(DRIVERS, "%s_driver.py" % side)
        return [info.python, script, argv[0], info.shaped_config] + list(argv[1:])

    def _check_tree(self, bucket: str, prefix: str, tree: Tree) -> None:
        want = {prefix + rel: (size, etag) for rel, size, etag in tree.files}
        got = {info.key: (info.size, info.hash) for info in self.client.list_objects(bucket, prefix)}
        if got != want:
            wrong = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            raise BenchError("%s/%s holds %d objects, want %d; first differences: %s"
                             % (bucket, prefix, len(got), len(want), wrong[:5]))

    def _check_object(self, bucket: str, key: str, size: int, etag: str) -> None:
        raise NotImplementedError  # provided by Bench

    # -- cases ----------------------------------------------------------------------------------

    def case_shaped_multiput(self) -> None:
        from wcs.commons.util import etag

        size = self.sizes.transfer
        path = os.path.join(self.root, "shaped-multiput.bin")
        make_file(path, size)
        want = etag(path)
        result = CaseResult("shaped_multiput", "multiput one %d MiB file" % (size // MiB), nbytes=size)
        result.how[OURS] = "`wcscmd multiput`, 4 MiB blocks, concurrency %d" % self.sizes.concurrency

        def one(name: str, i: int) -> Run:
            key = "shaped-multiput-%s-%d" % (name, i)
            run = self._child(self.sides[name].env, self._shaped(name, "multiput", "wcs://bench/" + key, path))
            self._check_object("bench", key, size, want)
            return run

        self._pairs(result, (OURS, OFFICIAL), self.sizes.pairs, one)
        os.unlink(path)

    def case_shaped_get(self) -> None:
        from wcs.commons.util import etag

        size = self.sizes.transfer
        path = os.path.join(self.root, "shaped-get-source.bin")
        make_file(path, size)
        want = etag(path)
        self.client.multipart_upload(path, "bench", "shaped-get.bin").raise_for_status()
        os.unlink(path)
        target = os.path.join(self.root, "shaped-downloaded.bin")
        result = CaseResult("shaped_get", "download one %d MiB object" % (size // MiB), nbytes=size)
        result.how[OURS] = "`wcscmd get wcs://...`: ranges of %d MiB, concurrency %d" % (
            self.sizes.part_size // MiB, self.sizes.concurrency)

        def one(name: str, i: int) -> Run:
            source = "wcs://bench/shaped-get.bin" if name == OURS else "%s/bench/shaped-get.bin" % self.shaper.url
            run = self._child(self.sides[name].env, self._shaped(name, "get", source, target))
            got = os.path.getsize(target) if os.path.exists(target) else -1
            if got != size or etag(target) != want:
                raise BenchError("%s get: %d bytes, want %d with etag %s" % (name, got, size, want))
            os.unlink(target)
            return run

        self._pairs(result, (OURS, OFFICIAL), self.sizes.pairs, one)
        self.client.delete("bench", "shaped-get.bin")
