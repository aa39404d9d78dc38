"""Commands that start or query asynchronous jobs: ``deletePrefix``, ``fops`` (fmgr/fops), and their status.

``deletePrefix --wait`` follows its job to the end and prints the final status (as ``fmgrStatus``
does), exiting 9 (JOB_FAILED) when an operation of the job failed, or when it still runs after
``--wait-timeout`` seconds; :func:`follow` does it for every job command (``zip``, ``deletem3u8``,
``setdeadline -r`` too), over :meth:`Client.wait_job <wcs.services.client.Client.wait_job>`.
"""

import argparse
from typing import Any, List, Optional

from wcs.cli import printing, uri
from wcs.cli.context import NEEDS_MGR, NEEDS_STATUS, Context
from wcs.cli.status import CommandFailed, ExitStatus
from wcs.commons.errors import InvalidArgument


def cmd_deletePrefix(args: argparse.Namespace, ctx: Context) -> int:  # official command name
    bucket = uri.parse_bucket(args.bucket)
    ctx.subject = uri.show(bucket, args.prefix)
    if not args.prefix:  # refused before the config is even read
        raise InvalidArgument("PREFIX must not be empty (it would delete the whole bucket)")
    client = ctx.client(*NEEDS_MGR)
    return follow(args, ctx, client, client.delete_prefix(bucket, args.prefix))


def follow(args: argparse.Namespace, ctx: Context, client: Any, submitted: Any) -> int:
    """Print a job's submission; with ``--wait``, follow the job (at most ``--wait-timeout`` seconds) and
    print its final status instead, as ``fmgrStatus`` does, exiting 9 when an operation failed or the job
    still runs. A submission refused, or a status that cannot be read, is printed and reported as is."""
    answer = submitted.data if isinstance(submitted.data, dict) else {}
    if not getattr(args, "wait", False) or not submitted.ok or not answer.get("persistentId"):
        return ctx.emit_result(submitted)
    persistent_id = str(answer["persistentId"])
    printing.note(ctx, "job %s submitted; waiting for it to finish" % persistent_id)
    seen: List[Optional[int]] = []

    def on_status(status: Any) -> None:
        if not seen or seen[-1] != status.code:
            printing.verbose(ctx, "job %s: code %s %s" % (persistent_id, status.code, status.desc))
        seen.append(status.code)

    status = client.wait_job(persistent_id, timeout=args.wait_timeout, on_status=on_status)
    if status.code is not None and not status.finished:
        ctx.emit_result(status.result)
        raise CommandFailed("job %s still running after %g s (code %s); follow it with: wcscmd fmgrStatus %s"
                            % (persistent_id, args.wait_timeout, status.code, persistent_id), ExitStatus.JOB_FAILED)
    return _job_status(ctx, persistent_id, status.result)


def cmd_fops(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).ops_execute(args.fops, bucket, key))


def cmd_fopsStatus(args: argparse.Namespace, ctx: Context) -> int:  # official command name
    ctx.subject = "job %s" % args.persistent_id
    return _job_status(ctx, args.persistent_id, ctx.client(*NEEDS_STATUS).ops_status(args.persistent_id))


def cmd_fmgrStatus(args: argparse.Namespace, ctx: Context) -> int:  # official command name
    ctx.subject = "job %s" % args.persistent_id
    return _job_status(ctx, args.persistent_id, ctx.client(*NEEDS_STATUS).fmgr_status(args.persistent_id))


# Item ("operation") code of a failed operation in fmgr and fops status documents.
FAILED_ITEM = 2


def _job_status(ctx: Context, persistent_id: str, result: Any) -> int:
    """Print the status; a job with a failed operation exits with JOB_FAILED, so a script can wait on it.

    A job still pending or running (top-level code 0, 1 or 4) succeeds: the JSON says how far it is.
    """
    ctx.emit_result(result)
    items = result.body.get("items") if isinstance(result.body, dict) else None
    items = items if isinstance(items, list) else []
    failed = [item for item in items if isinstance(item, dict) and _as_int(item.get("code")) == FAILED_ITEM]
    if not failed:
        return ExitStatus.SUCCESS
    reason = failed[0].get("error") or failed[0].get("desc") or "no reason given"
    raise CommandFailed("job %s failed: %d of %d operations failed (first: %s)"
                        % (persistent_id, len(failed), len(items), reason), ExitStatus.JOB_FAILED)


def _as_int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
