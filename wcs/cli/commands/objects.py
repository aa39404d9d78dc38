"""Commands on single stored objects: ``del``, ``mv``, ``cp``, ``setdeadline``, ``stat``."""

import argparse
from typing import Tuple

from wcs.cli import uri
from wcs.cli.argtypes import parse_days
from wcs.cli.context import NEEDS_MGR, Context


def cmd_del(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).delete(bucket, key))


def _src_dst(args: argparse.Namespace) -> Tuple[str, str, str, str]:
    src_bucket, src_key = uri.parse_object(args.src)
    # An empty destination key keeps the source key (official behaviour).
    dst_bucket, dst_key = uri.parse_object(args.dst, allow_empty_key=True)
    return src_bucket, src_key, dst_bucket, dst_key


def _name_both(ctx: Context, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
    ctx.subject = "%s -> %s" % (uri.show(src_bucket, src_key), uri.show(dst_bucket, dst_key or src_key))


def cmd_mv(args: argparse.Namespace, ctx: Context) -> int:
    names = _src_dst(args)
    _name_both(ctx, *names)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).move(*names))


def cmd_cp(args: argparse.Namespace, ctx: Context) -> int:
    names = _src_dst(args)
    _name_both(ctx, *names)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).copy(*names))


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
