"""The options of ``wcs-emulator`` for mirror origins and Archive restores, and the ``wcs-emulator mirror``
command that binds a bucket of a data dir to a mirror origin while an emulator may serve it.

``--mirror BUCKET=URL`` (repeatable) creates BUCKET if needed and binds it to the loopback origin URL
(kept in the data dir, like the bucket). ``--restore-delay SECONDS`` and ``--restore-day-seconds
SECONDS`` set :class:`~wcs.emulator.settings.Settings` ``restore_delay`` / ``restore_day_seconds`` (their
environment variables otherwise).

``wcs-emulator mirror BUCKET URL`` binds, ``wcs-emulator mirror BUCKET --clear`` unbinds, ``wcs-emulator
mirror --list`` prints ``BUCKET URL`` lines; each takes ``--data-dir``. Exit 0 done, 1 refused (no such
data dir or bucket), 2 bad arguments.
"""

import argparse
import os
import sqlite3
import sys
from dataclasses import replace
from typing import Callable, List, Mapping, Optional, Tuple

from wcs.emulator.settings import ENV_NAMES, Settings
from wcs.emulator.state.mirrors import check_origin, list_mirrors, set_mirror


def parse_mirror(text: str) -> Tuple[str, str]:
    """``BUCKET=URL`` -> ``(bucket, origin)``; ValueError when malformed or not a loopback URL."""
    bucket, sep, origin = text.partition("=")
    if not sep or not bucket or not origin:
        raise ValueError("--mirror %r: give BUCKET=URL" % text)
    return bucket, check_origin(origin)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the server command."""
    parser.add_argument("--mirror", action="append", default=[], metavar="BUCKET=URL",
                        help="bind BUCKET (created if needed) to the mirror origin URL that /prefetch pulls "
                             "from; loopback http(s) only (repeatable; kept in the data dir)")
    parser.add_argument("--restore-delay", type=float, default=None, metavar="SECONDS",
                        help="how long a restore of an Archive object stays in progress (default 3; env %s)"
                             % ENV_NAMES["restore_delay"])
    parser.add_argument("--restore-day-seconds", type=float, default=None, metavar="SECONDS",
                        help="length of a day of /restore/.../days/N (default 86400; env %s)"
                             % ENV_NAMES["restore_day_seconds"])


def settings_from(args: argparse.Namespace, environ: Optional[Mapping[str, str]] = None) -> Settings:
    """The emulator's settings: the ``WCS_EMULATOR_*`` variables of ``environ``, then these options.

    Raises:
        ValueError: a variable or an option is malformed or out of range.
    """
    values = {"restore_delay": args.restore_delay, "restore_day_seconds": args.restore_day_seconds}
    return replace(Settings.from_env(environ), **{name: value for name, value in values.items() if value is not None})


def build_mirror_parser(default_data_dir: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wcs-emulator mirror",
        description="Bind a bucket of a data dir to a mirror origin (POST /prefetch pulls keys from it), "
                    "unbind it, or list the bindings. A running emulator serving that data dir uses the "
                    "change at its next request.")
    parser.add_argument("bucket", nargs="?", metavar="BUCKET")
    parser.add_argument("origin", nargs="?", metavar="URL", help="loopback http(s) URL of the origin")
    parser.add_argument("--clear", action="store_true", help="unbind BUCKET")
    parser.add_argument("--list", action="store_true", help="print BUCKET URL of every binding")
    parser.add_argument("--data-dir", default=None, help="the emulator's data dir (default %s)" % default_data_dir)
    return parser


def mirror_main(argv: List[str], default_data_dir: Callable[[], str]) -> int:
    """``wcs-emulator mirror ...``: 0 done, 1 refused, 2 bad arguments."""
    parser = build_mirror_parser(default_data_dir())
    args = parser.parse_args(argv)
    data_dir = os.path.abspath(args.data_dir or default_data_dir())
    if args.list == bool(args.bucket):
        parser.error("give BUCKET (with URL or --clear), or --list")
    if args.bucket and args.clear == bool(args.origin):
        parser.error("give either URL or --clear with BUCKET")
    try:
        if args.list:
            for bucket, origin in list_mirrors(data_dir).items():
                print("%s %s" % (bucket, origin))
            return 0
        set_mirror(data_dir, args.bucket, None if args.clear else args.origin)
    except ValueError as exc:
        parser.error(str(exc))
    except LookupError as exc:
        print("wcs-emulator: %s" % exc.args[0], file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:
        print("wcs-emulator: %s: %s" % (data_dir, exc), file=sys.stderr)
        return 1
    print("%s bucket %s%s" % ("unbound" if args.clear else "bound", args.bucket,
                              "" if args.clear else " to " + check_origin(args.origin)))
    return 0
