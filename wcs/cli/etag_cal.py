"""``wcs_etag_cal etag FILE...``: print the WCS etag of local files, as the official tool does.

As the official tool, it prints the list of the files given, then the etags on one line,
space-separated, in argument order (so ``wcs_etag_cal etag f | tail -1`` is the etag). Files are
hashed in bounded chunks. The command line and the error boundary are :mod:`wcs.cli.filetool`'s,
shared with ``wcs_crc64_cal``.
"""

import argparse
import sys
from typing import IO, Optional, Sequence

from wcs.cli.filetool import build_tool_parser, run_tool

PROG = "wcs_etag_cal"


def build_parser(stdout: Optional[IO[str]] = None) -> argparse.ArgumentParser:
    return build_tool_parser(PROG, "Calculate the WCS etag of local files.", "etag", "calculate the etag of the file",
                             stdout=stdout)


def main(argv: Optional[Sequence[str]] = None, *, stdout: Optional[IO[str]] = None,
         stderr: Optional[IO[str]] = None) -> int:
    """Run ``wcs_etag_cal`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from wcs.commons.util import etag

    return run_tool(build_parser(stdout), "etag", etag, sys.argv[1:] if argv is None else argv,
                    stdout=stdout, stderr=stderr)


if __name__ == "__main__":
    sys.exit(main())
