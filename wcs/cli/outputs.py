"""What each ``wcscmd`` command prints on stdout: the one declaration of the output contract's documents.

``wcscmd --help`` shows :data:`OUTPUT_HELP`, rendered from :data:`DOCUMENTS`; the table of
``docs/wcscmd.md`` (section "Output") is rendered from the same tuple, and the tests check both that the
page is up to date and that the commands print the keys declared here. The rest of the contract (the
failure document, stderr, local files) is written once, in that page. Pure data: ``--help`` imports it.
"""

import textwrap
from typing import List, NamedTuple, Tuple


class Document(NamedTuple):
    """The stdout of one or more command forms."""

    forms: Tuple[str, ...]  # a command name, or a command and the option that changes its output (``put -r``)
    shape: str  # the JSON document, keys in order; ``<...>`` says what a value is; "" when not JSON
    note: str = ""


SERVICE_CALL = '{"code": <HTTP status, -1 = no answer>, "reqid": <X-Reqid or null>, "body": <the service\'s answer>}'

DOCUMENTS: Tuple[Document, ...] = (
    Document(("listbucket", "stat", "del", "mv", "cp", "setdeadline", "deletePrefix", "fops", "fopsStatus",
              "fmgrStatus", "prefetch", "info", "convert-type", "restore"), SERVICE_CALL),
    Document(("bucketstat",), SERVICE_CALL,
             "on a terminal without --json: a table instead (a row per day, a column per bucket and their total, "
             "in MB with the peak and average of the period; --statistics: the counts with their total)"),
    Document(("setdeadline -r", "zip", "deletem3u8"), SERVICE_CALL,
             '--wait adds "job": <the job\'s status when the wait ended>'),
    Document(("append",), '{"code", "reqid", "body", "position", "appended", "next_position"}',
             "position: where the bytes went; next_position: the object's length after them"),
    Document(("convert-type -r", "restore -r"),
             '{"bucket", "prefix", "listed", "done", "skipped": {<reason>: <objects>}, "failed", '
             '"errors": [{"key", "code", "message"}], "elapsed"}', "errors: the first 100"),
    Document(("put",), SERVICE_CALL,
             '--no-clobber on an existing key: the stat\'s answer with "skipped": "exists" added'),
    Document(("multiput",), '{"code", "reqid", "body", "upload_id"}',
             '--no-clobber on an existing key: the stat\'s answer with "skipped": "exists", no upload_id'),
    Document(("get",), '{"code", "reqid", "body": {"hash", "fsize", "path"}, "file", "size"}',
             'get URL - writes the object to stdout instead, as cat does; --no-clobber on an existing file: '
             '{"code": null, "reqid": null, "body": null, "file", "skipped": "exists"}'),
    Document(("cat",), "", "the object's bytes; no JSON document"),
    Document(("list", "listall"), '{"code", "reqid", "file", "count", "marker"}',
             "the listing goes to RESFILE; RESFILE - puts the listing itself on stdout, without this summary"),
    Document(("sync", "put -r", "get -r"),
             '{"direction", "source", "destination", "dry_run", "transferred": {"files", "bytes"}, '
             '"skipped": {<reason>: <files>}, "deleted", "delete", "failed", "errors", "hashed": {"files", "bytes"}, '
             '"elapsed", "rate"}',
             '--dry-run adds "planned": {"files", "bytes", "deletes"}'),
    Document(("records",), '{"folder", "count", "records": [{"upload_id", "file", "bucket", "key", "size", '
                           '"blocks_done", "blocks_total", "updated", "age_days"}]}',
             'an unreadable record has "error"'),
    Document(("records clean",), '{"folder", "count", "removed", "not_found"}'),
    Document(("crc64",), '{"file", "crc64Value"}'),
    Document(("completion",), "", "the completion script for the shell; no JSON document"),
)


def top_level_keys(shape: str) -> List[str]:
    """The keys of a shape's outer object, in order (``{"a", "b": {"c"}}`` -> ``["a", "b"]``)."""
    keys: List[str] = []
    depth = 0
    i = 0
    while i < len(shape):
        char = shape[i]
        if char in "{[<":
            depth += 1
        elif char in "}]>":
            depth -= 1
        elif char == '"':
            end = shape.index('"', i + 1)
            if depth == 1:
                keys.append(shape[i + 1:end])
            i = end
        i += 1
    return keys


def _help_text(width: int = 96) -> str:
    lines = textwrap.wrap('Printed: on stdout one JSON document per command (indented; on one line with --json), '
                          'also when the call failed ("error" and "status" added when the failure is not the '
                          'service\'s answer; none for usage, configuration and resume-record errors); on stderr '
                          'notes, progress (a bar on a terminal, else a status line every --stats seconds), '
                          'the lines of -v and one line per error.', width)
    for document in DOCUMENTS:
        lines.extend(textwrap.wrap(", ".join(document.forms), width, initial_indent="  ", subsequent_indent="  "))
        text = document.shape + ("; " if document.shape and document.note else "") + document.note
        lines.extend(textwrap.wrap(text, width, initial_indent=" " * 6, subsequent_indent=" " * 8,
                                   break_on_hyphens=False))
    return "\n".join(lines)


OUTPUT_HELP = _help_text()
