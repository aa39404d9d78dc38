"""Commands that move whole folders: ``sync``, ``put -r``, ``get -r`` (single files: :mod:`.transfers`).

``sync LOCAL_DIR wcs://BUCKET[/PREFIX]`` uploads, ``sync wcs://BUCKET[/PREFIX] LOCAL_DIR`` downloads:
what is missing or differs (by size, then etag) is copied, ``--delete`` then removes what the source
lacks. ``put -r`` / ``get -r`` (remote first, as ``put``) copy every file. The work is
:meth:`Client.sync <wcs.services.client.Client.sync>`; this module turns options into its
arguments, reports through :mod:`wcs.cli.tree_progress` and prints the summary document. Exit
status 10 (PARTIAL) when any file failed or a requested deletion was not carried out.
"""

import argparse
from typing import Any, Dict, Optional, Tuple

from wcs.cli import uri
from wcs.cli.argtypes import UsageError
from wcs.cli.commands import transfers
from wcs.cli.context import NEEDS_MGR, NEEDS_PUT, Context
from wcs.cli.status import ExitStatus

_TREE_ONLY = ("skip_existing", "dry_run", "filters", "fail_fast", "follow_symlinks", "verbose", "hash_cache",
              "no_hash_cache")


def cmd_sync(args: argparse.Namespace, ctx: Context) -> int:
    src_remote, dst_remote = uri.is_wcs_uri(args.src), uri.is_wcs_uri(args.dst)
    if src_remote == dst_remote:
        raise UsageError("sync needs one local folder and one wcs://BUCKET[/PREFIX]", "wcscmd sync")
    if src_remote:
        return _run(args, ctx, "download", args.dst, uri.split_uri(args.src), sync=True)
    return _run(args, ctx, "upload", args.src, uri.split_uri(args.dst), sync=True)


def cmd_put(args: argparse.Namespace, ctx: Context) -> int:
    if not args.recursive:
        _no_tree_options(args, "put")
        return transfers.cmd_put(args, ctx)
    return _run(args, ctx, "upload", args.localfile, uri.split_uri(args.uri), sync=False)


def cmd_get(args: argparse.Namespace, ctx: Context) -> int:
    if not args.recursive:
        _no_tree_options(args, "get")
        return transfers.cmd_get(args, ctx)
    if not uri.is_wcs_uri(args.url):
        raise UsageError("get -r needs wcs://BUCKET[/PREFIX], got %r" % args.url, "wcscmd get")
    if not args.filename:
        raise UsageError("get -r needs LOCAL_DIR: get -r wcs://BUCKET[/PREFIX] LOCAL_DIR", "wcscmd get")
    return _run(args, ctx, "download", args.filename, uri.split_uri(args.url), sync=False)


def _no_tree_options(args: argparse.Namespace, command: str) -> None:
    for name in _TREE_ONLY:
        if getattr(args, name, None):
            raise UsageError("--%s needs -r (a whole folder)" % name.replace("_", "-"), "wcscmd " + command)


def _run(args: argparse.Namespace, ctx: Context, direction: str, local_dir: str, remote: Tuple[str, str], *,
         sync: bool) -> int:
    bucket, prefix = remote
    if prefix:
        uri.parse_object(uri.SCHEME + bucket + "/" + prefix)  # the key length check
    skip_existing = bool(getattr(args, "skip_existing", False))
    delete = bool(getattr(args, "delete", False))
    needs = list(NEEDS_PUT if direction == "upload" else NEEDS_MGR)
    if direction == "upload" and (sync or skip_existing):
        needs.append("mgr_url")  # the listing
    client = ctx.client(*needs, workers=args.transfers)
    hash_cache: Optional[str] = None if args.no_hash_cache else (args.hash_cache or "")
    options: Dict[str, Any] = dict(
        sync=sync, skip_existing=skip_existing, delete=delete, max_delete=getattr(args, "max_delete", None),
        size_only=bool(getattr(args, "size_only", False)), dry_run=args.dry_run, transfers=args.transfers,
        filters=list(args.filters or []), follow_symlinks=args.follow_symlinks, fail_fast=args.fail_fast,
        hash_cache=hash_cache)
    if getattr(args, "max_delete", None) is not None and not delete:
        raise UsageError("--max-delete needs --delete", "wcscmd sync")
    from wcs.cli.tree_progress import TreeReporter

    place = (bucket, prefix)
    with TreeReporter(ctx, direction, verbose=args.verbose, dry_run=args.dry_run, stats=args.stats) as reporter:
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
