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
* One ``wcs-emulator`` process on ``127.0.0.1`` serves every case. The bucket for ``listall`` is seeded
  through the emulator's state layer (:class:`wcs.emulator.state.Store`) before it starts serving: it
  is the same code path an upload ends in, without 20,000 HTTP round trips.
* Each case runs the sides alternately, A B A B ... (``--pairs``, default 3). Wall time is taken around
  the child from fork to exit; peak RSS is the ``ru_maxrss`` of that child from ``os.wait4``, taken by a
  tiny launcher that forks it (Linux carries the peak RSS across exec, so forking from this harness
  would count the harness's own memory). The
  interpreter baseline of each side is the peak RSS of a child that only imports that SDK's
  ``wcs.services.client``; RSS is reported over it. Reported values are medians over the runs; the
  ratio ours/official is computed per pair and its median is compared with the target.
* Uploads and downloads are checked (size and etag) after every run: the official ``wcscmd`` exits 0
  even when a call failed, and a failed run must not look fast.

Everything lives in one temporary directory removed at the end, also on Ctrl-C or SIGTERM; every
child is killed by its own pid.
"""

import argparse
import datetime
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from tests.helpers.official_sdk import (
    OFFICIAL_VERSION,
    VenvUnavailable,
    clean_env,
    official_python,
    official_script,
    ours_python,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(REPO, "tests", "bench", "RESULTS.md")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
MiB = 1024 * 1024
CASES = ("multiput", "put", "get", "etag", "crc64", "help", "listall")
OURS, OFFICIAL, SHA1SUM = "ours", "official", "sha1sum"

_children: Dict[int, subprocess.Popen] = {}
_children_lock = threading.Lock()


class BenchError(RuntimeError):
    """A run failed or produced a wrong result."""


@dataclass
class Run:
    wall: float  # seconds
    rss: int  # peak RSS in bytes
    stdout: str
    cpu: float = 0.0  # user + system seconds of the child
    emulator_cpu: float = 0.0  # user + system seconds the emulator spent during the run


@dataclass
class Sizes:
    transfer: int
    etag: int
    objects: int
    pairs: int
    help_pairs: int


@dataclass
class Side:
    """How to start one SDK's children."""

    name: str
    python: str
    env: Dict[str, str]
    wcscmd: List[str]
    etag_cal: List[str]
    crc64_cal: List[str]
    config: str
    baseline: int = 0


@dataclass
class CaseResult:
    name: str
    title: str
    runs: Dict[str, List[Run]] = field(default_factory=dict)
    nbytes: int = 0


# -- children -------------------------------------------------------------------------------------


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


# The launcher forks the measured command itself. Linux keeps a process's peak RSS across exec, and a child
# forked from this harness would start with the harness's RSS as its peak; forked from a 10 MiB
# ``python -S`` it starts below any interpreter it will become. It writes "wall status maxrss_kib cpu".
_LAUNCHER = """
import os, sys, time
result, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(result, "w") as fp:
    fp.write("%r %d %d %r" % (wall, status, usage.ru_maxrss, usage.ru_utime + usage.ru_stime))
"""


def run_child(argv: Sequence[str], cwd: str, env: Dict[str, str], logdir: str, timeout: float = 1800) -> Run:
    """Run one child to completion; wall time from fork to exit and its own peak RSS.

    ``argv[0]`` must be an absolute path.

    Raises:
        BenchError: non-zero exit status or timeout (stderr tail included).
    """
    out_path = os.path.join(logdir, "stdout")
    err_path = os.path.join(logdir, "stderr")
    result_path = os.path.join(logdir, "result")
    if os.path.exists(result_path):
        os.unlink(result_path)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        # A session of its own: the launcher and the command form one process group, killed together.
        proc = subprocess.Popen([sys.executable, "-S", "-c", _LAUNCHER, result_path] + list(argv), cwd=cwd,
                                env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        with _children_lock:
            _children[proc.pid] = proc
        timer = threading.Timer(timeout, _kill, (proc,))
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
            with _children_lock:
                _children.pop(proc.pid, None)
    try:
        with open(result_path, encoding="ascii") as fp:
            wall_text, status_text, maxrss_text, cpu_text = fp.read().split()
        code = _exit_code(int(status_text))
    except (OSError, ValueError):
        wall_text, maxrss_text, cpu_text, code = "0", "0", "0", proc.returncode or -1
    with open(out_path, encoding="utf-8", errors="replace") as fp:
        stdout = fp.read()
    if code != 0:
        with open(err_path, encoding="utf-8", errors="replace") as fp:
            tail = fp.read()[-2000:]
        raise BenchError("%s exited with %d:\n%s" % (" ".join(argv), code, tail))
    return Run(float(wall_text), int(maxrss_text) * 1024, stdout, float(cpu_text))  # ru_maxrss: KiB on Linux


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this launcher leads: it and its one command
    except OSError:
        pass


def _kill_all() -> None:
    with _children_lock:
        procs = list(_children.values())
    for proc in procs:
        _kill(proc)


# -- the emulator ---------------------------------------------------------------------------------


def seed_bucket(data_dir: str, bucket: str, count: int) -> None:
    """Put ``count`` small objects into ``bucket`` through the emulator's state layer (before it serves)."""
    from wcs.commons.util import EtagHasher
    from wcs.emulator.state import Store

    store = Store(data_dir)
    try:
        store.create_bucket(bucket)
        for i in range(count):
            key = "objects/%06d.txt" % i
            data = ("object %d\n" % i).encode()
            hasher = EtagHasher()
            hasher.update(data)
            temp = store.new_temp_path()
            with open(temp, "wb") as fp:
                fp.write(data)
            store.put_file(bucket, key, temp, len(data), hasher.etag(), "text/plain")
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
        try:
            with open("/proc/%d/stat" % self.proc.pid, encoding="ascii") as fp:
                fields = fp.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

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


# -- the bench ------------------------------------------------------------------------------------


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


class Bench:
    def __init__(self, root: str, sizes: Sizes, cases: Sequence[str], progress: Callable[[str], None]) -> None:
        self.root = root
        self.sizes = sizes
        self.cases = list(cases)
        self.say = progress
        self.workdir = os.path.join(root, "work")  # cwd of every child: outside the repository
        self.logdir = os.path.join(root, "logs")
        for path in (self.workdir, self.logdir):
            os.makedirs(path)
        self.emulator: Optional[EmulatorProcess] = None
        self.sides: Dict[str, Side] = {}
        self.client = None
        self.emulator_used = False
        self.results: List[CaseResult] = []

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
        env_ours = dict(clean_env(), PYTHONPATH=src)
        env_off = clean_env()
        base_cfg = os.path.join(self.root, "emulator.wcscfg")
        self.sides[OURS] = Side(OURS, py_ours, env_ours, [py_ours, os.path.join(src, "bin", "wcscmd")],
                                [py_ours, os.path.join(src, "bin", "wcs_etag_cal")],
                                [py_ours, os.path.join(src, "bin", "wcs_crc64_cal")],
                                os.path.join(self.root, "ours.wcscfg"))
        self.sides[OFFICIAL] = Side(OFFICIAL, py_off, env_off, [py_off, official_script("wcscmd")],
                                    [py_off, official_script("wcs_etag_cal")],
                                    [py_off, official_script("wcs_crc64_cal")],
                                    os.path.join(self.root, "official.wcscfg"))
        for side in self.sides.values():
            runs = [self._child(side.env, [side.python, "-c", "import wcs.services.client"]) for _ in range(3)]
            side.baseline = int(statistics.median(r.rss for r in runs))
        if not any(case in self.cases for case in ("multiput", "put", "get", "listall")):
            return
        data_dir = os.path.join(self.root, "emulator-data")
        os.makedirs(data_dir)
        if "listall" in self.cases:
            self.say("seeding %d objects into bucket 'many' (state layer, before serving)" % self.sizes.objects)
            started = time.perf_counter()
            seed_bucket(data_dir, "many", self.sizes.objects)
            self.say("  seeded in %.1f s" % (time.perf_counter() - started))
        self.emulator = EmulatorProcess(data_dir, ["bench", "many"], base_cfg).start()
        self.emulator_used = True
        self.say("wcs-emulator at %s (pid %d)" % (self.emulator.url, self.emulator.proc.pid))
        with open(base_cfg, encoding="utf-8") as fp:
            text = fp.read()
        for side in self.sides.values():
            records = os.path.join(self.root, "records-" + side.name) + "/"
            with open(side.config, "w", encoding="utf-8") as fp:
                fp.write(text + "block_size = %d\nbput_size = %d\nconcurrency = 4\nconnection_timeout = 300\n"
                         "tmp_record_folder = %s\n" % (4 * MiB, 4 * MiB, records))
            os.chmod(side.config, 0o600)
        from wcs.commons.config import Config
        from wcs.services.client import Client

        self.client = Client(Config(self.sides[OURS].config))

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def _child(self, env: Dict[str, str], argv: Sequence[str]) -> Run:
        return run_child(argv, self.workdir, env, self.logdir)

    def _pairs(self, result: CaseResult, sides: Sequence[str], pairs: int,
               one: Callable[[str, int], Run]) -> CaseResult:
        for side in sides:
            result.runs[side] = []
        for i in range(pairs):
            for side in sides:
                before = self.emulator.cpu_seconds() if self.emulator else 0.0
                run = one(side, i)
                run.emulator_cpu = (self.emulator.cpu_seconds() - before) if self.emulator else 0.0
                result.runs[side].append(run)
                self.say("  %-8s %-8s run %d: %7.3f s  peak RSS %7.1f MiB  CPU %6.2f s  emulator CPU %6.2f s"
                         % (result.name, side, i + 1, run.wall, run.rss / MiB, run.cpu, run.emulator_cpu))
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


# -- report ---------------------------------------------------------------------------------------


@dataclass
class Target:
    case: str
    metric: str
    kind: str  # "throughput" | "rss" | "time"
    ratio_vs: str  # side the ratio is taken against
    limit: float
    absolute: bool = False  # limit on ours' value (MiB over baseline) rather than on the ratio
    higher_is_better: bool = False


TARGETS = [
    Target("multiput", "throughput (MiB/s)", "throughput", OFFICIAL, 1.5, higher_is_better=True),
    Target("put", "peak RSS over baseline (MiB)", "rss", OFFICIAL, 64, absolute=True),
    Target("get", "peak RSS over baseline (MiB)", "rss", OFFICIAL, 64, absolute=True),
    Target("get", "throughput (MiB/s)", "throughput", OFFICIAL, 0, higher_is_better=True),
    Target("etag", "wall time (s)", "time", SHA1SUM, 1.05),
    Target("crc64", "wall time (s)", "time", OFFICIAL, 1.0),
    Target("help", "wall time (ms)", "time", OFFICIAL, 0.5),
    Target("listall", "wall time (s)", "time", OFFICIAL, 0.5),
]


def _value(run: Run, kind: str, result: CaseResult, baseline: int) -> float:
    if kind == "throughput":
        return result.nbytes / MiB / run.wall
    if kind == "rss":
        return max(0, run.rss - baseline) / MiB
    return run.wall * 1000 if result.name == "help" else run.wall


def _fmt(value: float) -> str:
    if value >= 100:
        return "%.0f" % value
    if value >= 10:
        return "%.1f" % value
    return "%.2f" % value


def render(bench: Bench, started: datetime.datetime, elapsed: float, argv: Sequence[str]) -> str:
    by_name = {r.name: r for r in bench.results}
    baselines = {name: side.baseline for name, side in bench.sides.items()}
    lines = ["Generated by `python -m tests.bench%s` on %s (%.0f s)." % (
        "".join(" " + a for a in argv), started.strftime("%Y-%m-%d %H:%M"), elapsed), ""]
    lines += ["Machine: %s, %d CPUs, %s; Python %s (%s); official SDK wcs-python3-sdk %s; %s." % (
        _cpu_model(), os.cpu_count() or 0, platform.platform(), platform.python_version(),
        platform.python_implementation(), OFFICIAL_VERSION, _sha1sum_version()), ""]
    lines += ["Interpreter baseline (peak RSS of a child that only imports `wcs.services.client`): ours %.1f MiB, "
              "official %.1f MiB." % (baselines.get(OURS, 0) / MiB, baselines.get(OFFICIAL, 0) / MiB), ""]
    lines += ["| case | metric | ours | reference | ratio ours/reference (median of pairs) | per pair | target | met |",
              "|---|---|---|---|---|---|---|---|"]
    for target in TARGETS:
        result = by_name.get(target.case)
        if result is None:
            continue
        ours = [_value(r, target.kind, result, baselines[OURS]) for r in result.runs[OURS]]
        ref_base = baselines.get(target.ratio_vs, 0)
        ref = [_value(r, target.kind, result, ref_base) for r in result.runs[target.ratio_vs]]
        ratios = [(a / b) if b else float("inf") for a, b in zip(ours, ref)]
        ratio = statistics.median(ratios)
        med = statistics.median(ours)
        if target.absolute:
            goal, met = "ours <= %g MiB" % target.limit, med <= target.limit
        elif target.limit == 0:
            goal, met = "(reported)", None
        elif target.higher_is_better:
            goal, met = ">= %gx" % target.limit, ratio >= target.limit
        else:
            goal, met = "<= %gx" % target.limit, ratio <= target.limit
        lines.append("| %s | %s | %s | %s %s | %s | %s | %s | %s |" % (
            result.title, target.metric, _fmt(med), _fmt(statistics.median(ref)), target.ratio_vs,
            "%.3f" % ratio, ", ".join("%.3f" % r for r in ratios), goal,
            "-" if met is None else ("yes" if met else "**no**")))
    lines += ["", "Every run (medians; RSS over the side's baseline; sha1sum has no baseline):", "",
              "| case | side | runs | wall (s) | MiB/s | peak RSS (MiB) | over baseline (MiB) | CPU (s) "
              "| emulator CPU (s) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for result in bench.results:
        for side, runs in result.runs.items():
            wall = statistics.median(r.wall for r in runs)
            rss = statistics.median(r.rss for r in runs)
            throughput = _fmt(result.nbytes / MiB / wall) if result.nbytes else "-"
            over = _fmt(max(0, rss - baselines[side]) / MiB) if side in baselines else "-"
            cpu = statistics.median(r.cpu for r in runs)
            emu = statistics.median(r.emulator_cpu for r in runs)
            lines.append("| %s | %s | %d | %.3f | %s | %.1f | %s | %.2f | %s |" % (
                result.name, side, len(runs), wall, throughput, rss / MiB, over, cpu,
                "%.2f" % emu if bench.emulator_used else "-"))
    return "\n".join(lines) + "\n"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fp:
            for line in fp:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _sha1sum_version() -> str:
    try:
        out = subprocess.run(["sha1sum", "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.splitlines()[0].strip()
    except (OSError, IndexError, subprocess.SubprocessError):
        return "sha1sum unknown"


def write_results(path: str, table: str) -> None:
    """Replace the generated block of ``path`` (between the markers), keeping the hand-written analysis."""
    block = "%s\n%s%s" % (BEGIN, table, END)
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fp:
            text = fp.read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = "# Benchmark results\n\n%s\n\n%s" % (block, text)
    with open(path, "w", encoding="utf-8") as fp:
        fp.write(text)


# -- command line ---------------------------------------------------------------------------------


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (16 MiB transfers, 64 MiB etag, 2,000 objects); prints only")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of: " + ", ".join(CASES))
    parser.add_argument("--pairs", type=int, default=3, help="A/B pairs per case (default 3, at least 1)")
    parser.add_argument("--size-mib", type=int, help="put/multiput/get size in MiB (default 256, quick 16)")
    parser.add_argument("--etag-mib", type=int, help="etag and crc64 file size in MiB (default 1024, quick 64)")
    parser.add_argument("--objects", type=int, help="objects for listall (default 20000, quick 2000)")
    parser.add_argument("--output", help="markdown file to update (default: tests/bench/RESULTS.md for a full "
                                         "run, none with --quick); '-' to only print")
    parser.add_argument("--keep-going", action="store_true", help="report the cases that worked if one fails")
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in args.cases if c not in CASES]
    if unknown or not args.cases:
        parser.error("unknown case(s) %s; choose from %s" % (", ".join(unknown) or "(none)", ", ".join(CASES)))
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    sizes = Sizes(transfer=(args.size_mib or (16 if quick else 256)) * MiB,
                  etag=(args.etag_mib or (64 if quick else 1024)) * MiB,
                  objects=args.objects or (2000 if quick else 20000),
                  pairs=args.pairs, help_pairs=max(args.pairs, 10))
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
    bench = Bench(root, sizes, args.cases, say)
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
        _kill_all()
        bench.close()
        shutil.rmtree(root, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)
    shown = list(sys.argv[1:] if argv is None else argv)
    table = render(bench, started, time.perf_counter() - clock, shown)
    print(table)
    if output:
        write_results(output, table)
        say("results written to %s" % output)
    return 1 if failed else 0

