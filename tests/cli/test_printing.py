"""The output helpers commands share: one item per line (JSON Lines with --json), notes that --quiet silences,
-v lines that say what was done."""

import io
import json

from wcs.cli import printing
from wcs.cli.context import Context


def _ctx(**options):
    return Context(prog="wcscmd", config_path=None, overrides=(), stdout=io.StringIO(), stderr=io.StringIO(),
                   stdin=io.StringIO(), environ={"WCS_SECRET_KEY": "s3cr3t-value"}, command="ls", **options)


def test_record_is_a_json_line_with_json_else_the_human_line():
    human = _ctx(quiet=False)
    printing.record(human, {"key": "a", "size": 3}, "2026-01-01 00:00       3 a")
    json_lines = _ctx(quiet=False, json_lines=True)
    for key in ("a", "b s3cr3t-value"):
        printing.record(json_lines, {"key": key, "size": 3}, "unused")
    assert human.stdout.stream.getvalue() == "2026-01-01 00:00       3 a\n"
    lines = json_lines.stdout.stream.getvalue().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b ***"]  # masked like everything else
    assert json_lines.emitted


def test_quiet_silences_notes_and_verbose_lines_but_not_errors():
    quiet = _ctx(quiet=True, verbose=True)
    printing.note(quiet, "skip a (exists)")
    printing.verbose(quiet, "a: HTTP 200")
    quiet.line("it failed", "error")
    assert quiet.stderr.getvalue() == "wcscmd: error: it failed\n"
    loud = _ctx(quiet=False, verbose=True)
    printing.note(loud, "skip a (exists)")
    printing.verbose(loud, "a: HTTP 200")
    assert loud.stderr.getvalue() == "wcscmd: note: skip a (exists)\nwcscmd: a: HTTP 200\n" and loud.said_verbose


def test_describe_says_the_answer_and_the_time():
    ctx = _ctx(quiet=False, verbose=True)
    ctx.subject = "wcs://b/k"
    text = printing.describe(ctx, {"code": 200, "reqid": "r1", "file": "/tmp/x", "size": 5})
    assert text.startswith("wcs://b/k: HTTP 200 (reqid r1), file /tmp/x, 5 bytes, ") and text.endswith(" s")
    summary = {"transferred": {"files": 2, "bytes": 10}, "skipped": {"same": 3}, "deleted": 1, "failed": 0}
    assert "2 files transferred (10 bytes), 3 skipped, 1 deleted, 0 failed" in printing.describe(ctx, summary)
    assert printing.describe(ctx, ["not", "a", "document"]) is None


def test_human_sizes_of_listings_are_iec_units():
    from wcs.cli.printing import human_size

    assert [human_size(n) for n in (0, 12, 1023, 1536, 3 * 1024 ** 3, 2 * 1024 ** 6)] == \
        ["0 B", "12 B", "1023 B", "1.5 KiB", "3.0 GiB", "2048.0 PiB"]
