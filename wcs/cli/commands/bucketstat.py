"""``bucketstat``: a bucket's storage per day (``/bucket/stat``), or with ``--statistics TYPE`` its usage
statistics (``/bucket/statistics``, e.g. ``uploadRequest``), for one or more buckets (``"b1|b2"``).

On a terminal (and without ``--json``) the answer is a table for people: one row per day, one column
per bucket and a total column for several, in MB for storage (the day's peak, as the service counts
it) with the peak and the average of the period below, or in the statistic's unit with the total
of the period. Anywhere else stdout gets the service's answer as JSON, as the official tool prints it.

Statistics are an option of ``bucketstat`` rather than a command of their own: they take the same
buckets and dates, answer the same document per day, print as the same table, and a second command
named ``bucketstats`` would be one letter away from this one.
"""

import argparse
import datetime
from typing import Any, Dict, List, Optional, Tuple

from wcs.cli import uri
from wcs.cli.context import NEEDS_MGR, Context
from wcs.cli.status import ExitStatus
from wcs.commons.errors import InvalidArgument

MB = "MB"
# The unit of each statistic the emulator knows (reference: unknown); another type shows its own name.
UNITS = {"uploadRequest": "objects uploaded", "uploadTraffic": "bytes uploaded"}


def cmd_bucketstat(args: argparse.Namespace, ctx: Context) -> int:
    names = args.buckets.strip()
    if not names or any(not name.strip() for name in names.split("|")):
        raise InvalidArgument("expected bucket names separated by '|', got %r" % args.buckets)
    ctx.subject = "|".join(uri.show(name.strip()) for name in names.split("|"))
    today = datetime.date.today()
    # Official defaults: from yesterday to today.
    startdate = getattr(args, "startdate", None) or (today - datetime.timedelta(days=1)).isoformat()
    enddate = getattr(args, "enddate", None) or today.isoformat()
    if startdate > enddate:
        raise InvalidArgument("--startdate %s is after --enddate %s" % (startdate, enddate))
    kind = getattr(args, "statistics", None)
    kwargs: Dict[str, Any] = {}
    if getattr(args, "islistdetails", None):
        kwargs["isListDetails"] = args.islistdetails
    client = ctx.client(*NEEDS_MGR)
    if kind is not None:
        if getattr(args, "storagetype", None):
            raise InvalidArgument("--storagetype is for the storage used; --statistics %s counts every class" % kind)
        if not kind.strip():
            raise InvalidArgument("--statistics needs a type, e.g. uploadRequest")
        result = client.bucket_statistics(names, kind.strip(), startdate, enddate, **kwargs)
    else:
        if getattr(args, "storagetype", None):
            kwargs["storageType"] = args.storagetype
        result = client.bucket_stat(names, startdate, enddate, **kwargs)
    if result.ok and _isatty(ctx.stdout) and not ctx.json_lines:
        field = kind.strip() if kind is not None else "storage"
        title = ("%s per day (%s)" % (field, UNITS.get(field, field)) if kind is not None else
                 "storage used per day (%s, the day's peak)%s" % (
                     MB, " of class %s" % args.storagetype if getattr(args, "storagetype", None) else ""))
        lines = usage_table(result.data, field, storage=kind is None)
        ctx.stdout.write("%s, %s to %s:\n%s\n" % (title, startdate, enddate, "\n".join(lines)))
        ctx.stdout.flush()
        ctx.emitted = True
        return ExitStatus.SUCCESS
    return ctx.emit_result(result)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _number(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _columns(body: Any, field: str) -> Tuple[List[str], List[str], Dict[Tuple[str, str], float]]:
    """``(buckets, days, {(bucket, day): value})`` of a ``/bucket/stat`` or ``/bucket/statistics`` answer."""
    buckets: List[str] = []
    days: List[str] = []
    values: Dict[Tuple[str, str], float] = {}
    for bucket in (body.get("buckets") or []) if isinstance(body, dict) else []:
        if not isinstance(bucket, dict):
            continue
        name = str(bucket.get("name", ""))
        buckets.append(name)
        for entry in bucket.get("detail") or []:
            if not isinstance(entry, dict):
                continue
            day = str(entry.get("data_time", ""))
            if day not in days:
                days.append(day)
            value = _number(entry.get(field))
            if value is not None:
                values[(name, day)] = value
    return buckets, sorted(days), values


def usage_table(body: Any, field: str, *, storage: bool) -> List[str]:
    """The lines of the table (see the module docstring); ``storage``: MB levels, else counts to total."""
    buckets, days, values = _columns(body, field)
    headers = ["date"] + buckets + (["total"] if len(buckets) > 1 else [])

    def show(value: Optional[float]) -> str:
        if value is None:
            return "-"
        return f"{value:,.3f}" if storage else f"{value:,.0f}"

    def row(label: str, cells: List[Optional[float]]) -> List[str]:
        if len(buckets) > 1:
            known = [cell for cell in cells if cell is not None]
            cells = cells + [sum(known) if known else None]
        return [label] + [show(cell) for cell in cells]

    table = [row(day, [values.get((bucket, day)) for bucket in buckets]) for day in days]
    columns = [[values[(bucket, day)] for day in days if (bucket, day) in values] for bucket in buckets]
    if storage:
        footer = [row("peak", [max(column) if column else None for column in columns]),
                  row("average", [sum(column) / len(column) if column else None for column in columns])]
        if len(buckets) > 1:  # the totals' own peak and average, not the sum of each bucket's
            totals = [sum(known) for known in ([values[(b, day)] for b in buckets if (b, day) in values]
                                               for day in days) if known]
            footer[0][-1] = show(max(totals) if totals else None)
            footer[1][-1] = show(sum(totals) / len(totals) if totals else None)
    else:
        footer = [row("total", [sum(column) if column else None for column in columns])]
    widths = [max(len(line[i]) for line in [headers] + table + footer) for i in range(len(headers))]

    def render(line: List[str]) -> str:
        return "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i])
                         for i, cell in enumerate(line)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return [render(headers), rule] + [render(line) for line in table] + [rule] + [render(line) for line in footer]
