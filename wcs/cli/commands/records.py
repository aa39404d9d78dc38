"""``records``: list and remove the resume records that failed or abandoned multiputs leave behind.

A finished multipart upload removes its record; an interrupted one keeps it in ``tmp_record_folder``
so that ``multiput --upload-id`` can resume it. Those nobody resumes pile up: ``records`` lists them
(what file, which object, how many blocks are stored, when the last one was) and ``records clean``
removes them, all of them, the given upload ids, or those not written for ``--older-than DAYS``.
"""

import argparse
import datetime
import time
from typing import Any, Dict, List

from wcs.cli.context import Context
from wcs.cli.status import ExitStatus
from wcs.commons.errors import InvalidArgument

DAY_S = 86400.0


def _described(summary: Any, now: float) -> Dict[str, Any]:
    item = summary.to_json()
    item["updated"] = datetime.datetime.fromtimestamp(summary.updated, datetime.timezone.utc) \
        .isoformat(timespec="seconds").replace("+00:00", "Z")
    item["age_days"] = round(max(now - summary.updated, 0.0) / DAY_S, 3)
    return item


def cmd_records(args: argparse.Namespace, ctx: Context) -> int:
    client = ctx.client()
    folder = ctx.config().tmp_record_folder
    now = time.time()
    limit = getattr(args, "older_than", None)
    wanted = set(args.upload_ids or ())
    for upload_id in wanted:
        client.check_upload_id(upload_id)
    found = [s for s in client.list_resume_records()
             if (not wanted or s.upload_id in wanted) and (limit is None or now - s.updated >= limit * DAY_S)]
    if args.action == "list":
        ctx.emit({"folder": folder, "count": len(found), "records": [_described(s, now) for s in found]})
        return ExitStatus.SUCCESS
    if args.action != "clean":  # argparse's choices make this unreachable
        raise InvalidArgument("unknown records action %r" % args.action)
    removed: List[str] = [s.upload_id for s in found if client.remove_resume_record(s.upload_id)]
    missing = sorted(wanted - {s.upload_id for s in found})
    for upload_id in missing:
        ctx.line("no record for upload id %s in %s%s" % (upload_id, folder, "" if limit is None else
                                                          " older than %g days" % limit), "note")
    ctx.emit({"folder": folder, "count": len(removed), "removed": removed, "not_found": missing})
    return ExitStatus.SUCCESS
