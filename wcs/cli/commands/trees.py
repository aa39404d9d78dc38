"""Commands that move whole folders: ``sync``, ``cp -r``, ``mv -r``, ``put -r``, ``get -r`` (single
files: :mod:`.uploads`, :mod:`.downloads` and :mod:`.copymove`).

One argument order, source then destination: ``sync LOCAL_DIR wcs://BUCKET[/PREFIX]`` uploads,
``sync wcs://BUCKET[/PREFIX] LOCAL_DIR`` downloads, ``sync wcs://A wcs://B`` copies on the
service (the same bucket or two): what is missing or differs (by size, then etag) is copied,
``--delete`` then removes what the source lacks. ``cp -r`` copies every file (``mv -r``: then
removes each source once its copy is verified); the folder's contents go under the destination
prefix, as with aws and rclone. ``put -r`` / ``get -r`` take the official order (remote first) or
source first, whichever is unambiguous. The work is the Client's tree methods
(:meth:`~wcs.services.client.Client.sync`, ``upload_tree``, ``download_tree``, ``copy_tree``,
``move_tree``); this module turns options into their arguments, reports through
:mod:`wcs.cli.tree_progress` and prints the summary document. Exit status 10 (PARTIAL) when any
file failed or a requested deletion was not carried out. Which options each form takes is the
command table's business (:mod:`wcs.cli.definition`).
"""

import argparse
import os
from typing import Any, Dict, Optional, Tuple

from wcs.cli import printing, uri
from wcs.cli.argtypes import UsageError
from wcs.cli.commands import downloads, migrations, uploads
from wcs.cli.context import NEEDS_MGR, NEEDS_PUT, Context
from wcs.cli.options import option_named
from wcs.cli.status import ExitStatus

# Options of a sync from another store (s3://, https://...) only.
_STORE_ONLY = ("journal", "no_journal", "no_server_side", "no_md5", "fetch_batch", "jobs", "storage_options")


def cmd_sync(args: argparse.Namespace, ctx: Context) -> int:
    if migrations.is_store_url(args.src):
        return migrations.cmd_sync_from_store(args, ctx)
    for dest in _STORE_ONLY:
        if getattr(args, dest, None):
            raise UsageError("--%s is for a sync from another store (s3://..., https://...)"
                             % option_named(dest).name.lstrip("-"), "wcscmd sync")
    src_remote, dst_remote = uri.is_wcs_uri(args.src), uri.is_wcs_uri(args.dst)
    if not src_remote and not dst_remote:
        raise UsageError("sync needs wcs://BUCKET[/PREFIX] on at least one side", "wcscmd sync")
    if src_remote and dst_remote:
        return _run_remote(args, ctx, uri.split_uri(args.src), uri.split_uri(args.dst), sync=True)
    if src_remote:
        return _run(args, ctx, "download", args.dst, uri.split_uri(args.src), sync=True)
    return _run(args, ctx, "upload", args.src, uri.split_uri(args.dst), sync=True)


def cmd_copy_tree(args: argparse.Namespace, ctx: Context, *, move: bool) -> int:
    """``cp -r`` / ``mv -r`` SOURCE DEST: a folder or a prefix, in any direction."""
    name = "wcscmd " + ("mv" if move else "cp")
    src, dst = args.src, args.dst
    if "-" in (src, dst):
        raise UsageError("-r copies folders: '-' (stdin, stdout) is for one object", name)
    src_remote, dst_remote = uri.is_wcs_uri(src), uri.is_wcs_uri(dst)
    if not src_remote and not dst_remote:
        raise UsageError("one of SOURCE and DEST must be wcs://BUCKET[/PREFIX]", name)
    if src_remote and dst_remote:
        return _run_remote(args, ctx, uri.split_uri(src), uri.split_uri(dst), sync=False, move=move)
    if dst_remote:
        return _run(args, ctx, "upload", src, uri.split_uri(dst), sync=False, move=move)
    return _run(args, ctx, "download", dst, uri.split_uri(src), sync=False, move=move)


def cmd_put(args: argparse.Namespace, ctx: Context) -> int:
    args.uri, args.localfile = uri.remote_and_local(args.uri, args.localfile)
    if not getattr(args, "recursive", False):
        return uploads.cmd_put(args, ctx)
    return _run(args, ctx, "upload", args.localfile, uri.split_uri(args.uri), sync=False)


def cmd_get(args: argparse.Namespace, ctx: Context) -> int:
    args.url, args.filename = uri.remote_and_local(args.url, args.filename)
    if not getattr(args, "recursive", False):
        if getattr(args, "no_clobber", False) and args.filename != "-":
            target = _get_target(args)
            if os.path.lexists(target):
                ctx.line("%s exists: not downloaded (--no-clobber)" % target, "note")
                ctx.emit({"code": None, "reqid": None, "body": None, "file": target, "skipped": "exists"})
                return ExitStatus.SUCCESS
        return downloads.cmd_get(args, ctx)
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
        name = downloads.safe_name(key.rsplit("/", 1)[-1], source)
    else:
        name = downloads.default_filename(source)
    return downloads.target_path(args.filename, name)


def _tree_options(args: argparse.Namespace, sync: bool, move: bool) -> Dict[str, Any]:
    """The TreeOptions fields the command line gives (flags not given are absent from ``args``)."""
    given = vars(args)
    delete = bool(given.get("delete"))
    if given.get("max_delete") is not None and not delete:
        raise UsageError("--max-delete needs --delete", "wcscmd sync")
    hash_cache: Optional[str] = None if given.get("no_hash_cache") else (given.get("hash_cache") or "")
    return dict(
        sync=sync, skip_existing=bool(given.get("skip_existing") or given.get("no_clobber")), delete=delete,
        max_delete=given.get("max_delete"), size_only=bool(given.get("size_only")),
        dry_run=bool(given.get("dry_run")), transfers=args.transfers, filters=list(given.get("filters") or []),
        follow_symlinks=bool(given.get("follow_symlinks")), fail_fast=bool(given.get("fail_fast")),
        hash_cache=hash_cache, move=move, files_from=given.get("files_from"))


def _run_remote(args: argparse.Namespace, ctx: Context, source: Tuple[str, str], destination: Tuple[str, str], *,
                sync: bool, move: bool = False) -> int:
    """Between two bucket prefixes: decided by the listings, copied by the service."""
    for place in (source, destination):
        if place[1]:
            uri.parse_object(uri.SCHEME + place[0] + "/" + place[1])  # the key length check
    for local_only in ("follow_symlinks", "hash_cache", "no_hash_cache"):
        if getattr(args, local_only, None):
            raise UsageError("--%s is for a local folder; both sides are wcs://" % local_only.replace("_", "-"),
                             "wcscmd " + args.command)
    options = _tree_options(args, sync, move)
    for local_only in ("follow_symlinks", "hash_cache"):
        options.pop(local_only)
    client = ctx.client(*NEEDS_MGR, workers=args.transfers)
    from wcs.cli.tree_progress import TreeReporter

    planning = options["dry_run"] or bool(vars(args).get("plan"))  # a plan changes nothing either
    with TreeReporter(ctx, "remote", verbose=ctx.verbose, dry_run=planning, stats=args.stats) as reporter:
        if sync:
            summary = client.sync(source, destination, observer=reporter, plan=vars(args).get("plan"), **options)
        elif move:
            summary = client.move_tree(source, destination, observer=reporter, **options)
        else:
            summary = client.copy_tree(source, destination, observer=reporter, **options)
    if summary.replaced:
        printing.note(ctx, "replaced %d object%s in %s" % (summary.replaced, "" if summary.replaced == 1 else "s",
                                                           summary.destination))
    ctx.emit(summary.to_json())
    return ExitStatus.SUCCESS if summary.ok else ExitStatus.PARTIAL


def _run(args: argparse.Namespace, ctx: Context, direction: str, local_dir: str, remote: Tuple[str, str], *,
         sync: bool, move: bool = False) -> int:
    bucket, prefix = remote
    if prefix:
        uri.parse_object(uri.SCHEME + bucket + "/" + prefix)  # the key length check
    options = _tree_options(args, sync, move)
    dry_run = options["dry_run"] or bool(vars(args).get("plan"))  # a plan changes nothing either
    needs = list(NEEDS_PUT if direction == "upload" else NEEDS_MGR)
    if direction == "upload" and (sync or options["skip_existing"]):
        needs.append("mgr_url")  # the listing
    if move and direction == "download":
        needs.append("mgr_url")  # the deletions
    client = ctx.client(*needs, workers=args.transfers)
    from wcs.cli.tree_progress import TreeReporter

    place = (bucket, prefix)
    with TreeReporter(ctx, direction, verbose=ctx.verbose, dry_run=dry_run, stats=args.stats) as reporter:
        source, destination = (local_dir, place) if direction == "upload" else (place, local_dir)
        if sync:
            summary = client.sync(source, destination, observer=reporter, subscribers=reporter.subscribers(),
                                  plan=vars(args).get("plan"), **options)
        elif direction == "upload":
            summary = client.upload_tree(local_dir, bucket, prefix, observer=reporter,
                                         subscribers=reporter.subscribers(), **options)
        else:
            summary = client.download_tree(bucket, prefix, local_dir, observer=reporter,
                                           subscribers=reporter.subscribers(), **options)
    ctx.emit(summary.to_json())
    return ExitStatus.SUCCESS if summary.ok else ExitStatus.PARTIAL
