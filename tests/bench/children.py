"""Measured child processes of the benchmarks (wall time, peak RSS, CPU, bytes read), killed by their pid.

Wall time is taken around the child from fork to exit; peak RSS is the ``ru_maxrss`` of that child
from ``os.wait4``, taken by a tiny launcher that forks it (Linux carries the peak RSS across exec,
so forking from the harness would count the harness's own memory). Before reaping the child the
launcher reads its ``/proc/<pid>/io`` (the counters stay readable while it is a zombie): ``rchar``
is every byte it read through ``read()`` (files, pipes, its own modules; not sockets, which
requests reads with ``recv``), ``read_bytes`` what it made the kernel fetch from the block device.
"""

import os
import signal
import statistics
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Sequence, Tuple


class BenchError(RuntimeError):
    """A run failed or produced a wrong result."""


@dataclass
class Run:
    wall: float  # seconds
    rss: int  # peak RSS in bytes
    stdout: str
    cpu: float = 0.0  # user + system seconds of the child
    rchar: int = 0  # bytes the child read with read() (files, pipes), see the module docstring
    read_bytes: int = 0  # bytes it made the kernel read from the disk
    emulator_cpu: float = 0.0  # user + system seconds the emulator spent during the run
    extra: Dict[str, float] = field(default_factory=dict)  # what a case measured beside (link counters ...)


@dataclass
class CaseResult:
    """The runs of one case, per side (``ours``, ``official``, ``sha1sum``)."""

    name: str
    title: str
    runs: Dict[str, List[Run]] = field(default_factory=dict)
    nbytes: int = 0  # payload moved (or hashed) by one run
    how: Dict[str, str] = field(default_factory=dict)  # side -> what ran, when it is worth saying
    missing: Dict[str, str] = field(default_factory=dict)  # side -> why it has no runs

    def sides(self) -> Iterator[Tuple[str, List[Run], Callable[[Callable[[Run], float]], float]]]:
        """``(side, its runs, med)`` for each side that ran, ``med(measure)`` the median of a measure over
        those runs: what the per-run tables show."""
        for side, runs in self.runs.items():
            if runs:

                def med(get: Callable[[Run], float], runs: List[Run] = runs) -> float:
                    return statistics.median(get(r) for r in runs)

                yield side, runs, med


_children: Dict[int, subprocess.Popen] = {}
_children_lock = threading.Lock()


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


# The launcher forks the measured command itself. Linux keeps a process's peak RSS across exec, and a child
# forked from the harness would start with the harness's RSS as its peak; forked from a 10 MiB
# ``python -S`` it starts below any interpreter it will become. It writes
# "wall status maxrss_kib cpu rchar read_bytes".
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
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
wall = time.perf_counter() - started
io = {}
try:
    with open("/proc/%d/io" % pid) as fp:
        for line in fp:
            name, _, value = line.partition(":")
            io[name] = int(value)
except (OSError, ValueError):
    pass
_, status, usage = os.wait4(pid, 0)
with open(result, "w") as fp:
    fp.write("%r %d %d %r %d %d" % (wall, status, usage.ru_maxrss, usage.ru_utime + usage.ru_stime,
                                   io.get("rchar", 0), io.get("read_bytes", 0)))
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
            wall_text, status_text, maxrss_text, cpu_text, rchar_text, read_text = fp.read().split()
        code = _exit_code(int(status_text))
    except (OSError, ValueError):
        wall_text, maxrss_text, cpu_text, rchar_text, read_text = "0", "0", "0", "0", "0"
        code = proc.returncode or -1
    with open(out_path, encoding="utf-8", errors="replace") as fp:
        stdout = fp.read()
    if code != 0:
        with open(err_path, encoding="utf-8", errors="replace") as fp:
            tail = fp.read()[-2000:]
        raise BenchError("%s exited with %d:\n%s" % (" ".join(argv), code, tail))
    return Run(float(wall_text), int(maxrss_text) * 1024, stdout, float(cpu_text),  # ru_maxrss: KiB on Linux
               int(rchar_text), int(read_text))


def run_quietly(argv: Sequence[str], cwd: str, env: Dict[str, str],
                timeout: float = 120) -> "subprocess.CompletedProcess[str]":
    """Run a short unmeasured child (a probe), killed with its group on timeout."""
    proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True, text=True)
    with _children_lock:
        _children[proc.pid] = proc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, err = proc.communicate()
    finally:
        with _children_lock:
            _children.pop(proc.pid, None)
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this launcher leads: it and its one command
    except OSError:
        pass


def kill_all() -> None:
    """Kill every child still running (Ctrl-C, SIGTERM, a failed case)."""
    with _children_lock:
        procs = list(_children.values())
    for proc in procs:
        _kill(proc)
