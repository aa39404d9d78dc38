"""Exit statuses of ``wcscmd``, ``wcs_etag_cal`` and ``wcs_crc64_cal``: one per class of failure, for scripts.

Zero means the command did what was asked. Every other value names *why* it did not, independently
of the message text (which may change). 2 is argparse's own code for a bad command line; 130 is the
shell convention for "killed by SIGINT" (128 + 2).
"""

from enum import IntEnum


class ExitStatus(IntEnum):
    """The documented exit codes (also listed in ``wcscmd --help``)."""

    SUCCESS = 0
    ERROR = 1  # unexpected failure, or --configure aborted without saving
    USAGE = 2  # bad command line: unknown command/option, malformed URI, bad option value
    CONFIG = 3  # config file missing, unreadable or malformed; credentials or hosts not set
    LOCAL_FILE = 4  # a local file cannot be read or written
    SERVICE = 5  # the service answered with a non-2xx status
    NETWORK = 6  # no answer from the service (connection refused, DNS, timeout) after retries
    INTEGRITY = 7  # bytes received or stored differ from the bytes sent (hash mismatch)
    RESUME = 8  # a multipart resume record is missing, corrupt or for another file
    INTERRUPTED = 130  # Ctrl-C


EXIT_STATUS_HELP = """\
Exit status:
  0    success
  1    unexpected error (or --configure aborted without saving)
  2    usage error: unknown command or option, malformed wcs:// URI, bad option value
  3    configuration error: config file missing or malformed, credentials or hosts not set
  4    local file error: cannot read or write a local file
  5    service error: the service answered with a non-2xx status
  6    network error: no answer from the service after every retry
  7    integrity error: hash of the transferred bytes does not match
  8    resume error: multipart resume record missing, corrupt or for another file
  130  interrupted (Ctrl-C)"""


# The statuses a local-file tool (wcs_etag_cal, wcs_crc64_cal) can end with: it reads no config and makes no request.
FILE_TOOL_EXIT_STATUS_HELP = """\
Exit status:
  0    success
  1    unexpected error
  2    usage error: unknown command or option, no file given
  4    local file error: a file is missing, a directory or unreadable
  130  interrupted (Ctrl-C)"""


def status_for(exc: BaseException) -> ExitStatus:
    """The exit status for an exception that reached the CLI's error boundary."""
    # Imported here so that `wcscmd --help` does not load the SDK.
    from wcs.commons import errors

    if isinstance(exc, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED
    ordered = (
        (errors.ConfigError, ExitStatus.CONFIG),
        (errors.InvalidArgument, ExitStatus.USAGE),
        (errors.LocalFileError, ExitStatus.LOCAL_FILE),
        (errors.ResumeError, ExitStatus.RESUME),
        (errors.NetworkError, ExitStatus.NETWORK),
        (errors.IntegrityError, ExitStatus.INTEGRITY),
        (errors.ServiceError, ExitStatus.SERVICE),
        (errors.WcsError, ExitStatus.ERROR),
    )
    for kind, status in ordered:
        if isinstance(exc, kind):
            return status
    if _is_transport_error(exc):
        return ExitStatus.NETWORK
    if isinstance(exc, OSError):
        return ExitStatus.LOCAL_FILE
    return ExitStatus.ERROR


def _is_transport_error(exc: BaseException) -> bool:
    # The SDK turns transport failures into NetworkError/Result(-1); this catches any that leak.
    module = type(exc).__module__ or ""
    return module.split(".")[0] in ("requests", "urllib3") or isinstance(exc, ConnectionError)
