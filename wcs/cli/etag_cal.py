"""``wcs_etag_cal etag FILE...``: print the WCS etag of local files, as the official tool does.

The etags are printed on one line, space-separated, in argument order (the official format, so
``wcs_etag_cal etag f | tail -1`` keeps working). Files are hashed in bounded chunks. All files are
hashed before anything is printed, so a missing or unreadable file gives one error line on stderr,
no partial output, and exit status 4 (``--help`` lists the statuses it can end with).
:func:`build_tool_parser` and :func:`run_tool` are shared with ``wcs_crc64_cal``.
"""

import argparse
import os
import sys
import traceback
from typing import Callable, List, NoReturn, Optional, Sequence

from wcs import __version__
from wcs.cli.status import FILE_TOOL_EXIT_STATUS_HELP, ExitStatus, status_for
from wcs.commons.errors import InvalidArgument, LocalFileError

PROG = "wcs_etag_cal"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InvalidArgument("%s (see '%s --help')" % (message, self.prog))


def build_tool_parser(prog: str, description: str, command: str, command_description: str) -> argparse.ArgumentParser:
    """``prog [--debug] COMMAND FILE...``, the official command line of the file tools."""
    parser = _Parser(prog=prog, description=description, epilog=FILE_TOOL_EXIT_STATUS_HELP,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    files = sub.add_parser(command, help="%s [file...]" % command, description=command_description)
    files.add_argument("files", metavar="FILE", nargs="+", help="the files to read")
    return parser


def build_parser() -> argparse.ArgumentParser:
    return build_tool_parser(PROG, "Calculate the WCS etag of local files.", "etag", "calculate the etag of the file")


def _of_file(compute: Callable[[str], str], path: str) -> str:
    if os.path.isdir(path):
        raise LocalFileError("%s: is a directory, not a file" % path)
    try:
        return compute(path)
    except OSError as exc:
        raise LocalFileError("%s: %s" % (path, exc.strerror or exc)) from None


def etags(paths: Sequence[str]) -> List[str]:
    """The etag of each file, in order.

    Raises:
        LocalFileError: a file is missing, a directory, or unreadable.
    """
    from wcs.commons.util import etag

    return [_of_file(etag, path) for path in paths]


def run_tool(parser: argparse.ArgumentParser, command: str, compute: Callable[[str], str],
             argv: Sequence[str]) -> int:
    """Parse ``argv``, print ``compute(file)`` of every file on one line; the exit status.

    The one error boundary of a file tool: any failure is one ``<prog>: error: ...`` line on stderr
    (a traceback too with ``--debug``) and a status from :mod:`wcs.cli.status`.
    """
    argv = list(argv)
    debug = "--debug" in argv
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if args.command != command:
            raise InvalidArgument("no command given; usage: %s %s FILE..." % (parser.prog, command))
        line = " ".join([_of_file(compute, path) for path in args.files])
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return ExitStatus.SUCCESS
    except KeyboardInterrupt:
        sys.stderr.write("%s: error: interrupted\n" % parser.prog)
        return ExitStatus.INTERRUPTED
    except Exception as exc:  # the one boundary: any failure -> one line + status
        if debug:
            traceback.print_exc(file=sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (parser.prog, " ".join(str(exc).splitlines()) or type(exc).__name__))
        return status_for(exc)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``wcs_etag_cal``; returns the exit status."""
    from wcs.commons.util import etag

    return run_tool(build_parser(), "etag", etag, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
