"""Shaped-link cases of many objects: listings, a no-op re-sync at its CPU floor, small files at defaults.

Mixed into :class:`~tests.bench.shaped.ShapedCases` (the harness's shaper, sides and client). Each is
set against the official SDK where it has the operation, and against the physical limit of the
link in the same run:

* ``shaped_put_tree``: 1,000 files of 4-64 KiB by ``wcscmd put -r`` with its defaults (no
  ``--transfers``) against the official SDK's loop over ``simple_upload``
  (:mod:`tests.bench.drivers.official_driver`), and that same loop run on our SDK (``ours-loop``: it
  imports under the official names). The client CPU per file of ``put -r`` (the run's CPU less
  that of ``put -r`` of an empty folder: start-up, imports, config, cache and pool, over the files)
  and per small upload of each loop (the run's CPU less a child of the same Python that only
  imports the client), with the emulator's beside them; each also run again on loopback (the
  emulator's own address) for its CPU there. Limit: the bytes at the total rate, plus a handshake
  and a round trip.
* ``shaped_resync``: ``wcscmd sync`` of 10,000 files the bucket already holds: a first run hashes
  them (``shaped_resync_cold``), the re-runs are the no-op (``shaped_resync``), against the
  official SDK's best equivalent (a listing and the etag of every file) and against the CPU floor
  measured in the same pairs (:mod:`tests.bench.drivers.floor_driver`: start-up and imports, the
  listing decoded into tuples, a bare ``os.scandir`` walk with ``stat``, one query of the etag cache).
* ``shaped_listings``: ``wcscmd listall`` of 100,000 objects in 100 folders (bucket ``huge``) and
  of 100,000 objects with varied names in one folder (bucket ``flat``), both SDKs; and the sync
  planner over the first (``sync --dry-run`` into an empty folder), ours only. Limit: the bytes of
  the listing (what the official SDK's pages carried) at the total rate, plus a round trip.

:func:`render_many` makes their table for the shaped block of RESULTS.md.
"""

import os
import random
import shutil
import statistics
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional

from tests.bench.children import BenchError, CaseResult, Run
from tests.bench.emulation import Tree

OURS, OFFICIAL, FLOOR = "ours", "official", "floor"
LOOP = "ours-loop"  # our SDK running the official loop (shaped_put_tree)
MANY_CASES = ("shaped_put_tree", "shaped_resync", "shaped_listings")
LIST_BUCKETS = (("huge", "listall of %d objects in 100 folders", 0.15),
                ("flat", "listall of %d objects with varied names in one folder", 0.3))
_WORDS = "alpha beta gamma delta report invoice photo backup log data image video draft final summary notes".split()


# -- the listed buckets ---------------------------------------------------------------------------


def folder_names(count: int) -> Iterator[str]:
    """``count`` keys in 100 folders (``dir042/obj_004242.txt``), in key order."""
    per = max(1, count // 100)
    return ("dir%03d/obj_%06d.txt" % (i // per, i) for i in range(count))


def varied_names(count: int, seed: int = 5) -> List[str]:
    """``count`` distinct names of one folder, of the kinds one finds side by side (camera files, UUIDs,
    dated reports, random words, hex ids...), sorted."""
    rng = random.Random(seed)
    names = set()
    while len(names) < count:
        kind = rng.randrange(6)
        if kind == 0:
            name = "IMG_%04d%s.jpg" % (rng.randrange(10000), rng.choice("ABCDE"))
        elif kind == 1:
            name = uuid.UUID(int=rng.getrandbits(128)).hex
        elif kind == 2:
            name = "%s-%s-%04d-%02d-%02d.pdf" % (rng.choice(_WORDS), rng.choice(_WORDS), rng.randrange(2000, 2025),
                                                 rng.randrange(1, 13), rng.randrange(1, 29))
        elif kind == 3:
            name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randrange(6, 20)))
        elif kind == 4:
            name = "%s_%d.txt" % (rng.choice(_WORDS).capitalize(), rng.randrange(10 ** 7))
        else:
            name = "%08x.bin" % rng.getrandbits(32)
        names.add(name)
    return sorted(names)


# -- the table -------------------------------------------------------------------------------------


@dataclass
class ManyRow:
    """One row: ``value`` gives a run's number (lower is better); ``versus`` is the side of the
    reference column; ``goal`` "ratio" (ours / reference <= limit, median of the pairs), "max" (ours
    <= limit) or "" (reported)."""

    case: str
    metric: str
    value: Callable[[Run], float]
    versus: str = OFFICIAL
    goal: str = ""
    limit: float = 0.0
    side: str = OURS  # whose runs the ours column shows


def _wall(run: Run) -> float:
    return run.wall


def _cpu(run: Run) -> float:
    return run.cpu


def _extra(name: str) -> Callable[[Run], float]:
    return lambda run: float(run.extra.get(name, 0.0))


MANY_ROWS = [
    ManyRow("shaped_put_tree", "wall time (s)", _wall, OFFICIAL, "ratio", 1 / 20),
    ManyRow("shaped_put_tree", "client CPU per file (ms)", _extra("cpu_per_file_ms"), OFFICIAL, "max", 0.6),
    ManyRow("shaped_put_tree", "emulator CPU per file (ms)", _extra("emulator_per_file_ms"), OFFICIAL),
    # The target is the command at its defaults (the rows above); the official loop run on
    # our SDK, where each upload waits a whole round trip asleep, is reported beside it.
    ManyRow("shaped_put_tree", "client CPU per small upload (ms)", _extra("cpu_per_file_ms"), OFFICIAL, side=LOOP),
    ManyRow("shaped_put_tree", "emulator CPU per small upload (ms)", _extra("emulator_per_file_ms"), OFFICIAL,
            side=LOOP),
    ManyRow("shaped_put_tree", "client CPU per file, on loopback (ms)", _extra("cpu_per_file_loopback_ms"),
            OFFICIAL, "max", 0.6),
    ManyRow("shaped_put_tree", "client CPU per small upload, on loopback (ms)", _extra("cpu_per_file_loopback_ms"),
            OFFICIAL, side=LOOP),
    ManyRow("shaped_resync_cold", "wall time (s)", _wall, OFFICIAL),
    ManyRow("shaped_resync", "wall time (s)", _wall, OFFICIAL, "ratio", 0.35),
    ManyRow("shaped_resync", "CPU (s)", _cpu, FLOOR, "ratio", 1.5),
    ManyRow("shaped_resync", "wall time (s), against the floor", _wall, FLOOR),
    ManyRow("shaped_resync", "bytes read (MiB, rchar)", lambda r: r.rchar / 1024 / 1024, OFFICIAL),
] + [row for bucket, _, target in LIST_BUCKETS for row in (
    ManyRow("shaped_list_" + bucket, "wall time (s)", _wall, OFFICIAL, "ratio", target),
    ManyRow("shaped_list_" + bucket, "peak RSS over baseline (MiB)", _extra("rss_over_mib"), OFFICIAL),
    ManyRow("shaped_list_" + bucket, "MB down", lambda r: r.extra.get("bytes_down", 0) / 1e6, OFFICIAL))] + [
    ManyRow("shaped_plan", "wall time (s)", _wall, OFFICIAL),
    ManyRow("shaped_plan", "peak RSS over baseline (MiB)", _extra("rss_over_mib"), OFFICIAL, "max", 150),
]


class ManyCases:
    """The cases of this module (see its docstring); the attributes are the harness's."""

    root: str
    sizes: Any
    sides: Dict[str, Any]
    client: Any
    shaper: Any
    link: Any
    say: Callable[[str], None]
    workdir: str
    emulator: Any
    resync_tree: Optional[Tree]
    results: List[CaseResult]
    many_limits: Dict[str, str]  # case -> the physical limit, as the table shows it

    def _child(self, env: Dict[str, str], argv: List[str]) -> Run:
        raise NotImplementedError  # provided by Bench

    def _pairs(self, result: CaseResult, sides: Any, pairs: int, one: Callable[[str, int], Run]) -> CaseResult:
        raise NotImplementedError  # provided by Bench

    def _shaped(self, side: str, *argv: str) -> List[str]:
        raise NotImplementedError  # provided by ShapedCases

    def _driver(self, side: str, *argv: str) -> List[str]:
        raise NotImplementedError  # provided by ShapedCases

    def _check_tree(self, bucket: str, prefix: str, tree: Tree) -> None:
        raise NotImplementedError  # provided by ShapedCases

    # -- helpers --------------------------------------------------------------------------------

    def _limit(self, case: str, text: str) -> None:
        if not hasattr(self, "many_limits"):
            self.many_limits = {}
        self.many_limits[case] = text

    def startup_cpu(self, config: Optional[str] = None) -> float:
        """CPU seconds of ``wcscmd put -r`` of an empty folder through the same link (or with ``config``),
        median of 3: what a run costs whatever its files (start-up, imports, the parser, the config, the
        etag cache, the pool)."""
        empty = os.path.join(self.root, "put-empty")
        os.makedirs(empty, exist_ok=True)
        side = self.sides[OURS]
        config = config or side.shaped_config
        return statistics.median(self._child(side.env, side.wcscmd + ["-c", config, "put", "-r",
                                                                       "wcs://tree/empty-%d/" % i, empty]).cpu
                                 for i in range(3))

    def import_cpu(self, side_name: str) -> float:
        """CPU seconds of a child of a side's Python that only imports its SDK's client (median of 3)."""
        side = self.sides[side_name]
        argv = [side.python, "-c", "from wcs.commons.config import Config; from wcs.services.client import Client"]
        return statistics.median(self._child(side.env, argv).cpu for _ in range(3))

    def _rtt(self) -> float:
        return float(self.link.rtt)

    # -- cases ----------------------------------------------------------------------------------

    def case_shaped_put_tree(self) -> None:
        count = self.sizes.tree_files
        tree = Tree(os.path.join(self.root, "put-tree"), count)
        result = CaseResult("shaped_put_tree", "upload %d files of 4-64 KiB (%.1f MB)" % (count, tree.nbytes / 1e6),
                            nbytes=tree.nbytes)
        result.how[OURS] = "`wcscmd put -r` (defaults)"
        result.how[OFFICIAL] = "a loop over `simple_upload`"
        result.how[LOOP] = "the same loop over our `simple_upload`"
        fixed = {OURS: self.startup_cpu(), OFFICIAL: self.import_cpu(OFFICIAL), LOOP: self.import_cpu(OURS)}
        fixed_loopback = dict(fixed, **{OURS: self.startup_cpu(self.sides[OURS].config)})
        rtt = self._rtt()
        self._limit("shaped_put_tree", "%.2f s (%.1f MB at %g MB/s, a handshake and a round trip)" % (
            tree.nbytes / self.link.total_rate + 2 * rtt, tree.nbytes / 1e6, self.link.total_rate / 1e6))

        def argv_of(name: str, prefix: str, shaped: bool) -> List[str]:
            side = self.sides[OURS if name == LOOP else name]
            config = side.shaped_config if shaped else side.config
            if name == OURS:
                return side.wcscmd + ["-c", config, "put", "-r", "wcs://tree/" + prefix, tree.root]
            # The official driver's loop runs on either SDK: ours imports under the same names.
            driver = self._driver(OFFICIAL, "put-tree", "tree", prefix, tree.root)
            return [side.python, driver[1], driver[2], config] + driver[4:]

        def one(name: str, i: int) -> Run:
            env = self.sides[OURS if name == LOOP else name].env
            prefix = "run-%s-%d/" % (name, i)
            run = self._child(env, argv_of(name, prefix, shaped=True))
            self._check_tree("tree", prefix, tree)
            run.extra["cpu_per_file_ms"] = max(run.cpu - fixed[name], 0.0) / count * 1000
            run.extra["emulator_per_file_ms"] = run.emulator_cpu / count * 1000
            # The same on loopback, where the client is never idle long between two requests (on the
            # link a process sleeps a round trip between them and wakes with cold caches, which
            # alone doubles the CPU of each request on this VM: see RESULTS.md).
            loop = self._child(env, argv_of(name, "lo-" + prefix, shaped=False))
            self._check_tree("tree", "lo-" + prefix, tree)
            run.extra["cpu_per_file_loopback_ms"] = max(loop.cpu - fixed_loopback[name], 0.0) / count * 1000
            return run

        self._pairs(result, (OURS, OFFICIAL, LOOP), self.sizes.pairs, one)
        shutil.rmtree(tree.root)

    def case_shaped_resync(self) -> None:
        tree = self.resync_tree
        if tree is None:
            raise BenchError("the resync tree was not prepared at setup")
        cache = os.path.join(self.root, "cache", "wcs", "etags.sqlite")  # XDG_CACHE_HOME of our side
        cold = CaseResult("shaped_resync_cold", "first sync of the same %d files (etag cache cold)" % len(tree))
        warm = CaseResult("shaped_resync", "no-op re-sync of %d unchanged files (%.0f MB)" % (len(tree),
                                                                                            tree.nbytes / 1e6))
        for result in (cold, warm):
            result.how[OURS] = "`wcscmd sync` (defaults)"
            result.how[OFFICIAL] = "a listing, then the etag of every file"
            result.how[FLOOR] = "imports, listing decoded, a scandir walk, one cache query"
        ours_argv = self._shaped(OURS, "sync", tree.root, "wcs://sync/tree/")
        argv = {OURS: ours_argv, OFFICIAL: self._driver(OFFICIAL, "check-tree", "sync", "tree/", tree.root),
                FLOOR: [self.sides[OURS].python, os.path.join(os.path.dirname(os.path.abspath(__file__)), "drivers",
                                                              "floor_driver.py"),
                        self.sides[OURS].shaped_config, "sync", "tree/", tree.root, cache]}

        def one(name: str, i: int) -> Run:
            side = self.sides[OURS if name == FLOOR else name]
            run = self._child(side.env, argv[name])
            if name == OFFICIAL and '"differ": 0' not in run.stdout:
                raise BenchError("the official check found differences: %s" % run.stdout.strip())
            if run.extra.get("bytes_up", 0) > tree.nbytes // 100:  # listing requests are a few KB
                raise BenchError("%s re-sync sent %d bytes: it uploaded files" % (name, run.extra["bytes_up"]))
            return run

        self._pairs(cold, (OURS,), 1, one)
        self._pairs(warm, (OURS, OFFICIAL, FLOOR), self.sizes.pairs, one)
        self._check_tree("sync", "tree/", tree)
        down = statistics.median(r.extra.get("bytes_down", 0) for r in warm.runs[OFFICIAL])
        self._limit("shaped_resync", "%.2f s (the listing's %.1f MB at %g MB/s and a round trip; the CPU floor "
                    "is the floor column)" % (down / self.link.total_rate + self._rtt(), down / 1e6,
                                              self.link.total_rate / 1e6))

    def case_shaped_listings(self) -> None:
        count = self.sizes.list_objects
        out = os.path.join(self.root, "shaped-listall.out")
        for bucket, label, _ in LIST_BUCKETS:
            result = CaseResult("shaped_list_" + bucket, label % count)
            result.how[OURS] = "`wcscmd listall`"
            result.how[OFFICIAL] = "`wcscmd listall`"

            def one(name: str, i: int, bucket: str = bucket) -> Run:
                side = self.sides[name]
                run = self._child(side.env, self._shaped(name, "listall", "wcs://" + bucket, out))
                with open(out, encoding="utf-8") as fp:  # ours: a JSON line per item; official: a dict per page
                    found = fp.read().count('"key":' if name == OURS else "'key':")
                if found != count:
                    raise BenchError("%s listall of %s wrote %d items, want %d" % (name, bucket, found, count))
                os.unlink(out)
                run.extra["rss_over_mib"] = max(0, run.rss - side.baseline) / 1024 / 1024
                return run

            self._pairs(result, (OURS, OFFICIAL), self.sizes.pairs, one)
            down = statistics.median(r.extra.get("bytes_down", 0) for r in result.runs[OFFICIAL])
            self._limit(result.name, "%.2f s (%.1f MB at %g MB/s and a round trip)" % (
                down / self.link.total_rate + self._rtt(), down / 1e6, self.link.total_rate / 1e6))
        plan = CaseResult("shaped_plan", "sync planner over the %d objects in folders (`sync --dry-run` into an "
                          "empty folder)" % count)
        plan.how[OURS] = "`wcscmd sync --dry-run -q wcs://huge DIR`"
        plan.missing[OFFICIAL] = "n/a: no sync in the official SDK"
        empty = os.path.join(self.root, "empty-plan")

        def plan_one(name: str, i: int) -> Run:
            os.makedirs(empty, exist_ok=True)
            side = self.sides[OURS]
            run = self._child(side.env, self._shaped(OURS, "-q", "sync", "--dry-run", "wcs://huge", empty))
            if os.listdir(empty):
                raise BenchError("sync --dry-run wrote into %s" % empty)
            run.extra["rss_over_mib"] = max(0, run.rss - side.baseline) / 1024 / 1024
            return run

        self._pairs(plan, (OURS,), self.sizes.pairs, plan_one)
        plan.runs.setdefault(OFFICIAL, [])


def render_many(bench: Any) -> Optional[List[str]]:
    """The table of these cases for the shaped block, or None when none of them ran."""
    by_name = {r.name: r for r in bench.results}
    rows = [row for row in MANY_ROWS if row.case in by_name]
    if not rows:
        return None
    limits: Dict[str, str] = getattr(bench, "many_limits", {})
    lines = ["Many objects (`tests/bench/shaped_many.py`): listings, the no-op re-sync and its CPU floor, small "
             "files at defaults. A ratio is ours / the reference column, the median of the per-pair ratios; the "
             "physical limit is what the link allows whatever the client.", "",
             "| case | ours: what ran | metric | ours | reference | reference: what ran | ours / reference "
             "(per pair) | physical limit | target | met |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        result = by_name[row.case]
        ours = [row.value(r) for r in result.runs.get(row.side) or []]
        ref = [row.value(r) for r in result.runs.get(row.versus) or []]
        ratios = [a / b for a, b in zip(ours, ref) if b]
        met: Optional[bool] = None
        goal = "(reported)"
        if row.goal == "ratio":
            goal = "<= %.2gx" % row.limit
            met = statistics.median(ratios) <= row.limit if ratios else None
        elif row.goal == "max":
            goal = "ours <= %g" % row.limit
            met = statistics.median(ours) <= row.limit if ours else None
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            result.title, result.how.get(row.side, "-"), row.metric, _fmt(statistics.median(ours)) if ours else "n/a",
            _fmt(statistics.median(ref)) if ref else result.missing.get(row.versus, "-"),
            result.how.get(row.versus, "-") if ref else "-",
            ("%.3f (%s)" % (statistics.median(ratios), ", ".join("%.3f" % r for r in ratios))) if ratios else "-",
            limits.get(row.case, "-") if row.metric.startswith("wall time (s)") and "floor" not in row.metric
            else "-", goal, "-" if met is None else ("yes" if met else "**no**")))
    lines += ["", "Every run of these cases (medians): what the link carried and the CPU on each side.", "",
              "| case | side | runs | wall (s) | CPU (s) | emulator CPU (s) | peak RSS (MiB) | connections "
              "| MB up / down | read (MiB, rchar) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for name in [n for n in dict.fromkeys(row.case for row in rows)]:
        result = by_name[name]
        for side, runs, med in result.sides():
            lines.append("| %s | %s | %d | %.3f | %.2f | %.2f | %.1f | %d | %.1f / %.1f | %.1f |" % (
                name, side, len(runs), med(_wall), med(_cpu), med(lambda r: r.emulator_cpu),
                med(lambda r: r.rss) / 1024 / 1024, med(_extra("connections")), med(_extra("bytes_up")) / 1e6,
                med(_extra("bytes_down")) / 1e6, med(lambda r: r.rchar) / 1024 / 1024))
    return lines


def _fmt(value: float) -> str:
    if value >= 100:
        return "%.0f" % value
    if value >= 10:
        return "%.1f" % value
    return "%.3g" % value

