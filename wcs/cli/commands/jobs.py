"""Commands that start or query asynchronous jobs: ``deletePrefix``, ``fops`` (fmgr/fops), and their status."""

import argparse

from wcs.cli import uri
from wcs.cli.context import NEEDS_MGR, NEEDS_STATUS, Context
from wcs.commons.errors import InvalidArgument


def cmd_deletePrefix(args: argparse.Namespace, ctx: Context) -> int:  # official command name
    bucket = uri.parse_bucket(args.bucket)
    ctx.subject = uri.show(bucket, args.prefix)
    if not args.prefix:  # refused before the config is even read
        raise InvalidArgument("PREFIX must not be empty (it would delete the whole bucket)")
    return ctx.emit_result(ctx.client(*NEEDS_MGR).delete_prefix(bucket, args.prefix))


def cmd_fops(args: argparse.Namespace, ctx: Context) -> int:
    bucket, key = uri.parse_object(args.uri)
    ctx.subject = uri.show(bucket, key)
    return ctx.emit_result(ctx.client(*NEEDS_MGR).ops_execute(args.fops, bucket, key))


def cmd_fopsStatus(args: argparse.Namespace, ctx: Context) -> int:  # official command name
    ctx.subject = "job %s" % args.persistent_id
    return ctx.emit_result(ctx.client(*NEEDS_STATUS).ops_status(args.persistent_id))


def cmd_fmgrStatus(args: argparse.Namespace, ctx: Context) -> int:  # official command name
    ctx.subject = "job %s" % args.persistent_id
    return ctx.emit_result(ctx.client(*NEEDS_STATUS).fmgr_status(args.persistent_id))
