"""``wcscmd``: the command-line tool for WCS, modelled on s3cmd like the official one.

Same commands, options, ``~/.wcscfg`` and invocations as the official ``wcscmd`` (options may come
before or after the command's arguments; ``--debug 1`` is accepted as well as ``--debug``), rebuilt
on :class:`wcs.services.client.Client`. This module is the entry point (``wcscmd = wcs.cli.wcscmd:main``)
and states the output contract; the parts live beside it:

* :mod:`wcs.cli.definition`: the options in groups, the command table, :func:`build_parser`;
* :mod:`wcs.cli.argtypes`: option value types and the raising parser;
* :mod:`wcs.cli.commands`: one ``cmd_*`` function per command;
* :mod:`wcs.cli.core`: :func:`main`, the one error boundary: commands raise, and ``main`` turns the
  exception into one ``wcscmd: error: ...`` line on stderr and an exit status from
  :class:`wcs.cli.status.ExitStatus` (a traceback only with ``--debug``).

Output contract:

* stdout: exactly one JSON document per command (indented, UTF-8, non-ASCII kept), also when the
  service refused the call, so a script can always read what it said:

  - service calls (listbucket, stat, del, mv, cp, setdeadline, put, deletePrefix, fops,
    fopsStatus, fmgrStatus, bucketstat): ``{"code": <HTTP status, -1 = no answer>, "reqid":
    <X-Reqid or null>, "body": <decoded answer>}``;
  - multiput: the same plus ``"upload_id"``;
  - get: the same (``body`` = ``{"hash", "fsize", "path"}``) plus ``"file"`` and ``"size"``;
  - list / listall: ``{"code", "reqid", "file", "count", "marker"}``; the listing goes to RESFILE
    (list: the service's JSON answer; listall: a JSON array of item objects, one per line,
    streamed; for listall ``reqid`` is the X-Reqid of the last page fetched and ``marker`` is
    empty). RESFILE ``-``: the listing itself is the JSON document on stdout, without the summary
    (if a later page of listall fails, stdout ends incomplete and no error document follows it);
  - crc64: ``{"file", "crc64Value"}``.

  ``--dump-config`` prints the effective configuration in the ``.wcscfg`` format instead (the one
  place the secret key is shown); ``--configure`` prints nothing on stdout.
* stderr: notes (``upload id: ...``), warnings, progress bars (only on a terminal, not with
  ``--quiet``) and one line per error (a service error prefixed with the object or bucket the
  command acted on: ``wcscmd: error: wcs://b/k: HTTP 404: ...``), plus for a failed multiput how to
  resume it. The secret key is masked in everything written. With ``isverify = False``, urllib3's
  two-line ``InsecureRequestWarning`` is replaced by one line per run, ``wcscmd: warning: TLS
  certificate verification is off (isverify = False)``, printed when the first unverified HTTPS
  request is made.
* Local files are all-or-nothing: RESFILE, the downloaded file and the config file are written to
  a temporary sibling and renamed into place on success. A target that is a symlink is written
  through (the link stays); a FIFO or device (``/dev/stdout``) is streamed into, never replaced.
"""

import sys

from wcs.cli.argtypes import parse_days
from wcs.cli.commands.transfers import default_filename, resume_argv
from wcs.cli.core import main, network_message
from wcs.cli.definition import COMMANDS, build_parser, normalize_argv

__all__ = ["COMMANDS", "build_parser", "default_filename", "main", "network_message", "normalize_argv",
           "parse_days", "resume_argv"]

if __name__ == "__main__":
    sys.exit(main())
