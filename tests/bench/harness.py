"""Benchmark harness: our SDK and CLI against the official ``wcs-python3-sdk`` 5.0.36, one machine, one emulator.

How it measures:

* Both SDKs run as child processes of this harness, each from a cached virtualenv built from the same
  interpreter (:mod:`tests.helpers.official_sdk`): the official package installed with its dependencies (plus
  the ``chardet`` it forgets to declare), ours as a byte-compiled copy of this checkout (what
  ``pip install`` would leave; a checkout may have no .pyc files) on ``PYTHONPATH`` over a venv holding
  only our runtime dependencies. Both venvs have clean ``site-packages`` so start-up costs compare like
  for like. Children run from a directory outside the repository, so the official ``import wcs`` never
  sees ours.
* Where the official SDK has a command-line tool both sides use their CLI (``wcscmd put|multiput|get|
  listall|--help``, ``wcs_etag_cal etag``, ``wcs_crc64_cal crc64``), so both pay the same start-up.
  Where it has none (a tree of files, a content check) it runs as one process of its SDK, looping
  (``tests/bench/drivers``).
* One ``wcs-emulator`` process on ``127.0.0.1`` serves every case. Big buckets are seeded through the
  emulator's state layer before it starts serving (:mod:`tests.bench.emulation`).
* The loopback cases talk to the emulator directly; the shaped cases (:mod:`tests.bench.shaped`) go
  through a link shaper (:mod:`tests.bench.shaper`: RTT, per-connection and total bandwidth) running
  in this process, which both sides' configs name as the emulator.
* Each case runs the sides alternately, A B A B ... (``--pairs``, default 3), measured by
  :mod:`tests.bench.children` (wall time, the child's own peak RSS, CPU, bytes read). The interpreter
  baseline of each side is the peak RSS of a child that only imports that SDK's
  ``wcs.services.client``; RSS is reported over it. Reported values are medians over the runs; a
  ratio is computed per pair and its median is compared with the target.
* Uploads and downloads are checked (size and etag) after every run: the official ``wcscmd`` exits 0
  even when a call failed, and a failed run must not look fast.

Everything lives in one temporary directory removed at the end, also on Ctrl-C or SIGTERM; every
child is killed by its own pid.
"""

import argparse
import datetime
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

from tests.bench.children import BenchError, CaseResult, Run, kill_all, run_child
from tests.bench.emulation import EmulatorProcess, Tree, make_file, process_cpu, seed_bucket, seed_tree
from tests.bench.report import load_average, render, write_results
from tests.bench.shaped import SHAPED_CASES, ShapedCases
from tests.bench.shaped_many import folder_names, varied_names
from tests.bench.shaper import Link, Shaper, add_link_arguments, link_from_args
from tests.helpers.official_sdk import VenvUnavailable, clean_env, official_python, official_script, ours_python

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(REPO, "tests", "bench", "RESULTS.md")
MiB = 1024 * 1024
LOOPBACK_CASES = ("multiput", "put", "get", "etag", "crc64", "help", "listall")
CASES = LOOPBACK_CASES + SHAPED_CASES
GROUPS = {"loopback": LOOPBACK_CASES, "shaped": SHAPED_CASES, "all": CASES}
NEEDS_EMULATOR = ("multiput", "put", "get", "listall") + SHAPED_CASES
OURS, OFFICIAL, SHA1SUM = "ours", "official", "sha1sum"


@dataclass
class Sizes:
    transfer: int
    etag: int
    objects: int
    pairs: int
    help_pairs: int
    tree_files: int = 1000
    resync_files: int = 10000
    list_objects: int = 100000
    concurrency: int = 32
    part_size: int = 8 * MiB


@dataclass
class Side:
    """How to start one SDK's children."""

    name: str
    python: str
    env: Dict[str, str]
    wcscmd: List[str]
    etag_cal: List[str]
    crc64_cal: List[str]
    config: str  # straight at the emulator
    shaped_config: str = ""  # through the link shaper
    baseline: int = 0


class Bench(ShapedCases):
    def __init__(self, root: str, sizes: Sizes, cases: Sequence[str], progress: Callable[[str], None],
                 link: Optional[Link] = None) -> None:
        self.root = root
        self.sizes = sizes
        self.cases = list(cases)
        self.say = progress
        self.link = link or Link()
        self.workdir = os.path.join(root, "work")  # cwd of every child: outside the repository
        self.logdir = os.path.join(root, "logs")
        for path in (self.workdir, self.logdir):
            os.makedirs(path)
        self.emulator: Optional[EmulatorProcess] = None
        self.shaper: Optional[Shaper] = None
        self.sides: Dict[str, Side] = {}
        self.client = None
        self.emulator_used = False
        self.results: List[CaseResult] = []
        self.resync_tree: Optional[Tree] = None
        self.load_start = load_average()
        self.load_end = ""
        self.shaped_settings = "concurrency %d, 4 MiB blocks, %d MiB download ranges" % (
            sizes.concurrency, sizes.part_size // MiB)

    # setup

    def setup(self) -> None:
        self.say("preparing virtualenvs (cached under ~/.cache/wcs-tests)")
        py_ours = ours_python()
        py_off = official_python()
        # Ours runs from a byte-compiled copy of this checkout, as pip would install it: the official
        # package has its .pyc files, and a checkout may have none (PYTHONDONTWRITEBYTECODE), which
        # would add the compiling of every module to each of our start-ups.
        src = os.path.join(self.root, "ours")
        shutil.copytree(os.path.join(REPO, "wcs"), os.path.join(src, "wcs"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copytree(os.path.join(REPO, "bin"), os.path.join(src, "bin"))
        subprocess.run([py_ours, "-m", "compileall", "-q", os.path.join(src, "wcs")], check=True,
                       env=clean_env(), stdout=subprocess.DEVNULL)
        # Caches a tool keeps (sync's etag cache) go into this run's directory, not the user's.
        cache = {"XDG_CACHE_HOME": os.path.join(self.root, "cache")}
        env_ours = dict(clean_env(), PYTHONPATH=src, **cache)
        env_off = dict(clean_env(), **cache)
        base_cfg = os.path.join(self.root, "emulator.wcscfg")
        self.sides[OURS] = Side(OURS, py_ours, env_ours, [py_ours, os.path.join(src, "bin", "wcscmd")],
                                [py_ours, os.path.join(src, "bin", "wcs_etag_cal")],
                                [py_ours, os.path.join(src, "bin", "wcs_crc64_cal")],
                                os.path.join(self.root, "ours.wcscfg"), os.path.join(self.root, "ours-shaped.wcscfg"))
        self.sides[OFFICIAL] = Side(OFFICIAL, py_off, env_off, [py_off, official_script("wcscmd")],
                                    [py_off, official_script("wcs_etag_cal")],
                                    [py_off, official_script("wcs_crc64_cal")],
                                    os.path.join(self.root, "official.wcscfg"),
                                    os.path.join(self.root, "official-shaped.wcscfg"))
        for side in self.sides.values():
            runs = [self._child(side.env, [side.python, "-c", "import wcs.services.client"]) for _ in range(3)]
            side.baseline = int(statistics.median(r.rss for r in runs))
        if not any(case in self.cases for case in NEEDS_EMULATOR):
            return
        data_dir = os.path.join(self.root, "emulator-data")
        os.makedirs(data_dir)
        self._seed(data_dir)
        self.emulator = EmulatorProcess(data_dir, ["bench", "many", "tree", "sync", "huge", "flat"], base_cfg).start()
        self.emulator_used = True
        self.say("wcs-emulator at %s (pid %d)" % (self.emulator.url, self.emulator.proc.pid))
        with open(base_cfg, encoding="utf-8") as fp:
            text = fp.read()
        if any(case in self.cases for case in SHAPED_CASES):
            self.shaper = Shaper(self.emulator.address, self.link).start()
            self.say("link shaper at %s (%s)" % (self.shaper.url, self.link.describe()))
        for side in self.sides.values():
            records = os.path.join(self.root, "records-" + side.name) + "/"
            self._write_config(side.config, text + "block_size = %d\nbput_size = %d\nconcurrency = 4\n"
                               "connection_timeout = 300\ntmp_record_folder = %s\n" % (4 * MiB, 4 * MiB, records))
            if self.shaper is not None:
                # Every endpoint through the shaper; both SDKs get the same settings, the official one its
                # keep-alive switch too (it sends "Connection: close" unless told otherwise). Ours fetches
                # anything bigger than one range as parallel ranges.
                shaped = text.replace(self.emulator.url, self.shaper.url)
                self._write_config(side.shaped_config, shaped + (
                    "block_size = %d\nbput_size = %d\nconcurrency = %d\nconnection_timeout = 300\n"
                    "tmp_record_folder = %s\nkeepalive = true\ndownload_threshold = %d\ndownload_part_size = %d\n"
                    % (4 * MiB, 4 * MiB, self.sizes.concurrency, records, self.sizes.part_size + 1,
                       self.sizes.part_size)))
        from wcs.commons.config import Config
        from wcs.services.client import Client

        self.client = Client(Config(self.sides[OURS].config))

    def _seed(self, data_dir: str) -> None:
        started = time.perf_counter()
        if "listall" in self.cases:
            self.say("seeding %d objects into bucket 'many' (state layer, before serving)" % self.sizes.objects)
            seed_bucket(data_dir, "many", self.sizes.objects)
        if "shaped_listings" in self.cases:
            count = self.sizes.list_objects
            self.say("seeding %d objects into bucket 'huge' (100 folders) and %d into 'flat'" % (count, count))
            seed_bucket(data_dir, "huge", count, names=folder_names(count))
            seed_bucket(data_dir, "flat", count, names=varied_names(count))
        if "shaped_resync" in self.cases:
            count = self.sizes.resync_files
            self.say("making %d files and seeding them into sync/tree/ (as if uploaded)" % count)
            self.resync_tree = Tree(os.path.join(self.root, "resync-tree"), count, seed=23)
            seed_tree(data_dir, "sync", "tree/", self.resync_tree)
        self.say("  seeded in %.1f s" % (time.perf_counter() - started))

    @staticmethod
    def _write_config(path: str, text: str) -> None:
        with open(path, "w", encoding="utf-8") as fp:
            fp.write(text)
        os.chmod(path, 0o600)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.shaper is not None:
            self.shaper.stop()
            self.shaper = None
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def _child(self, env: Dict[str, str], argv: Sequence[str]) -> Run:
        """One measured child, with what the emulator and the link did meanwhile."""
        emulator_before = self.emulator.cpu_seconds() if self.emulator else 0.0
        shaper = self.shaper
        if shaper is not None:
            shaper.reset_stats()
            shaper_before = process_cpu(shaper.thread_stat_path)
        run = run_child(argv, self.workdir, env, self.logdir)
        run.emulator_cpu = (self.emulator.cpu_seconds() - emulator_before) if self.emulator else 0.0
        if shaper is not None:
            run.extra.update(shaper.stats())
            run.extra["shaper_cpu"] = process_cpu(shaper.thread_stat_path) - shaper_before
        return run

    def _pairs(self, result: CaseResult, sides: Sequence[str], pairs: int,
               one: Callable[[str, int], Run]) -> CaseResult:
        for side in sides:
            result.runs[side] = []
        for i in range(pairs):
            for side in sides:
                run = one(side, i)
                result.runs[side].append(run)
                link = ""
                if "connections" in run.extra:
                    link = "  link: %d conn, %.1f MB up, %.1f MB down, shaper CPU %.2f s" % (
                        run.extra["connections"], run.extra["bytes_up"] / 1e6, run.extra["bytes_down"] / 1e6,
                        run.extra["shaper_cpu"])
                self.say("  %-8s %-8s run %d: %7.3f s  peak RSS %7.1f MiB  CPU %6.2f s  emulator CPU %6.2f s%s"
                         % (result.name, side, i + 1, run.wall, run.rss / MiB, run.cpu, run.emulator_cpu, link))
        self.results.append(result)
        return result

    # checks

    def _check_object(self, bucket: str, key: str, size: int, etag: str) -> None:
        res = self.client.stat(bucket, key)
        body = res.body if isinstance(res.body, dict) else {}
        if not res.ok or int(body.get("fsize", -1)) != size or body.get("hash") != etag:
            raise BenchError("%s/%s after upload: %s %s (want %d bytes, %s)" % (bucket, key, res.code, body,
                                                                                 size, etag))
        self.client.delete(bucket, key)

    # cases

    def _upload_case(self, command: str, label: str) -> None:
        """Both sides' ``wcscmd <command>`` of one file, each object checked with stat, then removed."""
        from wcs.commons.util import etag

        size = self.sizes.transfer
        path = os.path.join(self.root, "%s.bin" % command)
        make_file(path, size)
        want = etag(path)

        def one(name: str, i: int) -> Run:
            side = self.sides[name]
            key = "%s-%s-%d" % (command, name, i)
            run = self._child(side.env, side.wcscmd + ["-c", side.config, command, "wcs://bench/" + key, path])
            self._check_object("bench", key, size, want)
            return run

        self._pairs(CaseResult(command, label % (size // MiB), nbytes=size), (OURS, OFFICIAL), self.sizes.pairs, one)
        os.unlink(path)

    def case_multiput(self) -> None:
        self._upload_case("multiput", "multiput %d MiB, 4 MiB blocks, concurrency 4")

    def case_put(self) -> None:
        self._upload_case("put", "put (form upload) %d MiB")

    def case_get(self) -> None:
        from wcs.commons.util import etag

        size = self.sizes.transfer
        path = os.path.join(self.root, "get-source.bin")
        make_file(path, size)
        want = etag(path)
        self.client.multipart_upload(path, "bench", "get.bin").raise_for_status()
        os.unlink(path)
        url = "%s/bench/get.bin" % self.emulator.url
        target = os.path.join(self.root, "downloaded.bin")

        def one(name: str, i: int) -> Run:
            side = self.sides[name]
            run = self._child(side.env, side.wcscmd + ["-c", side.config, "get", url, target])
            got = os.path.getsize(target) if os.path.exists(target) else -1
            if got != size or etag(target) != want:
                raise BenchError("%s get: %d bytes, want %d with etag %s" % (name, got, size, want))
            os.unlink(target)
            return run

        self._pairs(CaseResult("get", "get %d MiB (http URL)" % (size // MiB), nbytes=size),
                    (OURS, OFFICIAL), self.sizes.pairs, one)
        self.client.delete("bench", "get.bin")

    def case_etag(self) -> None:
        size = self.sizes.etag
        path = os.path.join(self.root, "etag.bin")
        make_file(path, size)
        sha1sum = shutil.which("sha1sum")
        if sha1sum is None:
            raise BenchError("sha1sum is not on PATH")
        answers: Dict[str, str] = {}

        def one(name: str, i: int) -> Run:
            if name == SHA1SUM:
                return self._child(clean_env(), [sha1sum, path])
            side = self.sides[name]
            run = self._child(side.env, side.etag_cal + ["etag", path])
            answers.setdefault(name, run.stdout.strip().splitlines()[-1])
            return run

        self._pairs(CaseResult("etag", "etag of a %d MiB file" % (size // MiB), nbytes=size),
                    (OURS, SHA1SUM, OFFICIAL), self.sizes.pairs, one)
        if answers.get(OURS) != answers.get(OFFICIAL):
            raise BenchError("etags differ: %s" % answers)
        os.unlink(path)

    def case_crc64(self) -> None:
        """Both sides' ``wcs_crc64_cal crc64`` of one file (the official one uses crcmod's C extension)."""
        size = self.sizes.etag
        path = os.path.join(self.root, "crc64.bin")
        make_file(path, size)
        answers: Dict[str, str] = {}

        def one(name: str, i: int) -> Run:
            side = self.sides[name]
            run = self._child(side.env, side.crc64_cal + ["crc64", path])
            answers.setdefault(name, run.stdout.strip().splitlines()[-1])  # the official prints argv first
            return run

        self._pairs(CaseResult("crc64", "crc64 of a %d MiB file" % (size // MiB), nbytes=size),
                    (OURS, OFFICIAL), self.sizes.pairs, one)
        if answers.get(OURS) != answers.get(OFFICIAL):
            raise BenchError("crc64 values differ: %s" % answers)
        os.unlink(path)

    def case_help(self) -> None:
        def one(name: str, i: int) -> Run:
            side = self.sides[name]
            return self._child(side.env, side.wcscmd + ["--help"])

        self._pairs(CaseResult("help", "`wcscmd --help` cold start"), (OURS, OFFICIAL), self.sizes.help_pairs, one)

    def case_listall(self) -> None:
        count = self.sizes.objects
        out = os.path.join(self.root, "listall.out")

        def one(name: str, i: int) -> Run:
            side = self.sides[name]
            run = self._child(side.env, side.wcscmd + ["-c", side.config, "listall", "wcs://many", out])
            with open(out, encoding="utf-8") as fp:
                text = fp.read()
            found = text.count('"key":') if name == OURS else text.count("'key':")
            if found != count:
                raise BenchError("%s listall wrote %d items, want %d" % (name, found, count))
            os.unlink(out)
            return run

        self._pairs(CaseResult("listall", "listall of %d objects" % count), (OURS, OFFICIAL), self.sizes.pairs,
                    one)



# -- command line ---------------------------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (16 MiB transfers, 64 MiB etag, 2,000 objects; shaped: 100 files, "
                             "1,000 to re-sync, 5,000 to list); prints only")
    parser.add_argument("--cases", default="all",
                        help="comma-separated cases or groups (all [default], loopback, shaped): "
                             + ", ".join(CASES))
    parser.add_argument("--pairs", type=int, default=3, help="A/B pairs per case (default 3, at least 1)")
    parser.add_argument("--size-mib", type=int, help="put/multiput/get size in MiB, loopback and shaped "
                                                     "(default 256, quick 16)")
    parser.add_argument("--etag-mib", type=int, help="etag and crc64 file size in MiB (default 1024, quick 64)")
    parser.add_argument("--objects", type=int, help="objects for listall (default 20000, quick 2000)")
    shaped = parser.add_argument_group("shaped cases (through the link shaper)")
    shaped.add_argument("--tree-files", type=int, help="files of shaped_put_tree (default 1000, quick 100)")
    shaped.add_argument("--resync-files", type=int, help="files of shaped_resync (default 10000, quick 1000)")
    shaped.add_argument("--list-objects", type=int,
                        help="objects of each shaped_listings bucket (default 100000, quick 5000)")
    shaped.add_argument("--concurrency", type=int, default=32,
                        help="concurrency in both SDKs' configs (blocks, ranges, files at once; default 32)")
    shaped.add_argument("--part-mib", type=int, default=8, help="our download range size (default 8)")
    add_link_arguments(shaped)
    parser.add_argument("--output", help="markdown file to update (default: tests/bench/RESULTS.md for a full "
                                         "run, none with --quick); '-' to only print")
    parser.add_argument("--keep-going", action="store_true", help="report the cases that worked if one fails")
    args = parser.parse_args(argv)
    chosen: List[str] = []
    unknown = []
    for name in (c.strip() for c in args.cases.split(",") if c.strip()):
        for case in GROUPS.get(name, (name,)):
            if case not in CASES:
                unknown.append(case)
            elif case not in chosen:
                chosen.append(case)
    if unknown or not chosen:
        parser.error("unknown case(s) %s; choose from %s" % (", ".join(unknown) or "(none)",
                                                              ", ".join(tuple(GROUPS) + CASES)))
    args.cases = chosen
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    if args.concurrency < 1 or args.part_mib < 4 or args.part_mib % 4:
        parser.error("--concurrency must be at least 1, --part-mib a multiple of 4")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    sizes = Sizes(transfer=(args.size_mib or (16 if quick else 256)) * MiB,
                  etag=(args.etag_mib or (64 if quick else 1024)) * MiB,
                  objects=args.objects or (2000 if quick else 20000),
                  pairs=args.pairs, help_pairs=max(args.pairs, 10),
                  tree_files=args.tree_files or (100 if quick else 1000),
                  resync_files=args.resync_files or (1000 if quick else 10000),
                  list_objects=args.list_objects or (5000 if quick else 100000),
                  concurrency=args.concurrency, part_size=args.part_mib * MiB)
    output = args.output if args.output is not None else (None if quick else RESULTS)
    if output == "-":
        output = None

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    root = tempfile.mkdtemp(prefix="wcs-bench-")
    started = datetime.datetime.now()
    clock = time.perf_counter()
    bench = Bench(root, sizes, args.cases, say, link_from_args(args))
    say("load average: %s" % bench.load_start)
    failed = []
    try:
        try:
            bench.setup()
        except VenvUnavailable as exc:
            say("cannot run the benchmarks: %s" % exc)
            return 3
        for case in args.cases:
            say("case %s" % case)
            try:
                getattr(bench, "case_" + case)()
            except BenchError as exc:
                if not args.keep_going:
                    raise
                say("case %s failed: %s" % (case, exc))
                failed.append(case)
    except BenchError as exc:
        say("benchmark failed: %s" % exc)
        return 1
    except KeyboardInterrupt:
        say("interrupted; cleaning up")
        return 130
    finally:
        kill_all()
        bench.close()
        shutil.rmtree(root, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
    bench.load_end = load_average()
    say("load average: %s" % bench.load_end)
    shown = list(sys.argv[1:] if argv is None else argv)
    blocks = render(bench, started, time.perf_counter() - clock, shown)
    print("\n".join(blocks.values()))
    if output:
        write_results(output, blocks)
        say("results written to %s" % output)
    return 1 if failed else 0
