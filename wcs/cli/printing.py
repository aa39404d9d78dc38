"""The output helpers every command shares, so that ``-v``, ``--json`` and ``--quiet`` mean one thing.

* :func:`record`: one item of a command that prints many (a listing, a deletion report): a JSON
  line with ``--json`` (sizes as numbers), else the command's human line. Streamed: nothing is
  collected, memory stays flat with the number of items.
* :func:`note`: a per-file or informational line on stderr, silenced by ``--quiet``.
* :func:`verbose`: a ``-v`` line on stderr (what was done, with what answer, in how long).
* :func:`describe`: the ``-v`` line for a command's JSON document; :meth:`Context.emit
  <wcs.cli.context.Context.emit>` says it for every command, so ``-v`` works on all of them.

Errors are never silenced: they go through :meth:`Context.line <wcs.cli.context.Context.line>`
with ``"error"``, by the one error boundary.
"""

import json
import time
from typing import Any, Dict, Optional


def verbose(ctx: Any, text: str) -> None:
    """A ``-v`` line (nothing without ``-v``, or with ``--quiet``)."""
    if ctx.verbose:
        ctx.said_verbose = True
        ctx.line(text)


def note(ctx: Any, text: str) -> None:
    """A per-file or informational line on stderr (nothing with ``--quiet``)."""
    if not ctx.quiet:
        ctx.line(text, "note")


def record(ctx: Any, document: Dict[str, Any], human: str) -> None:
    """One item on stdout: ``document`` as a JSON line with ``--json``, else the ``human`` line."""
    text = json.dumps(document, ensure_ascii=False, default=str) if ctx.json_lines else human
    ctx.stdout.write(ctx.mask(text) + "\n")
    ctx.emitted = True


def elapsed(ctx: Any) -> float:
    return time.monotonic() - ctx.started


def describe(ctx: Any, document: Any) -> Optional[str]:
    """The ``-v`` line for a command's JSON document: the call's answer, what was written, how long."""
    if not isinstance(document, dict):
        return None
    parts = []
    if "code" in document and document["code"] is not None:
        reqid = document.get("reqid")
        parts.append("HTTP %s%s" % (document["code"], " (reqid %s)" % reqid if reqid else ""))
    if "transferred" in document:  # a folder run's summary
        moved = document["transferred"]
        skipped = sum((document.get("skipped") or {}).values())
        parts.append("%d file%s transferred (%d bytes), %d skipped, %d deleted, %d failed" % (
            moved["files"], "" if moved["files"] == 1 else "s", moved["bytes"], skipped, document.get("deleted", 0),
            document.get("failed", 0)))
    if document.get("skipped") == "exists":
        parts.append("skipped: it exists (--no-clobber)")
    if "count" in document:
        parts.append("%s item%s" % (document["count"], "" if document["count"] == 1 else "s"))
    if document.get("file"):
        parts.append("file %s" % document["file"])
    if document.get("size") is not None:
        parts.append("%s bytes" % document["size"])
    parts.append("%.2f s" % elapsed(ctx))
    return "%s: %s" % (ctx.subject or ctx.command or ctx.prog, ", ".join(parts))


def human_size(count: float) -> str:
    """``12 B``, ``1.5 KiB``, ``3.0 GiB``: the sizes of listings for people (``ls -H``, ``du -H``), in
    the IEC units aws and rclone print there (progress lines use tqdm's shorter notation)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(count) < 1024 or unit == "PiB":
            return ("%d %s" % (count, unit)) if unit == "B" else "%.1f %s" % (count, unit)
        count /= 1024.0
    raise AssertionError("unreachable")  # pragma: no cover
