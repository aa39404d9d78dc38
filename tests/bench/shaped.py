"""The benchmark cases on a shaped link: what a user sees over the internet, ours against the official SDK.

Every request of both SDKs goes through one :class:`~tests.bench.shaper.Shaper` (their configs name
it as the emulator), so each connection pays the round-trip time and is held to its bandwidth, and
all of them share the total: the client that keeps the link full wins. Each case runs the two sides
alternately, as the loopback cases do, and reports wall time, peak RSS, bytes read and what the link
carried (:class:`~tests.bench.children.Run` ``extra``).

* ``shaped_put_tree``: 1,000 files of 4-64 KiB. Ours is ``wcscmd put -r`` (or ``wcscmd sync``) when
  the checkout has them, else our SDK from one process with every file on the client's scheduler
  (the row says which). The official SDK has no recursive upload: one process looping over its
  ``simple_upload`` (:mod:`tests.bench.drivers.official_driver`).
* ``shaped_multiput``: one 256 MiB file by both ``wcscmd multiput`` (4 MiB blocks, ``concurrency``).
* ``shaped_get``: one 256 MiB object; ours ``wcscmd get wcs://...`` (parallel ranges), the official
  ``wcscmd get URL`` (one stream).
* ``shaped_resync``: ``wcscmd sync`` of 10,000 files that the bucket already holds, run twice: the
  first run hashes every file (``shaped_resync_cold``), the re-runs are the no-op. The official SDK's
  best equivalent lists the prefix and compares every file's etag (it has nothing to cache them in).
* ``shaped_listall``: ``wcscmd listall`` of 100,000 objects, and ``shaped_plan``: the sync planner on
  them (``wcscmd sync --dry-run`` from the bucket into an empty folder), when the checkout has sync.
* ``shaped_get_parts`` and ``shaped_range_reads``: one object's bytes (:mod:`tests.bench.shaped_io`).
"""

import os
import re
import shutil
from typing import Any, Callable, Dict, List, Optional, Tuple

from tests.bench.children import BenchError, CaseResult, Run, run_quietly
from tests.bench.emulation import MiB, Tree, make_file
from tests.bench.shaped_io import IO_CASES, IoCases

OURS, OFFICIAL = "ours", "official"
SHAPED_CASES = ("shaped_put_tree", "shaped_multiput", "shaped_get", "shaped_resync", "shaped_listall") + IO_CASES
DRIVERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drivers")
SYNC_MISSING = "n/a: sync not on this branch"


class ShapedCases(IoCases):
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
    _ours_commands: Optional[Dict[str, List[str]]] = None

    def _child(self, env: Dict[str, str], argv: List[str]) -> Run:
        raise NotImplementedError  # provided by Bench

    def _pairs(self, result: CaseResult, sides: Any, pairs: int, one: Callable[[str, int], Run]) -> CaseResult:
        raise NotImplementedError  # provided by Bench

    # -- what our checkout can do -------------------------------------------------------------

    def ours_commands(self) -> Dict[str, List[str]]:
        """Our tree commands that exist: ``{"put -r": [...flags], "sync": [...flags]}`` (flags: ``--transfers``
        when the command has it). A command that does not exist exits 2 ('unknown command')."""
        if self._ours_commands is None:
            side = self.sides[OURS]
            found: Dict[str, List[str]] = {}
            for name, argv in (("put -r", ["put", "--help"]), ("sync", ["sync", "--help"])):
                proc = run_quietly(side.wcscmd + argv, self.workdir, side.env)
                text = proc.stdout + proc.stderr
                if proc.returncode != 0:
                    continue
                if name == "put -r" and not re.search(r"(^|[\s,\[])(-r|--recursive)\b", text):
                    continue
                flags = ["--transfers", str(self.sizes.concurrency)] if "--transfers" in text else []
                found[name] = flags
            self._ours_commands = found
            self.say("  our tree commands: %s" % (", ".join(found) or "none (SDK fallback)"))
        return self._ours_commands

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

    def case_shaped_put_tree(self) -> None:
        count = self.sizes.tree_files
        tree = Tree(os.path.join(self.root, "put-tree"), count)
        commands = self.ours_commands()
        result = CaseResult("shaped_put_tree", "upload %d files of 4-64 KiB (%.1f MB)" % (count, tree.nbytes / 1e6),
                            nbytes=tree.nbytes)
        transfers = "%d at once" % self.sizes.concurrency
        if "put -r" in commands:
            result.how[OURS] = "`wcscmd put -r` %s" % " ".join(commands["put -r"])
        elif "sync" in commands:
            result.how[OURS] = "`wcscmd sync` %s" % " ".join(commands["sync"])
        else:
            result.how[OURS] = "SDK: `simple_upload` per file on the client's scheduler (%s); no `put -r`/`sync` " \
                               "on this branch" % transfers

        def one(name: str, i: int) -> Run:
            side = self.sides[name]
            prefix = "run-%s-%d/" % (name, i)
            target = "wcs://tree/" + prefix
            if name == OFFICIAL:
                argv = self._driver(OFFICIAL, "put-tree", "tree", prefix, tree.root)
            elif "put -r" in commands:
                argv = self._shaped(OURS, "put", "-r", *commands["put -r"], target, tree.root)
            elif "sync" in commands:
                argv = self._shaped(OURS, "sync", *commands["sync"], tree.root, target)
            else:
                argv = self._driver(OURS, "put-tree", "tree", prefix, tree.root)
            run = self._child(side.env, argv)
            self._check_tree("tree", prefix, tree)
            return run

        self._pairs(result, (OURS, OFFICIAL), self.sizes.pairs, one)
        shutil.rmtree(tree.root)

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

    def case_shaped_resync(self) -> None:
        tree = self.resync_tree
        if tree is None:
            raise BenchError("the resync tree was not prepared at setup")
        commands = self.ours_commands()
        label = "no-op re-sync of %d unchanged files (%.0f MB)" % (len(tree), tree.nbytes / 1e6)
        cold = CaseResult("shaped_resync_cold", "first sync of the same %d files (etag cache cold)" % len(tree))
        warm = CaseResult("shaped_resync", label)
        target = "wcs://sync/tree/"
        if "sync" in commands:
            warm.how[OURS] = cold.how[OURS] = "`wcscmd sync` %s" % " ".join(commands["sync"])
            ours_argv = self._shaped(OURS, "sync", *commands["sync"], tree.root, target)
        else:
            warm.missing[OURS] = cold.missing[OURS] = SYNC_MISSING
            warm.how[OURS] = cold.how[OURS] = "-"
            ours_argv = []
        official_argv = self._driver(OFFICIAL, "check-tree", "sync", "tree/", tree.root)

        def one(name: str, i: int) -> Run:
            run = self._child(self.sides[name].env, ours_argv if name == OURS else official_argv)
            if name == OFFICIAL and '"differ": 0' not in run.stdout:
                raise BenchError("the official check found differences: %s" % run.stdout.strip())
            if run.extra.get("bytes_up", 0) > tree.nbytes // 100:  # listing requests are a few KB
                raise BenchError("%s re-sync sent %d bytes: it uploaded files" % (name, run.extra["bytes_up"]))
            return run

        sides: Tuple[str, ...] = (OURS, OFFICIAL) if ours_argv else (OFFICIAL,)
        if ours_argv:
            self._pairs(cold, (OURS,), 1, one)
        self._pairs(warm, sides, self.sizes.pairs, one)
        for result in (cold, warm):
            result.runs.setdefault(OURS, [])
        self._check_tree("sync", "tree/", tree)

    def case_shaped_listall(self) -> None:
        count = self.sizes.list_objects
        out = os.path.join(self.root, "shaped-listall.out")
        result = CaseResult("shaped_listall", "listall of %d objects" % count)
        result.how[OURS] = "`wcscmd listall`"

        def one(name: str, i: int) -> Run:
            run = self._child(self.sides[name].env, self._shaped(name, "listall", "wcs://huge", out))
            with open(out, encoding="utf-8") as fp:  # ours: a JSON line per item; official: a dict per page
                found = fp.read().count('"key":' if name == OURS else "'key':")
            if found != count:
                raise BenchError("%s listall wrote %d items, want %d" % (name, found, count))
            os.unlink(out)
            return run

        self._pairs(result, (OURS, OFFICIAL), self.sizes.pairs, one)
        plan = CaseResult("shaped_plan", "sync planner over the %d objects (`sync --dry-run` into an empty folder)"
                          % count)
        plan.missing[OFFICIAL] = "n/a: no sync in the official SDK"
        if "sync" not in self.ours_commands():
            plan.missing[OURS] = SYNC_MISSING
            plan.runs[OURS] = []
            self.results.append(plan)
            return
        plan.how[OURS] = "`wcscmd sync --dry-run wcs://huge DIR`"
        empty = os.path.join(self.root, "empty-plan")

        def plan_one(name: str, i: int) -> Run:
            os.makedirs(empty, exist_ok=True)
            run = self._child(self.sides[OURS].env, self._shaped(OURS, "sync", "--dry-run", "wcs://huge", empty))
            if os.listdir(empty):
                raise BenchError("sync --dry-run wrote into %s" % empty)
            return run

        self._pairs(plan, (OURS,), self.sizes.pairs, plan_one)
