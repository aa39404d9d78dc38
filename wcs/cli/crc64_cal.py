"""``wcs_crc64_cal crc64 FILE...``: print the CRC-64/ECMA of local files, as the official tool does.

The official SDK installs this script beside ``wcs_etag_cal``; the value is the one WCS compares
with ``hashAlgorithm = crc64ecma`` and the one ``wcscmd crc64`` reports, in decimal. As the official
tool, it prints the list of the files given, then the values on one line, space-separated, in
argument order. The command line and the error boundary are :mod:`wcs.cli.filetool`'s, shared with
``wcs_etag_cal``.
"""

import argparse
import sys
from typing import IO, Optional, Sequence

from wcs.cli.filetool import build_tool_parser, run_tool

PROG = "wcs_crc64_cal"


def build_parser(stdout: Optional[IO[str]] = None) -> argparse.ArgumentParser:
    return build_tool_parser(PROG, "Calculate the CRC-64/ECMA of local files.", "crc64",
                             "calculating 64-bit CRC value", stdout=stdout)


def main(argv: Optional[Sequence[str]] = None, *, stdout: Optional[IO[str]] = None,
         stderr: Optional[IO[str]] = None) -> int:
    """Run ``wcs_crc64_cal`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from wcs.commons.util import file_crc64_int

    return run_tool(build_parser(stdout), "crc64", lambda path: str(file_crc64_int(path)),
                    sys.argv[1:] if argv is None else argv, stdout=stdout, stderr=stderr)


if __name__ == "__main__":
    sys.exit(main())
