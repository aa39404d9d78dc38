"""``wcs_etag_cal etag FILE...``: print the WCS etag of local files, as the official tool does.

The etags are printed on one line, space-separated, in argument order (the official format, so
``wcs_etag_cal etag f | tail -1`` keeps working). Files are hashed in bounded chunks. All files are
hashed before anything is printed, so a missing or unreadable file gives one error line on stderr,
no partial output, and exit status 4 (``--help`` lists the statuses it can end with).
"""

import argparse
import os
import sys
import traceback
from typing import List, NoReturn, Optional, Sequence

from wcs import __version__
from wcs.cli.status import FILE_TOOL_EXIT_STATUS_HELP, ExitStatus, status_for
from wcs.commons.errors import InvalidArgument, LocalFileError

PROG = "wcs_etag_cal"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InvalidArgument("%s (see '%s --help')" % (message, self.prog))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Calculate the WCS etag of local files.", epilog=FILE_TOOL_EXIT_STATUS_HELP,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    etag = sub.add_parser("etag", help="etag [file...]", description="calculate the etag of the file")
    etag.add_argument("etag_files", metavar="FILE", nargs="+", help="the files to hash")
    return parser


def etags(paths: Sequence[str]) -> List[str]:
    """The etag of each file, in order.

    Raises:
        LocalFileError: a file is missing, a directory, or unreadable.
    """
    from wcs.commons.util import etag

    values = []
    for path in paths:
        if os.path.isdir(path):
            raise LocalFileError("%s: is a directory, not a file" % path)
        try:
            values.append(etag(path))
        except OSError as exc:
            raise LocalFileError("%s: %s" % (path, exc.strerror or exc)) from None
    return values


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``wcs_etag_cal``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if args.command != "etag":
            raise InvalidArgument("no command given; usage: %s etag FILE..." % PROG)
        line = " ".join(etags(args.etag_files))
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return ExitStatus.SUCCESS
    except KeyboardInterrupt:
        sys.stderr.write("%s: error: interrupted\n" % PROG)
        return ExitStatus.INTERRUPTED
    except Exception as exc:  # the one boundary: any failure -> one line + status
        if debug:
            traceback.print_exc(file=sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (PROG, " ".join(str(exc).splitlines()) or type(exc).__name__))
        return status_for(exc)


if __name__ == "__main__":
    sys.exit(main())
