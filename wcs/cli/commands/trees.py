"""Commands that move whole folders: ``sync``, ``put -r``, ``get -r`` (single files: :mod:`.transfers`).

``sync LOCAL_DIR wcs://BUCKET[/PREFIX]`` uploads, ``sync wcs://BUCKET[/PREFIX] LOCAL_DIR`` downloads:
what is missing or differs (by size, then etag) is copied, ``--delete`` then removes what the source
lacks. ``put -r`` / ``get -r`` (remote first, as ``put``) copy every file. The work is
:meth:`Client.sync <wcs.services.client.Client.sync>`; this module turns options into its
arguments, reports through :mod:`wcs.cli.tree_progress` and prints the summary document. Exit
status 10 (PARTIAL) when any file failed or a requested deletion was not carried out. Which
options each form takes is the command table's business (:mod:`wcs.cli.definition`).
"""

import argparse
import os
from typing import Any, Dict, Optional, Tuple

from wcs.cli import uri
from wcs.cli.argtypes import UsageError
from wcs.cli.commands import transfers
from wcs.cli.context import NEEDS_MGR, NEEDS_PUT, Context
from wcs.cli.status import ExitStatus


def cmd_sync(args: argparse.Namespace, ctx: Context) -> int:
    src_remote, dst_remote = uri.is_wcs_uri(args.src), uri.is_wcs_uri(args.dst)
    if src_remote == dst_remote:
        raise UsageError("sync needs one local folder and one wcs://BUCKET[/PREFIX]", "wcscmd sync")
    if src_remote:
        return _run(args, ctx, "download", args.dst, uri.split_uri(args.src), sync=True)
    return _run(args, ctx, "upload", args.src, uri.split_uri(args.dst), sync=True)


def cmd_put(args: argparse.Namespace, ctx: Context) -> int:
    if not getattr(args, "recursive", False):
        return transfers.cmd_put(args, ctx)
    return _run(args, ctx, "upload", args.localfile, uri.split_uri(args.uri), sync=False)


def cmd_get(args: argparse.Namespace, ctx: Context) -> int:
    if not getattr(args, "recursive", False):
        if getattr(args, "no_clobber", False) and args.filename != "-":
            target = _get_target(args)
            if os.path.lexists(target):
                ctx.line("%s exists: not downloaded (--no-clobber)" % target, "note")
                ctx.emit({"code": None, "reqid": None, "body": None, "file": target, "skipped": "exists"})
                return ExitStatus.SUCCESS
        return transfers.cmd_get(args, ctx)
    if not uri.is_wcs_uri(args.url):
        raise UsageError("get -r needs wcs://BUCKET[/PREFIX], got %r" % args.url, "wcscmd get")
    if not args.filename:
        raise UsageError("get -r needs LOCAL_DIR: get -r wcs://BUCKET[/PREFIX] LOCAL_DIR", "wcscmd get")
    return _run(args, ctx, "download", args.filename, uri.split_uri(args.url), sync=False)


def _get_target(args: argparse.Namespace) -> str:
    """Where ``get URL [FILENAME]`` writes, by the same rules as the download itself."""
    source = args.url
    if uri.is_wcs_uri(source):
        _bucket, key = uri.parse_object(source)
        name = transfers._safe_name(key.rsplit("/", 1)[-1], source)
    else:
        name = transfers.default_filename(source)
    return transfers._target_path(args.filename, name)


def _run(args: argparse.Namespace, ctx: Context, direction: str, local_dir: str, remote: Tuple[str, str], *,
         sync: bool) -> int:
    bucket, prefix = remote
    if prefix:
        uri.parse_object(uri.SCHEME + bucket + "/" + prefix)  # the key length check
    skip_existing = bool(getattr(args, "skip_existing", False) or getattr(args, "no_clobber", False))
    delete = bool(getattr(args, "delete", False))
    needs = list(NEEDS_PUT if direction == "upload" else NEEDS_MGR)
    if direction == "upload" and (sync or skip_existing):
        needs.append("mgr_url")  # the listing
    client = ctx.client(*needs, workers=args.transfers)
    given = vars(args)  # flags not given are absent (the parser suppresses their defaults)
    hash_cache: Optional[str] = None if given.get("no_hash_cache") else (given.get("hash_cache") or "")
    dry_run = bool(given.get("dry_run"))
    options: Dict[str, Any] = dict(
        sync=sync, skip_existing=skip_existing, delete=delete, max_delete=given.get("max_delete"),
        size_only=bool(given.get("size_only")), dry_run=dry_run, transfers=args.transfers,
        filters=list(given.get("filters") or []), follow_symlinks=bool(given.get("follow_symlinks")),
        fail_fast=bool(given.get("fail_fast")), hash_cache=hash_cache)
    if getattr(args, "max_delete", None) is not None and not delete:
        raise UsageError("--max-delete needs --delete", "wcscmd sync")
    from wcs.cli.tree_progress import TreeReporter

    place = (bucket, prefix)
    with TreeReporter(ctx, direction, verbose=ctx.verbose, dry_run=dry_run, stats=args.stats) as reporter:
        source, destination = (local_dir, place) if direction == "upload" else (place, local_dir)
        if sync:
            summary = client.sync(source, destination, observer=reporter, subscribers=reporter.subscribers(),
                                  **options)
        elif direction == "upload":
            summary = client.upload_tree(local_dir, bucket, prefix, observer=reporter,
                                         subscribers=reporter.subscribers(), **options)
        else:
            summary = client.download_tree(bucket, prefix, local_dir, observer=reporter,
                                           subscribers=reporter.subscribers(), **options)
    ctx.emit(summary.to_json())
    return ExitStatus.SUCCESS if summary.ok else ExitStatus.PARTIAL
