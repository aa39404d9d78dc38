"""Commands that bring other stores into WCS and carry out plans: ``sync SRC wcs://...`` where SRC is an
fsspec URL (``s3://``, ``gs://``, ``https://`` with ``--files-from``...), ``apply PLAN`` and ``batch FILE``.

The work is :meth:`Client.sync <wcs.services.client.Client.sync>` (:mod:`wcs.services.migrate`),
:meth:`~wcs.services.client.Client.apply_plan` and :meth:`~wcs.services.client.Client.run_batch`; this
module turns options into their arguments, reports on stderr and prints the summary document. Exit
status 10 (PARTIAL) when an object failed, a requested deletion was not carried out, or (``apply``,
``batch``) an action was skipped because its facts changed since the plan.
"""

import argparse
import json
from typing import Any, Dict, List, Optional

from wcs.cli import printing, uri
from wcs.cli.argtypes import UsageError
from wcs.cli.context import NEEDS_PUT, Context
from wcs.cli.status import ExitStatus


def is_store_url(text: str) -> bool:
    """``s3://...``, ``https://...``: a URL of another store (not ``wcs://``, not a local path)."""
    scheme, sep, _rest = text.partition("://")
    return bool(sep) and scheme.isidentifier() and not uri.is_wcs_uri(text)


def storage_options(pairs: Optional[List[str]]) -> Dict[str, Any]:
    """``--storage-option KEY=VALUE`` pairs as the filesystem's keyword arguments: a value is JSON when it
    parses as JSON (``true``, ``3``, ``{...}``), else text; ``a.b=v`` nests (``client_kwargs.region_name``).

    Raises:
        UsageError: a pair without ``=``.
    """
    options: Dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise UsageError("--storage-option takes KEY=VALUE, got %r" % pair, "wcscmd sync")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        place = options
        parts = key.split(".")
        for part in parts[:-1]:
            place = place.setdefault(part, {})
        place[parts[-1]] = value
    return options


def cmd_sync_from_store(args: argparse.Namespace, ctx: Context) -> int:
    """``sync SRC wcs://BUCKET[/PREFIX]`` with SRC another store's URL."""
    if not uri.is_wcs_uri(args.dst):
        raise UsageError("sync from %s needs wcs://BUCKET[/PREFIX] as DEST (other stores are only read)"
                         % args.src, "wcscmd sync")
    bucket, prefix = uri.split_uri(args.dst)
    if prefix:
        uri.parse_object(uri.SCHEME + bucket + "/" + prefix)  # the key length check
    given = vars(args)
    if given.get("max_delete") is not None and not given.get("delete"):
        raise UsageError("--max-delete needs --delete", "wcscmd sync")
    plan = given.get("plan")
    dry_run = bool(given.get("dry_run"))
    options: Dict[str, Any] = dict(
        delete=bool(given.get("delete")), max_delete=given.get("max_delete"), dry_run=dry_run, plan=plan,
        size_only=bool(given.get("size_only")), filters=list(given.get("filters") or []),
        transfers=args.transfers, fail_fast=bool(given.get("fail_fast")), files_from=given.get("files_from"),
        journal=None if given.get("no_journal") else (given.get("journal") or ""),
        server_side=not given.get("no_server_side"), md5=not given.get("no_md5"),
        storage_options=storage_options(given.get("storage_options")))
    for name, dest in (("batch", "fetch_batch"), ("jobs", "jobs")):
        if given.get(dest) is not None:
            options[name] = given[dest]
    client = ctx.client(*(NEEDS_PUT + ("mgr_url",)), workers=args.transfers)
    from wcs.cli.migrate_progress import MigrationReporter  # loaded by a run, not by --help

    with MigrationReporter(ctx, verbose=ctx.verbose, dry_run=dry_run or bool(plan),
                           stats=args.stats) as reporter:
        summary = client.sync(args.src, (bucket, prefix), observer=reporter, subscribers=reporter.subscribers(),
                              **options)
    ctx.emit(summary.to_json())
    return ExitStatus.SUCCESS if summary.ok else ExitStatus.PARTIAL


class PlanReporter:
    """What ``apply`` and ``batch`` say per action: a changed or failed one always, a done one with ``-v``."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def on_result(self, action: Dict[str, Any], outcome: str, message: Optional[str]) -> None:
        what = "%s %s" % (action["op"], action.get("rel") or "")
        if outcome == "failed":
            self.ctx.line("%s: %s" % (what, message), "error")
        elif outcome == "changed":
            self.ctx.line("%s: not done, changed since the plan: %s" % (what, message), "warning")
        elif outcome == "done":
            printing.verbose(self.ctx, "%s: done" % what)


def _run_options(args: argparse.Namespace, ctx: Context) -> Dict[str, Any]:
    """What ``apply`` and ``batch`` pass to the run: the observer, the other stores' options, the settings."""
    given = vars(args)
    options: Dict[str, Any] = {"observer": PlanReporter(ctx), "transfers": args.transfers,
                               "storage_options": storage_options(given.get("storage_options"))}
    for name, dest in (("batch", "fetch_batch"), ("jobs", "jobs")):
        if given.get(dest) is not None:
            options[name] = given[dest]
    return options


def _plan_client(args: argparse.Namespace, ctx: Context) -> Any:
    return ctx.client(*(NEEDS_PUT + ("mgr_url",)), workers=args.transfers)


def _outcome(ctx: Context, summary: Any) -> int:
    ctx.emit(summary.to_json())
    return ExitStatus.SUCCESS if summary.complete else ExitStatus.PARTIAL


def cmd_apply(args: argparse.Namespace, ctx: Context) -> int:
    return _outcome(ctx, _plan_client(args, ctx).apply_plan(args.plan_file, **_run_options(args, ctx)))


def cmd_batch(args: argparse.Namespace, ctx: Context) -> int:
    return _outcome(ctx, _plan_client(args, ctx).run_batch(args.batch_file, **_run_options(args, ctx)))


__all__ = ["cmd_apply", "cmd_batch", "cmd_sync_from_store", "is_store_url", "storage_options"]
