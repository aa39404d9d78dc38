"""``python -m wcs.cli.demo``, the README's first command: a full round trip that prints what it does."""

import re

import pytest

from wcs.cli import demo


@pytest.mark.slow  # about 3 s: the whole demo in subprocesses
def test_demo_round_trip_and_its_listing_preview_shows_whole_lines(capsys):
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "Round trip OK" in out
    shown = out.split("(listing.json)", 1)[1].split("\n$ ", 1)[0].strip().splitlines()
    assert shown and shown[0] == "{"
    for line in shown:
        # A line cut in the middle of a JSON string has an odd number of quotes.
        assert line.count('"') % 2 == 0, line
    assert re.match(r"^\.\.\. \(\d+ more lines\)$", shown[-1])


def test_preview_keeps_whole_lines_and_counts_the_rest():
    text = "\n".join("line %02d %s" % (i, "x" * 30) for i in range(40))
    lines = demo.preview(text, limit=100).splitlines()
    assert lines[:-1] == text.splitlines()[:len(lines) - 1] and len(lines) - 1 == 2
    assert lines[-1] == "... (38 more lines)"
    assert demo.preview("short\ntext") == "short\ntext"
    assert demo.preview("x" * 1000) == "x" * 1000  # one long line is shown whole, not cut
