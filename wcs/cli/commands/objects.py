"""Commands on single stored objects: ``del``, ``setdeadline``, ``stat`` (``cp`` and ``mv``: :mod:`.copymove`)."""

import argparse

from wcs.cli import uri
from wcs.cli.argtypes import parse_days
from wcs.cli.context import NEEDS_MGR, Context


def cmd_del(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).delete(bucket, key))


def cmd_setdeadline(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    days = parse_days(args.days)
    client = ctx.client(*NEEDS_MGR)
    if getattr(args, "relevance", False):
        return ctx.emit_result(client.setdeadline(bucket, key, days, relevance=1))
    return ctx.emit_result(client.setdeadline(bucket, key, days))


def cmd_stat(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).stat(bucket, key))
