"""What ``wcs_etag_cal`` and ``wcs_crc64_cal`` share: ``prog [--debug] COMMAND FILE...`` and its error boundary.

Both tools compute one value per local file and print, as the official tools do, the list of the
files as given (a Python list, ``['f1', 'f2']``) on a first line, then the values on one line,
space-separated, in argument order. Every file is read before anything is printed, so a missing or
unreadable file gives one error line on stderr, no partial output, and exit status 4 (``--help``
lists the statuses a file tool can end with).
"""

import argparse
import os
import sys
import traceback
from typing import IO, Callable, Optional, Sequence

from wcs import __version__
from wcs.cli.argtypes import Parser, UsageError, Version
from wcs.cli.status import FILE_TOOL_EXIT_STATUS_HELP, ExitStatus, status_for
from wcs.commons.errors import InvalidArgument, LocalFileError


def build_tool_parser(prog: str, description: str, command: str, command_description: str,
                      stdout: Optional[IO[str]] = None) -> argparse.ArgumentParser:
    """``prog [--debug] COMMAND FILE...``, the official command line of the file tools."""
    parser = Parser(prog=prog, description=description, epilog=FILE_TOOL_EXIT_STATUS_HELP,
                    formatter_class=argparse.RawDescriptionHelpFormatter, stdout=stdout)
    parser.add_argument("--version", action=Version, version="%(prog)s " + __version__)
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    files = sub.add_parser(command, help="%s [file...]" % command, description=command_description,
                           stdout=stdout)
    files.add_argument("files", metavar="FILE", nargs="+", help="the files to read")
    return parser


def _of_file(compute: Callable[[str], str], path: str) -> str:
    if os.path.isdir(path):
        raise LocalFileError("%s: is a directory, not a file" % path)
    try:
        return compute(path)
    except OSError as exc:
        raise LocalFileError("%s: %s" % (path, exc.strerror or exc)) from None


def run_tool(parser: argparse.ArgumentParser, command: str, compute: Callable[[str], str],
             argv: Sequence[str], *, stdout: Optional[IO[str]] = None, stderr: Optional[IO[str]] = None) -> int:
    """Parse ``argv``, print the file list, then ``compute(file)`` of every file on one line; the exit status.

    The one error boundary of a file tool: any failure is one ``<prog>: error: ...`` line on stderr
    (a traceback too with ``--debug``) and a status from :mod:`wcs.cli.status`.

    Args:
        stdout, stderr: the streams of the run (default: ``sys.stdout``/``sys.stderr`` at call time).
    """
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
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
        # The official tools print(args.files) first: the repr of the list of arguments.
        out.write("%s\n%s\n" % (list(args.files), line))
        out.flush()
        return ExitStatus.SUCCESS
    except KeyboardInterrupt:
        err.write("%s: error: interrupted\n" % parser.prog)
        return ExitStatus.INTERRUPTED
    except Exception as exc:  # the one boundary: any failure -> one line + status
        if debug:
            traceback.print_exc(file=err)
        text = str(exc)
        if isinstance(exc, UsageError):
            text = "%s (see '%s --help')" % (text, exc.prog)
        err.write("%s: error: %s\n" % (parser.prog, " ".join(text.splitlines()) or type(exc).__name__))
        return status_for(exc)
