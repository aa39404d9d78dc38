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
    Document(("listbucket", "stat", "del", "setdeadline", "deletePrefix", "fops", "fopsStatus",
              "fmgrStatus", "prefetch", "info", "convert-type", "restore", "setdeadline -r", "zip", "deletem3u8"),
             SERVICE_CALL),
    Document(("deletePrefix --wait", "setdeadline -r --wait", "zip --wait", "deletem3u8 --wait"), SERVICE_CALL,
             "the job's final status, as fmgrStatus prints it (exit 9 when one of its operations failed, or when "
             "it still ran after --wait-timeout)"),
    Document(("bucketstat",), SERVICE_CALL,
             "on a terminal without --json: a table instead (a row per day, a column per bucket and their total, "
             "in MB with the peak and average of the period; --statistics: the counts with their total)"),
    Document(("append",), '{"code", "reqid", "body", "position", "appended", "next_position"}',
             "position: where the bytes went; next_position: the object's length after them"),
    Document(("convert-type -r", "restore -r"),
             '{"bucket", "prefix", "listed", "done", "skipped": {<reason>: <objects>}, "failed", '
             '"errors": [{"key", "code", "message"}], "elapsed"}', "errors: the first 100"),
    Document(("cp", "mv"), '{"code", "reqid", "body", "source", "destination", "action": <copied, moved, uploaded, '
                           'downloaded or skipped>, "replaced": <true when DEST existed and was replaced>}',
             "code, reqid, body: the answer of the call that placed it (the copy or move, the upload, the "
             "download; with --no-clobber and an existing DEST, the stat's); cp wcs://BUCKET/KEY - writes the "
             "object to stdout instead, as cat does"),
    Document(("rm",), '{"dry_run", "deleted", "failed", "errors": [{"key", "error"}]}',
             '--dry-run adds "planned" (the keys are listed on stderr)'),
    Document(("ls",), "", 'a line per entry: "DATE TIME SIZE KEY" (-l: "DATE TIME SIZE CLASS KEY"), "DIR PREFIX/", or '
                          'a bucket; --json: JSON Lines {"type": "object", "bucket", "key", "size", "hash", "time": '
                          '<ISO 8601, UTC>, "epoch_ms", "mime_type", "storage_class", "restore_state", '
                          '"restore_until"}, {"type": "dir", "bucket", "prefix"}, {"type": "bucket", "bucket"}; '
                          '--summarize ends with {"type": "summary", "objects", "bytes"}'),
    Document(("du",), "", 'a line per sub-prefix (--depth), then the total: "BYTES OBJECTS wcs://BUCKET/PREFIX"; '
                          '--json: JSON Lines {"bucket", "prefix", "depth", "objects", "bytes"}'),
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
    Document(("sync", "cp -r", "mv -r", "put -r", "get -r"),
             '{"direction", "source", "destination", "dry_run", "transferred": {"files", "bytes"}, '
             '"skipped": {<reason>: <files>}, "deleted", "delete", "failed", "errors", "hashed": {"files", "bytes"}, '
             '"elapsed", "rate"}',
             'between two wcs:// ("direction": "remote") adds "replaced"; mv -r adds "sources_deleted"; '
             '--dry-run and --plan add "planned": {"files", "bytes", "deletes"}; from another store '
             '("direction": "migrate") adds "fetched": {"files", "bytes"} (by the service), "streamed": '
             '{"files", "bytes"} (through this machine), "jobs": {"submitted", "followed"}, "journal", and '
             'with --plan "plan"'),
    Document(("apply", "batch"),
             '{"plan", "actions", "done": {<op>: <actions>}, "skipped": {<reason>: <actions>}, "changed", "failed", '
             '"errors", "bytes", "delete", "elapsed"}',
             '"plan" is the file carried out; "changed": actions not done because their facts changed since the '
             'plan (exit status 10)'),
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
