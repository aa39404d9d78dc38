"""Shaped-link cases of one object's bytes: a download's last wave, and range reads through fsspec.

Mixed into :class:`~tests.bench.shaped.ShapedCases` (the harness's shaper, sides and client), each
measured against the physical limit of the link in the same run, and against the official SDK
where it has the operation:

* ``shaped_get_parts``: one object of 48 MiB downloaded by ``wcscmd get wcs://...`` at concurrency 4
  and 32, beside the official ``wcscmd get URL`` (one stream); then 100 and 256 MiB, ours only. The
  limit of a download at concurrency ``c`` is ``bytes / min(c x per-connection, total)`` plus 4 RTT
  (``stat``, then the first range: each a handshake and a round trip). The time it is set against
  is the span the link was in use (from the first connection accepted to the last one closed, the
  shaper's trace), so the interpreter's start-up (reported as the wall time) is left out.
* ``shaped_range_reads``: ``pd.read_parquet("wcs://...", columns=[one of four])`` of a 4-column
  file, and a sequential read of a 64 MiB object in 1 MiB reads, each with our default read cache
  and with fsspec's ``readahead`` (the default before) in the same run, alternately
  (:mod:`tests.bench.drivers.fsspec_driver`, run by this interpreter: it needs pandas and pyarrow).
  Bytes fetched are what the shaper carried down.

:func:`render_io` makes their table for the shaped block of RESULTS.md.
"""

import json
import os
import re
import statistics
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from tests.bench.children import BenchError, CaseResult, Run
from tests.bench.emulation import MiB, make_file

OURS, OFFICIAL, READAHEAD = "ours", "official", "readahead"
IO_CASES = ("shaped_get_parts", "shaped_range_reads")
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drivers", "fsspec_driver.py")
GET_SIZES = (48, 100, 256)  # MiB; the official side runs for the first only (one stream: 4 MB/s)
GET_CONCURRENCY = (4, 32)
PARQUET_ROWS, PARQUET_GROUP = 1_000_000, 125_000  # 4 float64 columns: 32 MB, 8 row groups of 1 MB chunks
SEQ_SIZE, SEQ_READ = 64 * MiB, MiB
STARTUP_RTTS = 4  # stat, then the first range: each a handshake and a round trip


@dataclass
class IoRow:
    """One row of the table: ``value`` gives a run's number; ``goal`` is "min" (ours >= limit), "max"
    (ours <= limit) or "" (reported); ``versus`` the side in the reference column."""

    case: str
    metric: str
    value: Callable[[Run], float]
    versus: str = OFFICIAL
    goal: str = ""
    limit: float = 0.0


def _span(events: Sequence[Tuple[float, int, str]]) -> float:
    times = [t for t, _, _ in events]
    return max(times) - min(times) if times else 0.0


def _extra(name: str) -> Callable[[Run], float]:
    return lambda run: float(run.extra.get(name, 0.0))


IO_ROWS = [IoRow("shaped_get_parts_48_c%d" % c, "wall time (s)", lambda r: r.wall) for c in GET_CONCURRENCY] + [
    IoRow("shaped_get_parts_%d_c%d" % (size, c), "share of the physical limit (limit / link span)",
          _extra("of_limit"), goal="min", limit=0.9)
    for size in GET_SIZES for c in GET_CONCURRENCY] + [
    IoRow("shaped_parquet", "bytes fetched / file size", _extra("fetched_share"), READAHEAD, "max", 0.35),
    IoRow("shaped_parquet", "read time (s)", _extra("seconds"), READAHEAD),
    IoRow("shaped_parquet", "requests", _extra("connections"), READAHEAD),
    IoRow("shaped_seqread", "read time (s)", _extra("seconds"), READAHEAD),
    IoRow("shaped_seqread", "read time / readahead's (per pair)", _extra("vs_readahead"), READAHEAD, "max", 1.1),
    IoRow("shaped_seqread", "bytes fetched / file size", _extra("fetched_share"), READAHEAD),
    IoRow("shaped_seqread", "requests", _extra("connections"), READAHEAD),
]


class IoCases:
    """The cases of this module (see its docstring); the attributes are the harness's."""

    root: str
    sizes: Any
    sides: Dict[str, Any]
    client: Any
    shaper: Any
    link: Any
    say: Callable[[str], None]
    results: List[CaseResult]
    io_limits: Dict[str, Dict[str, str]]  # case -> metric -> the physical limit, as the table shows it

    def _child(self, env: Dict[str, str], argv: List[str]) -> Run:
        raise NotImplementedError  # provided by Bench

    def _pairs(self, result: CaseResult, sides: Any, pairs: int, one: Callable[[str, int], Run]) -> CaseResult:
        raise NotImplementedError  # provided by Bench

    def _shaped(self, side: str, *argv: str) -> List[str]:
        raise NotImplementedError  # provided by ShapedCases

    # -- helpers --------------------------------------------------------------------------------

    def _config_with(self, side: str, concurrency: int) -> str:
        """A copy of ``side``'s shaped config with another ``concurrency``."""
        info = self.sides[side]
        path = "%s-c%d.wcscfg" % (info.shaped_config[:-len(".wcscfg")], concurrency)
        if not os.path.exists(path):
            with open(info.shaped_config, encoding="utf-8") as fp:
                text = re.sub(r"(?m)^concurrency = \d+$", "concurrency = %d" % concurrency, fp.read())
            with open(path, "w", encoding="utf-8") as fp:
                fp.write(text)
            os.chmod(path, 0o600)
        return path

    def _traced(self, env: Dict[str, str], argv: List[str], limit: float) -> Run:
        """A child run with the span the link was in use, the limit and the share of it reached."""
        shaper = self.shaper
        shaper.events.clear()
        shaper.trace = True
        try:
            run = self._child(env, argv)
        finally:
            shaper.trace = False
        span = _span(shaper.events)
        run.extra.update(span_s=span, limit_s=limit, of_limit=limit / span if span else 0.0)
        return run

    def _upload(self, key: str, size: int) -> Tuple[str, str]:
        """A ``size``-byte object ``bench/key``: its etag and the SHA-1 of its bytes."""
        import hashlib

        from wcs.commons.util import etag

        path = os.path.join(self.root, "io-source.bin")
        make_file(path, size)
        want = etag(path)
        digest = hashlib.sha1()
        with open(path, "rb") as fp:
            for piece in iter(lambda: fp.read(MiB), b""):
                digest.update(piece)
        self.client.multipart_upload(path, "bench", key).raise_for_status()
        os.unlink(path)
        return want, digest.hexdigest()

    def _limits(self, case: str) -> Dict[str, str]:
        if not hasattr(self, "io_limits"):
            self.io_limits = {}
        return self.io_limits.setdefault(case, {})

    # -- cases ----------------------------------------------------------------------------------

    def case_shaped_get_parts(self) -> None:
        sizes = GET_SIZES[:1] if self.sizes.transfer < 48 * MiB else GET_SIZES
        for size_mib in sizes:
            key = "io-get-%d.bin" % size_mib
            want = self._upload(key, size_mib * MiB)[0]
            official: List[Run] = []
            for concurrency in GET_CONCURRENCY:
                result = self._get_parts(key, size_mib * MiB, want, concurrency,
                                         with_official=size_mib == GET_SIZES[0] and not official)
                if OFFICIAL not in result.runs and official:
                    # One stream whatever the concurrency: the same runs, set against this limit.
                    limit = result.runs[OURS][0].extra["limit_s"]
                    result.runs[OFFICIAL] = [Run(r.wall, r.rss, r.stdout, r.cpu, r.rchar, r.read_bytes, r.emulator_cpu,
                                                 dict(r.extra, limit_s=limit, of_limit=limit / r.extra["span_s"]))
                                             for r in official]
                elif OFFICIAL not in result.runs:
                    result.missing[OFFICIAL] = "not run (one stream at 4 MB/s)"
                official = result.runs.get(OFFICIAL, official)
            self.client.delete("bench", key)

    def _get_parts(self, key: str, size: int, want: str, concurrency: int, with_official: bool) -> CaseResult:
        from wcs.commons.util import etag

        link = self.link
        limit = size / min(concurrency * link.conn_rate, link.total_rate) + STARTUP_RTTS * link.rtt
        config = self._config_with(OURS, concurrency)
        target = os.path.join(self.root, "io-downloaded.bin")
        result = CaseResult("shaped_get_parts_%d_c%d" % (size // MiB, concurrency),
                            "download one %d MiB object at concurrency %d" % (size // MiB, concurrency), nbytes=size)
        result.how[OURS] = "`wcscmd get wcs://...`, concurrency %d, `download_part_size` %d MiB" % (
            concurrency, self.sizes.part_size // MiB)

        def one(side: str, i: int) -> Run:
            if side == OURS:
                argv = self.sides[OURS].wcscmd + ["-c", config, "get", "wcs://bench/" + key, target]
            else:
                argv = self._shaped(OFFICIAL, "get", "%s/bench/%s" % (self.shaper.url, key), target)
            run = self._traced(self.sides[side].env, argv, limit)
            got = os.path.getsize(target) if os.path.exists(target) else -1
            if got != size or etag(target) != want:
                raise BenchError("%s get: %d bytes, want %d with etag %s" % (side, got, size, want))
            os.unlink(target)
            return run

        return self._pairs(result, (OURS, OFFICIAL) if with_official else (OURS,), self.sizes.pairs, one)

    def case_shaped_range_reads(self) -> None:
        try:
            import numpy
            import pandas
        except ImportError as exc:
            raise BenchError("shaped_range_reads needs pandas and pyarrow in %s: %s" % (sys.executable, exc)) from None
        link = self.link
        # A 4-column Parquet file of random doubles (incompressible), 8 row groups.
        rng = numpy.random.default_rng(7)
        frame = pandas.DataFrame({name: rng.random(PARQUET_ROWS) for name in ("a", "b", "c", "d")})
        local = os.path.join(self.root, "cols.parquet")
        frame.to_parquet(local, row_group_size=PARQUET_GROUP)
        file_size = os.path.getsize(local)
        needed, groups = _column_bytes(local, "c")
        self.client.multipart_upload(local, "bench", "cols.parquet").raise_for_status()
        checksum = float(frame["c"].sum())
        os.unlink(local)
        parquet = CaseResult("shaped_parquet", "`pd.read_parquet(url, columns=[one of four])`, %.1f MB, %d row "
                             "groups" % (file_size / 1e6, groups), nbytes=needed)
        parquet.how[OURS] = "default cache (`wcs-growing`)"
        parquet.how[READAHEAD] = "`cache_type=\"readahead\"` (fsspec's, the default before)"
        # One reader doing one read at a time: the footer, then each column chunk, each a new connection.
        self._limits("shaped_parquet").update({
            "read time (s)": "%.2f s (%d reads in a row, each 2 RTT, %.1f MB at one connection's rate)" % (
                needed / link.conn_rate + 2 * link.rtt * (groups + 1), groups + 1, needed / 1e6),
            "bytes fetched / file size": "%.2f (the column's chunks and the footer)" % (needed / file_size)})
        env = dict(self.sides[OURS].env)
        config = self.sides[OURS].shaped_config

        def read_column(side: str, i: int) -> Run:
            argv = [sys.executable, DRIVER, "read-column", config, "wcs://bench/cols.parquet", "c"]
            run = self._child(env, argv + ([READAHEAD] if side == READAHEAD else []))
            answer = json.loads(run.stdout.strip().splitlines()[-1])
            if answer["rows"] != PARQUET_ROWS or abs(answer["checksum"] - checksum) > 1e-6 * abs(checksum):
                raise BenchError("read_parquet through %s read %s" % (side, answer))
            run.extra.update(seconds=answer["seconds"], fetched_share=run.extra["bytes_down"] / file_size)
            return run

        self._pairs(parquet, (OURS, READAHEAD), self.sizes.pairs, read_column)
        self.client.delete("bench", "cols.parquet")

        sha1 = self._upload("seq.bin", SEQ_SIZE)[1]
        seq = CaseResult("shaped_seqread", "sequential read of a %d MiB object in %d MiB reads"
                         % (SEQ_SIZE // MiB, SEQ_READ // MiB), nbytes=SEQ_SIZE)
        seq.how[OURS] = parquet.how[OURS]
        seq.how[READAHEAD] = parquet.how[READAHEAD]
        self._limits("shaped_seqread").update({
            "read time (s)": "%.2f s (one connection's rate, one request)" % (SEQ_SIZE / link.conn_rate
                                                                              + 2 * link.rtt),
            "bytes fetched / file size": "1.00"})

        def read_seq(side: str, i: int) -> Run:
            argv = [sys.executable, DRIVER, "read-seq", config, "wcs://bench/seq.bin", str(SEQ_READ)]
            run = self._child(env, argv + ([READAHEAD] if side == READAHEAD else []))
            answer = json.loads(run.stdout.strip().splitlines()[-1])
            if answer["bytes"] != SEQ_SIZE or answer["sha1"] != sha1:
                raise BenchError("sequential read through %s: %s" % (side, answer))
            run.extra.update(seconds=answer["seconds"], fetched_share=run.extra["bytes_down"] / SEQ_SIZE)
            if side == READAHEAD:
                ours = seq.runs[OURS][-1]
                ours.extra["vs_readahead"] = ours.extra["seconds"] / answer["seconds"]
            return run

        self._pairs(seq, (OURS, READAHEAD), self.sizes.pairs, read_seq)
        self.client.delete("bench", "seq.bin")


def _column_bytes(path: str, column: str) -> Tuple[int, int]:
    """The bytes a reader of one column needs (its chunks and the footer pyarrow reads), and the row groups."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    index = meta.schema.names.index(column)
    chunks = sum(meta.row_group(g).column(index).total_compressed_size for g in range(meta.num_row_groups))
    footer = min(64 * 1024, os.path.getsize(path))  # pyarrow's first read of the footer
    return chunks + footer, meta.num_row_groups


# -- the table ------------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    if value >= 100:
        return "%.0f" % value
    if value >= 10:
        return "%.1f" % value
    return "%.2f" % value


def render_io(bench: Any) -> Optional[List[str]]:
    """The table of these cases for the shaped block, or None when none of them ran."""
    by_name = {r.name: r for r in bench.results}
    rows = [row for row in IO_ROWS if row.case in by_name]
    if not rows:
        return None
    lines = ["Downloads and range reads (`tests/bench/shaped_io.py`): the physical limit of a download at "
             "concurrency c is bytes / min(c x %g MB/s, %g MB/s) + %d RTT; the share of it is set against the "
             "time the link was in use (first connection to last), the wall time adds the interpreter's "
             "start-up." % (bench.link.conn_rate / 1e6, bench.link.total_rate / 1e6, STARTUP_RTTS), "",
             "| case | ours: what ran | metric | ours | reference | reference: what ran | per pair (ours, reference) "
             "| physical limit | target | met |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        result = by_name[row.case]
        ours = [row.value(r) for r in result.runs.get(OURS) or []]
        ref = [row.value(r) for r in result.runs.get(row.versus) or []]
        if row.metric.startswith("read time /"):
            ref = []
        limit = _limit_cell(bench, result, row)
        met = None
        if row.goal and ours:
            value = statistics.median(ours)
            met = value >= row.limit if row.goal == "min" else value <= row.limit
        goal = "ours >= %g" % row.limit if row.goal == "min" else "ours <= %g" % row.limit if row.goal else "(reported)"
        pairs = ", ".join("%s%s" % (_fmt(a), "" if b is None else " / " + _fmt(b))
                          for a, b in zip(ours, ref + [None] * (len(ours) - len(ref))))
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            result.title, result.how.get(OURS, "-"), row.metric, _fmt(statistics.median(ours)) if ours else "n/a",
            _fmt(statistics.median(ref)) if ref else result.missing.get(row.versus, "-"),
            result.how.get(row.versus, "`wcscmd get URL` (one stream)" if row.versus == OFFICIAL else "-"),
            pairs or "-", limit, goal, "-" if met is None else ("yes" if met else "**no**")))
    lines += ["", "Every run of these cases (medians): wall time of the child, the span the link was in use, what "
              "the link carried.", "",
              "| case | side | runs | wall (s) | link span (s) | limit (s) | CPU (s) | connections | MB down |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name in sorted({row.case for row in rows}, key=lambda n: [r.case for r in rows].index(n)):
        result = by_name[name]
        for side, runs, med in result.sides():
            lines.append("| %s | %s | %d | %.2f | %s | %s | %.2f | %d | %.1f |" % (
                name, side, len(runs), med(lambda r: r.wall),
                "%.2f" % med(_extra("span_s")) if "span_s" in runs[0].extra else "-",
                "%.2f" % med(_extra("limit_s")) if "limit_s" in runs[0].extra else "-",
                med(lambda r: r.cpu), med(_extra("connections")), med(_extra("bytes_down")) / 1e6))
    return lines


def _limit_cell(bench: Any, result: CaseResult, row: IoRow) -> str:
    if row.case.startswith("shaped_get_parts"):
        runs = result.runs.get(OURS) or []
        return "%.2f s" % runs[0].extra["limit_s"] if runs else "-"
    return getattr(bench, "io_limits", {}).get(row.case, {}).get(row.metric, "-")
