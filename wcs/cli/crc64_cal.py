"""``wcs_crc64_cal crc64 FILE...``: print the CRC-64/ECMA of local files, as the official tool does.

The official SDK installs this script beside ``wcs_etag_cal``; the value is the one WCS compares
with ``hashAlgorithm = crc64ecma`` and the one ``wcscmd crc64`` reports, in decimal. Values are
printed on one line, space-separated, in argument order (the official tool's last line; its first
line, a Python list of the arguments, is not repeated). Like ``wcs_etag_cal``, every file is read
before anything is printed: a missing or unreadable file gives one error line on stderr, no partial
output, and exit status 4.
"""

import argparse
import sys
from typing import Optional, Sequence

from wcs.cli.etag_cal import build_tool_parser, run_tool

PROG = "wcs_crc64_cal"
READ_SIZE = 1024 * 1024


def file_crc64(path: str) -> int:
    """CRC-64/ECMA (``crc64ecma``) of a file, read in bounded chunks into one reused buffer.

    Raises:
        OSError: the file cannot be read.
    """
    from wcs.commons.util import crc64

    value = 0
    view = memoryview(bytearray(READ_SIZE))
    with open(path, "rb", buffering=0) as stream:
        while True:
            n = stream.readinto(view)
            if not n:
                return value
            value = crc64(view[:n], value)


def build_parser() -> argparse.ArgumentParser:
    return build_tool_parser(PROG, "Calculate the CRC-64/ECMA of local files.", "crc64",
                             "calculating 64-bit CRC value")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``wcs_crc64_cal``; returns the exit status."""
    return run_tool(build_parser(), "crc64", lambda path: str(file_crc64(path)),
                    sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
