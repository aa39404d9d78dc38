"""Exit statuses of ``wcscmd``, ``wcs_etag_cal`` and ``wcs_crc64_cal``: one per class of failure, for scripts.

Zero means the command did what was asked. Every other value names *why* it did not, independently
of the message text (which may change). 2 is argparse's own code for a bad command line; 129, 130,
141 and 143 are the shell convention for "stopped by SIGHUP / SIGINT / SIGPIPE / SIGTERM" (128 + the
signal number).
Each member carries the line ``--help`` shows for it, so the tables in the help texts are generated
here rather than written out per tool.
"""

from enum import IntEnum
from typing import Iterable, Mapping, Optional


class ExitStatus(IntEnum):
    """The documented exit codes; ``.description`` is the member's line in ``--help``."""

    description: str

    def __new__(cls, value: int, description: str) -> "ExitStatus":
        member = int.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    SUCCESS = 0, "success"
    ERROR = 1, "unexpected error (or --configure aborted without saving)"
    USAGE = 2, "usage error: unknown command or option, malformed wcs:// URI, bad option value"
    CONFIG = 3, "configuration error: config file missing or malformed, credentials or hosts not set"
    LOCAL_FILE = 4, "local file error: cannot read or write a local file"
    SERVICE = 5, "service error: the service answered with a non-2xx status"
    NETWORK = 6, "network error: no answer from the service after every retry"
    INTEGRITY = 7, "integrity error: hash of the transferred bytes does not match"
    RESUME = 8, "resume error: multipart resume record missing, corrupt or for another file"
    JOB_FAILED = 9, ("job failed: fopsStatus/fmgrStatus report a failed operation; with --wait (deletePrefix, "
                     "zip, deletem3u8, setdeadline -r), also a job still running at --wait-timeout (the JSON is "
                     "printed)")
    PARTIAL = 10, ("partial failure: sync, a -r form or rm ran, but some files or objects failed or --delete was "
                   "not carried out; prefetch could not fetch some keys")
    CHANGED = 11, "object changed: it was replaced while it was downloaded; nothing was kept, run again for the new one"
    HANGUP = 129, "hung up (SIGHUP: the terminal went away); a multiput prints how to resume it"
    INTERRUPTED = 130, "interrupted (Ctrl-C, SIGINT); a multiput prints how to resume it"
    PIPE_CLOSED = 141, ("stdout closed by its reader (piped into head...): stopped at once, printed nothing, as a "
                        "process killed by SIGPIPE")
    TERMINATED = 143, "terminated (SIGTERM); a multiput prints how to resume it"


def exit_status_help(statuses: Iterable[ExitStatus] = ExitStatus,
                     wording: Optional[Mapping[ExitStatus, str]] = None) -> str:
    """The ``Exit status:`` section of a ``--help`` text: one line per status, in the given order.

    Args:
        wording: a tool's own description of some statuses, where the general one does not fit it.
    """
    wording = wording or {}
    lines = ["Exit status:"]
    lines.extend("  %-5d%s" % (status, wording.get(status, status.description)) for status in statuses)
    return "\n".join(lines)


EXIT_STATUS_HELP = exit_status_help()

# A local-file tool (wcs_etag_cal, wcs_crc64_cal) reads no config and makes no request: it can end
# with these statuses only, and two of them mean something narrower there.
FILE_TOOL_EXIT_STATUS_HELP = exit_status_help(
    (ExitStatus.SUCCESS, ExitStatus.ERROR, ExitStatus.USAGE, ExitStatus.LOCAL_FILE, ExitStatus.INTERRUPTED),
    {ExitStatus.ERROR: "unexpected error", ExitStatus.INTERRUPTED: "interrupted (Ctrl-C)",
     ExitStatus.USAGE: "usage error: unknown command or option, no file given",
     ExitStatus.LOCAL_FILE: "local file error: a file is missing, a directory or unreadable"})


class CommandFailed(Exception):
    """A command's own verdict (not an SDK error): the message for the error line and the exit status."""

    def __init__(self, message: str, status: ExitStatus) -> None:
        super().__init__(message)
        self.status = status


def status_for(exc: BaseException) -> ExitStatus:
    """The exit status for an exception that reached the CLI's error boundary."""
    # Imported here so that `wcscmd --help` does not load the SDK.
    from wcs.commons import errors

    if isinstance(exc, KeyboardInterrupt):
        return {1: ExitStatus.HANGUP, 15: ExitStatus.TERMINATED}.get(getattr(exc, "signum", 2),
                                                                     ExitStatus.INTERRUPTED)
    if isinstance(exc, CommandFailed):
        return exc.status
    ordered = (
        (errors.ObjectChanged, ExitStatus.CHANGED),
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
    # Transport failures leave the SDK as NetworkError (wcs.commons.http translates every one), so
    # any other OSError is the program's own: a local file, a closed pipe, a full disk.
    if isinstance(exc, OSError):
        return ExitStatus.LOCAL_FILE
    return ExitStatus.ERROR
