"""``wcs-emulator``: run the emulator in the foreground until SIGINT or SIGTERM; ``wcs-emulator bucket
add|remove|list``: change the buckets of a data dir, also while an emulator serves it.

The first line on stdout (flushed) is ``WCS emulator listening on http://HOST:PORT`` (``https`` with TLS);
tools read the port from it when started with ``--port 0``. ``--write-config`` is written before that line
appears. Request logs go to stderr only with ``--verbose``.

``bucket add NAME`` exits 0 whether it created the bucket or found it; ``bucket remove NAME`` exits 1 when
there is no such bucket, or when it holds objects and ``--force`` is not given (nothing is changed then);
``bucket list`` prints one name a line. All exit 1 for a data dir that holds no emulator data (``add``
creates one), and 2 for bad arguments. ``wcs-emulator mirror ...`` binds mirror
origins (:mod:`wcs.emulator.cli_vendor`, which also holds ``--mirror`` and the restore options).
"""

import argparse
import logging
import os
import signal
import sqlite3
import sys
import threading
from typing import List, Optional

from wcs import __version__
from wcs.emulator import cli_vendor
from wcs.emulator.cors import CorsPolicy
from wcs.emulator.faults import parse_faults
from wcs.emulator.httpd import Limits
from wcs.emulator.server import DEFAULT_ACCESS_KEY, DEFAULT_PORT, DEFAULT_SECRET_KEY, Emulator, validate_bucket_name
from wcs.emulator.state.buckets import BucketNotEmpty, NoData, NoSuchBucket, add_bucket, list_buckets, remove_bucket
from wcs.emulator.state.mirrors import set_mirror


def default_data_dir() -> str:
    """``$XDG_DATA_HOME/wcs-emulator``, defaulting to ``~/.local/share/wcs-emulator``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "wcs-emulator")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wcs-emulator",
        description="Local emulator of Wangsu / CDNetworks Cloud Storage (upload, management and download "
                    "APIs on one origin).",
        epilog="wcs-emulator bucket {add,remove,list} [NAME] [--data-dir DIR]: change the buckets of a data "
               "dir, also while an emulator serves it (wcs-emulator bucket --help).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="port to listen on; 0 picks a free one (default %d)" % DEFAULT_PORT)
    parser.add_argument("--data-dir", default=None,
                        help="metadata and objects, kept across restarts (default %s)" % default_data_dir())
    parser.add_argument("--access-key", default=DEFAULT_ACCESS_KEY, help="accepted access key")
    parser.add_argument("--secret-key", default=DEFAULT_SECRET_KEY, help="accepted secret key")
    parser.add_argument("--bucket", action="append", default=[], metavar="NAME",
                        help="create this bucket (repeatable; buckets persist in the data dir)")
    parser.add_argument("--write-config", metavar="PATH",
                        help="write a .wcscfg (mode 0600) pointing at this emulator")
    parser.add_argument("--faults", metavar="SPEC",
                        help="inject faults: comma list of ENDPOINT:KIND:RATE, ENDPOINT in upload, mkblk, bput, "
                             "mkfile, mgr, download, *; KIND in 500, 503, reset, slow, corrupt; RATE in 0..1")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allow web pages of this origin only, e.g. http://localhost:3000 (repeatable; "
                             "default: any origin)")
    parser.add_argument("--fault-seed", type=int, default=None, metavar="N",
                        help="seed for reproducible fault injection")
    parser.add_argument("--tls-cert", metavar="FILE", help="PEM certificate: serve HTTPS")
    parser.add_argument("--tls-key", metavar="FILE", help="PEM private key for --tls-cert")
    parser.add_argument("--max-connections", type=int, default=Limits.max_connections, metavar="N",
                        help="open connections at most, idle kept-alive ones included; at the cap the one "
                             "waiting longest (for its request, or idle) is closed (default %d)"
                             % Limits.max_connections)
    parser.add_argument("--workers", type=int, default=Limits.workers, metavar="N",
                        help="requests served at once (default %d)" % Limits.workers)
    parser.add_argument("--header-timeout", type=float, default=Limits.header_timeout, metavar="SECONDS",
                        help="time from connect, or from the first byte of a later request, to complete "
                             "request headers (default %g)" % Limits.header_timeout)
    parser.add_argument("--io-timeout", type=float, default=Limits.io_timeout, metavar="SECONDS",
                        help="longest wait on one read or write of a request body or answer (default %g)"
                             % Limits.io_timeout)
    parser.add_argument("--min-rate", type=float, default=Limits.min_rate, metavar="BYTES_PER_S",
                        help="a request body or an answer slower than this on average, once --rate-grace has "
                             "passed, is cut; 0: no minimum (default %d)" % Limits.min_rate)
    parser.add_argument("--rate-grace", type=float, default=Limits.rate_grace, metavar="SECONDS",
                        help="time a body or an answer has before --min-rate applies (default %g)" % Limits.rate_grace)
    parser.add_argument("--keepalive-timeout", type=float, default=Limits.keepalive_timeout, metavar="SECONDS",
                        help="how long an idle connection is kept for its next request; 0 closes every "
                             "connection after its answer (default %g)" % Limits.keepalive_timeout)
    cli_vendor.add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    parser.add_argument("--version", action="version", version="wcs-emulator %s" % __version__)
    return parser


def build_bucket_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wcs-emulator bucket",
        description="Add, remove or list the buckets of a data dir. A running emulator serving that data dir "
                    "serves the change at its next request, without a restart.")
    commands = parser.add_subparsers(dest="action", metavar="{add,remove,list}")
    commands.required = True
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument("--data-dir", default=None,
                          help="the emulator's data dir (default %s)" % default_data_dir())
    add = commands.add_parser("add", parents=[data_dir], help="create a bucket (nothing happens if it exists)")
    add.add_argument("name", metavar="NAME")
    remove = commands.add_parser("remove", parents=[data_dir], help="remove a bucket")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--force", action="store_true", help="also delete the objects it holds")
    commands.add_parser("list", parents=[data_dir], help="print the bucket names, one a line")
    return parser


def bucket_main(argv: List[str]) -> int:
    """``wcs-emulator bucket ...``: 0 done, 1 refused (see the module docstring), 2 bad arguments."""
    parser = build_bucket_parser()
    args = parser.parse_args(argv)
    data_dir = os.path.abspath(args.data_dir or default_data_dir())
    try:
        if args.action == "add":
            try:
                validate_bucket_name(args.name)
            except ValueError as exc:
                parser.error(str(exc))
            created = add_bucket(data_dir, args.name)
            print("%s bucket %s in %s" % ("created" if created else "found", args.name, data_dir))
        elif args.action == "remove":
            count = remove_bucket(data_dir, args.name, force=args.force)
            print("removed bucket %s from %s (%d object%s deleted)" % (args.name, data_dir, count,
                                                                      "" if count == 1 else "s"))
        else:
            for name in list_buckets(data_dir):
                print(name)
    except BucketNotEmpty as exc:
        print("wcs-emulator: %s; --force deletes them with it" % exc, file=sys.stderr)
        return 1
    except (NoData, NoSuchBucket) as exc:
        print("wcs-emulator: %s" % exc.args[0], file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:  # an unwritable folder, a database locked past the timeout
        print("wcs-emulator: %s: %s" % (data_dir, exc), file=sys.stderr)
        return 1
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Run until a signal arrives; 0 on a clean stop, 2 on bad arguments, 1 when it cannot start.
    ``bucket ...`` as the first argument runs :func:`bucket_main` instead, ``mirror ...``
    :func:`~wcs.emulator.cli_vendor.mirror_main`."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bucket"]:
        return bucket_main(argv[1:])
    if argv[:1] == ["mirror"]:
        return cli_vendor.mirror_main(argv[1:], default_data_dir)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        mirrors = [cli_vendor.parse_mirror(text) for text in args.mirror]
        for name in args.bucket + [bucket for bucket, _ in mirrors]:
            validate_bucket_name(name)
        faults = parse_faults(args.faults)
        CorsPolicy(args.cors_origin)  # malformed origins are bad arguments
        settings = cli_vendor.settings_from(args)  # malformed or out-of-range values are bad arguments
    except ValueError as exc:
        parser.error(str(exc))
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if not 0 <= args.port <= 65535:
        parser.error("--port must lie in 0..65535")
    try:
        limits = Limits(max_connections=args.max_connections, workers=args.workers,
                        header_timeout=args.header_timeout, io_timeout=args.io_timeout,
                        min_rate=args.min_rate, rate_grace=args.rate_grace,
                        keepalive_timeout=args.keepalive_timeout)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():  # signal() only works there
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    emulator = Emulator(data_dir=args.data_dir or default_data_dir(),
                        buckets=args.bucket + [bucket for bucket, _ in mirrors],
                        access_key=args.access_key, secret_key=args.secret_key, host=args.host, port=args.port,
                        faults=faults, fault_seed=args.fault_seed, tls_cert=args.tls_cert, tls_key=args.tls_key,
                        limits=limits, cors_origins=args.cors_origin or None, settings=settings)
    try:
        emulator.start()  # a busy port raises OSError, reported below
        try:
            for bucket, origin in mirrors:
                set_mirror(emulator.data_dir or "", bucket, origin)
            if args.write_config:
                emulator.write_config(args.write_config)
            print("WCS emulator listening on %s" % emulator.url, flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            emulator.stop()
    except OSError as exc:  # a busy port, an unreadable certificate (ssl.SSLError is one)
        print("wcs-emulator: %s" % exc, file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
