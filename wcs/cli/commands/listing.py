"""Commands that list: ``list``, ``listall`` (into RESFILE), ``listbucket`` (``bucketstat``: :mod:`.bucketstat`).

RESFILE ``-`` (or ``/dev/stdout``) writes the listing to stdout instead, as the command's one JSON
document: the summary (``file``, ``count``, ``marker``) is then not printed, since the listing itself
holds all of it.
"""

import argparse
import contextlib
import itertools
import json
import os
from typing import IO, Any, Dict, Iterator, List

from wcs.cli import uri
from wcs.cli.context import LISTING_WORKERS, NEEDS_MGR, Context
from wcs.cli.files import atomic_output, names_stdout
from wcs.cli.status import ExitStatus


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    bucket = uri.parse_bucket(args.bucket)
    ctx.subject = uri.show(bucket)
    client = ctx.client(*NEEDS_MGR)
    cfg = ctx.config()
    result = client.bucket_list(bucket, prefix=cfg.prefix or None, marker=cfg.marker or None,
                                limit=cfg.limit, mode=cfg.mode)
    if not result.ok:
        return ctx.emit_result(result)
    with _listing_output(args.resfile, ctx) as stream:
        json.dump(result.body, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    if _to_stdout(args.resfile, ctx):
        return ExitStatus.SUCCESS
    body = result.body if isinstance(result.body, dict) else {}
    ctx.emit({"code": result.code, "reqid": result.reqid, "file": os.path.abspath(args.resfile),
              "count": len(body.get("items") or []), "marker": body.get("marker") or ""})
    return ExitStatus.SUCCESS


def cmd_listall(args: argparse.Namespace, ctx: Context) -> int:
    bucket = uri.parse_bucket(args.bucket)
    ctx.subject = uri.show(bucket)
    client = ctx.client(*NEEDS_MGR, workers=LISTING_WORKERS)
    cfg = ctx.config()
    count = 0
    # The items stream into RESFILE one per line of a JSON array: constant memory for any bucket
    # size, and the file is still one JSON document. It only replaces RESFILE once complete.
    # One encoder for every item: json.dumps with options builds a new JSONEncoder per call.
    # Lines are written a batch at a time (one write per 1,000 items rather than two per item).
    encode = json.JSONEncoder(ensure_ascii=False).encode
    batch: List[str] = []
    listing = _listall_items(client, bucket, cfg)
    # The first page is fetched before anything is written: if it fails, stdout gets the error's
    # JSON rather than a "[" it cannot close.
    first = list(itertools.islice(listing, 1))
    items = itertools.chain(first, listing)
    with _listing_output(args.resfile, ctx) as stream:
        stream.write("[")
        for item in items:
            batch.append(encode(item))
            if len(batch) == 1000:
                stream.write(("\n  " if not count else ",\n  ") + ",\n  ".join(batch))
                count += len(batch)
                batch = []
        if batch:
            stream.write(("\n  " if not count else ",\n  ") + ",\n  ".join(batch))
            count += len(batch)
        stream.write("\n]\n" if count else "]\n")
    if _to_stdout(args.resfile, ctx):
        return ExitStatus.SUCCESS
    # The whole listing took several requests; the last page's reqid is the one that ended it.
    ctx.emit({"code": 200, "reqid": getattr(listing, "reqid", None), "file": os.path.abspath(args.resfile),
              "count": count, "marker": ""})
    return ExitStatus.SUCCESS


STDOUT = "-"


def _to_stdout(resfile: str, ctx: Context) -> bool:
    return resfile == STDOUT or names_stdout(resfile, ctx.stdout)


@contextlib.contextmanager
def _listing_output(resfile: str, ctx: Context) -> Iterator[IO[str]]:
    """RESFILE written all-or-nothing; ``-`` or ``/dev/stdout``: stdout, which then holds the listing as
    the command's output."""
    if not _to_stdout(resfile, ctx):
        with atomic_output(resfile) as stream:
            yield stream
        return
    # Once part of the listing is on stdout, a failure must not append its JSON document after it:
    # the output ends incomplete (not valid JSON) and the exit status tells it failed.
    ctx.emitted = True
    yield ctx.stdout
    ctx.stdout.flush()


def _listall_items(client: Any, bucket: str, cfg: Any) -> Iterator[Dict[str, Any]]:
    kwargs: Dict[str, Any] = {"prefix": cfg.prefix or None, "mode": cfg.mode, "limit": cfg.limit}
    if cfg.marker:
        kwargs["marker"] = cfg.marker
    return client.iter_objects(bucket, **kwargs)


def cmd_listbucket(args: argparse.Namespace, ctx: Context) -> int:
    return ctx.emit_result(ctx.client(*NEEDS_MGR).list_buckets())
