"""``rm``: delete objects: several keys, globs, whole prefixes with ``-r``; ``--dry-run`` lists them.

``rm wcs://b/a.txt wcs://b/b.txt`` deletes those keys (a missing one is a failure, as ``rm`` of a
missing file); ``rm 'wcs://b/www/*.html'`` the keys the glob matches, found by listing ``www/``
(``*``, ``?`` and ``[...]`` stop at ``/``, ``**`` crosses it, ``\\`` escapes); ``rm -r
wcs://b/www/`` every key under ``www/`` (never ``www2/...``; a whole bucket is refused). Many
deletions go as batched fmgr delete jobs, followed to their end and checked by a listing
(:meth:`Client.remove <wcs.services.client.Client.remove>`).

``--dry-run`` prints each key that would go (stderr), ``-v`` each key deleted; stdout gets the one
summary document (``deleted``, ``failed``, ``errors``). Exit status 0 when every key went, else 10
(PARTIAL), the failures each on an error line.
"""

import argparse
from typing import Any, Dict, List, Optional, Tuple

from wcs.cli import printing, uri
from wcs.cli.argtypes import UsageError
from wcs.cli.context import LISTING_WORKERS, NEEDS_MGR, Context
from wcs.cli.status import ExitStatus


class _Reporter:
    """The removal's observer: per-key lines on stderr."""

    def __init__(self, ctx: Context, bucket: str, dry_run: bool) -> None:
        self.ctx = ctx
        self.bucket = bucket
        self.dry_run = dry_run

    def on_action(self, action: Any) -> None:
        if self.dry_run and not self.ctx.quiet:
            self.ctx.line("delete %s" % uri.show(self.bucket, action.rel), "dry-run")

    def on_done(self, action: Any, error: Optional[str]) -> None:
        if error is None:
            printing.verbose(self.ctx, "deleted %s" % uri.show(self.bucket, action.rel))

    def on_error(self, where: str, message: str) -> None:
        self.ctx.line("%s: %s" % (uri.show(self.bucket, where), message), "error")


def _targets(args: argparse.Namespace) -> List[Tuple[str, Any]]:
    """``(bucket, target)`` for each URI, in the order given (:meth:`Client.removal_target`)."""
    from wcs.services.client import Client

    recursive = bool(getattr(args, "recursive", False))
    found = []
    for text in args.targets:
        bucket, key = uri.split_uri(text)
        if recursive:
            if Client.is_pattern(key):
                raise UsageError("-r takes prefixes, not patterns: %r" % text, "wcscmd rm")
            if not key.strip("/"):
                raise UsageError("refusing to delete the whole bucket %s: give a prefix (rm -r wcs://%s/PREFIX)"
                                 % (uri.show(bucket), bucket), "wcscmd rm")
        elif not key:
            raise UsageError("missing object key in %r (rm -r wcs://BUCKET/PREFIX for a prefix)" % text, "wcscmd rm")
        else:
            uri.parse_object(text)  # the key length check
        found.append((bucket, Client.removal_target(key, recursive=recursive)))
    return found


def cmd_rm(args: argparse.Namespace, ctx: Context) -> int:
    targets = _targets(args)
    dry_run = bool(getattr(args, "dry_run", False))
    client = ctx.client(*NEEDS_MGR, workers=LISTING_WORKERS)
    ctx.subject = ", ".join(args.targets) if len(args.targets) <= 3 else "%d targets" % len(args.targets)
    total: Dict[str, Any] = {"dry_run": dry_run, "deleted": 0, "failed": 0, "errors": []}
    if dry_run:
        total["planned"] = 0
    # Consecutive targets of one bucket go together (the keys among them in one batch).
    groups: List[Tuple[str, List[Any]]] = []
    for bucket, target in targets:
        if groups and groups[-1][0] == bucket:
            groups[-1][1].append(target)
        else:
            groups.append((bucket, [target]))
    for bucket, group in groups:
        summary = client.remove_targets(bucket, group, dry_run=dry_run, observer=_Reporter(ctx, bucket, dry_run))
        total["deleted"] += summary.deleted
        total["failed"] += summary.failed
        total["errors"].extend({"key": uri.show(bucket, key), "error": error} for key, error in summary.errors)
        if dry_run:
            total["planned"] += summary.planned
    if not dry_run and (total["deleted"] or not total["failed"]):
        printing.note(ctx, "deleted %d object%s%s" % (total["deleted"], "" if total["deleted"] == 1 else "s",
                                                      ", %d failed" % total["failed"] if total["failed"] else ""))
    ctx.emit(total)
    return ExitStatus.SUCCESS if not total["failed"] and not total["errors"] else ExitStatus.PARTIAL
