"""The progress line: what it shows with and without a total, what gives way on a narrow terminal,
speed that leaves out bytes that were already there, and messages that never land inside the bar."""

import io

import pytest

from wcs.cli.context import Context
from wcs.cli.meter import Meter, render, shorten
from wcs.cli.progress import CLEAR, LiveLine, Progress

MiB = 1024 * 1024
NAME = "photos/2024/summer/img_0042.jpg"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("width", [200, 120, 100, 80, 60, 40, 30])
def test_the_line_fits_and_keeps_the_percentage_and_the_file_count(width):
    line = render(width - 1, NAME, 3 * MiB, 12 * MiB, 1.5 * MiB, 6, 1240, 2000)
    assert len(line) <= width - 1
    assert "25%" in line and "1240/2000 files" in line


def test_what_gives_way_first():
    wide = render(119, NAME, 3 * MiB, 12 * MiB, 1.5 * MiB, 6, 1240, 2000)
    assert wide.startswith(NAME) and "[" in wide and "1.5 MiB/s" in wide and "ETA 0:06" in wide
    narrow = render(79, NAME, 3 * MiB, 12 * MiB, 1.5 * MiB, 6, 1240, 2000)
    assert "..." in narrow.split()[0] and "[" not in narrow  # the bar went, the name is shortened
    assert "3.0/12.0 MiB" in narrow and "1.5 MiB/s" in narrow
    tiny = render(39, NAME, 3 * MiB, 12 * MiB, 1.5 * MiB, 6, 1240, 2000)
    assert "img" not in tiny and "MiB/s" not in tiny


def test_without_a_total_no_percentage_and_no_eta():
    line = render(99, "sync", 3 * MiB, None, 1.5 * MiB, None, 120, None)
    assert "%" not in line and "ETA" not in line and "[" not in line
    assert "3.0 MiB" in line and "120 files" in line


def test_shorten_cuts_in_the_middle():
    assert shorten(NAME, 15) == "phot...0042.jpg" and len(shorten(NAME, 15)) == 15
    assert shorten("short", 15) == "short"


def test_speed_counts_only_moved_bytes_and_only_recent_ones():
    clock = Clock()
    meter = Meter(100 * MiB, clock=clock)
    meter.add(60 * MiB, moved=False)  # the stored blocks of a resumed upload
    assert meter.rate() is None  # no speed before half a second of samples
    for _ in range(10):
        clock.now += 0.5
        meter.add(MiB)
    assert meter.rate() == pytest.approx(2 * MiB)  # not (60 + 10) MiB over 5 s
    assert meter.eta(meter.rate()) == pytest.approx((100 - 70) / 2)
    clock.now += 30  # a stall: the speed of the last seconds drops to 0
    meter.add(1)
    assert meter.rate() < 1


def test_a_resumed_multiput_does_not_count_its_stored_blocks_as_speed():
    clock = Clock()
    bar = Progress(64 * MiB, "big.iso", enabled=True, stream=Terminal(), clock=clock)
    bar.on_resumed(None, 12, 16)
    bar.update(48 * MiB)  # what the upload reports first: the blocks already stored
    clock.now += 1
    bar.update(4 * MiB)
    clock.now += 1
    bar.update(4 * MiB)
    assert bar.meter.done == 56 * MiB and bar.meter.moved == 8 * MiB
    assert bar.meter.rate() == pytest.approx(4 * MiB)


def test_a_message_takes_the_bar_off_its_line_first():
    err = Terminal()
    ctx = Context(prog="wcscmd", config_path=None, overrides=(), quiet=False, stdout=io.StringIO(), stderr=err,
                  stdin=io.StringIO(), environ={})
    with Progress(10 * MiB, "big.iso", enabled=True, stream=err, ctx=ctx) as bar:
        bar.update(MiB)
        assert ctx.live is not None and "big.iso" in err.getvalue()
        ctx.line("stopping: waiting for 2 transfers in flight")
    text = err.getvalue()
    before, _, after = text.partition("wcscmd: stopping")
    assert before.endswith(CLEAR)  # the bar was erased and the message starts at column 0
    assert after.startswith(": waiting for 2 transfers in flight\n")
    assert ctx.live is None


def test_live_line_draws_at_most_ten_times_a_second():
    clock = Clock()
    err = Terminal()
    drawn = []
    line = LiveLine(err, lambda width: drawn.append(width) or "x", clock)
    for _ in range(100):
        line.update()
        clock.now += 0.01
    assert len(drawn) == 10
    line.close("done")
    assert err.getvalue().endswith(CLEAR + "done\n")


def _reporter(stderr, quiet=False):
    from wcs.cli.tree_progress import TreeReporter

    ctx = Context(prog="wcscmd", config_path=None, overrides=(), quiet=quiet, stdout=io.StringIO(), stderr=stderr,
                  stdin=io.StringIO(), environ={})
    return ctx, TreeReporter(ctx, "upload", verbose=False, dry_run=False, stats=0)


def _action(op, rel, size, reason="missing"):
    from wcs.services.tree.localtree import LocalFile
    from wcs.services.tree.plan import Action

    return Action(op, rel, reason, LocalFile(rel, "/x/" + rel, size, 0, 0, 0, 0) if size is not None else None)


class _Transfer:
    def __init__(self, ident):
        self.id = ident


def test_a_folder_run_has_no_percentage_until_the_total_is_known():
    err = Terminal()
    ctx, reporter = _reporter(err)
    with reporter:
        byte_counter = reporter.subscribers()[0]
        reporter.on_action(_action("transfer", "a.html", 1000))
        byte_counter.on_progress(_Transfer(1), 1000)
        reporter.on_done(_action("transfer", "a.html", 1000), None)
        assert "%" not in reporter._text(100) and "1 files" in reporter._text(100)
        reporter.on_total(4, 4000)
        line = reporter._text(100)
        assert "25%" in line and "1/4 files" in line
        # Unchanged files are done, their bytes too, but they are no speed.
        reporter.on_action(_action("skip", "b.html", 1000, "same"))
        reporter.on_action(_action("skip", "x.tmp", 50, "excluded"))  # filtered out: not part of the run
        assert reporter.meter.done == 2000 and reporter.meter.moved == 1000
        assert "50%" in reporter._text(100) and "2/4 files" in reporter._text(100)
        # A resumed multipart file: its stored blocks are done, not speed.
        byte_counter.on_resumed(_Transfer(2), 3, 4)
        byte_counter.on_progress(_Transfer(2), 750)
        byte_counter.on_progress(_Transfer(2), 250)
        reporter.on_done(_action("transfer", "c.bin", 1000), None)
        assert reporter.meter.moved == 1250
        # A failed file: its bytes are taken back, then counted as gone through.
        byte_counter.on_progress(_Transfer(3), 400)
        byte_counter.on_done(_Transfer(3), OSError("boom"))
        reporter.on_done(_action("transfer", "d.bin", 1000), "HTTP 500")
        assert (reporter.meter.done, reporter.meter.files_done, reporter.meter.failed) == (4000, 4, 1)
        ctx.line("d.bin: HTTP 500", "error")
    text = err.getvalue()
    assert CLEAR + "wcscmd: error: d.bin: HTTP 500\n" in text  # on a line of its own
    # The final line stays: the files, how many were unchanged, the bytes that moved, the failures.
    final = text.rsplit("\n", 2)[-2]
    assert final.startswith("upload  4 files (1 unchanged)  1.6 KiB  in 0:00 (") and final.endswith("  1 failed")


def test_without_a_terminal_a_status_line_with_the_counts():
    ctx, reporter = _reporter(io.StringIO())
    reporter.on_total(2000, 10 * MiB)
    reporter.on_action(_action("skip", "a", MiB, "same"))
    assert reporter.status_line().startswith("status: 1 of 2000 files, 1.0 MiB of 10.0 MiB, 0 failed, ")
    reporter.close()
    assert ctx.stderr.getvalue() == ""


def test_the_final_line_says_what_moved():
    clock = Clock()
    meter = Meter(64 * MiB, clock=clock)
    meter.add(48 * MiB, moved=False)
    clock.now += 2
    meter.add(16 * MiB)
    assert meter.final_line(100, "big.iso") == "big.iso  16.0 MiB (48.0 MiB were there)  in 0:02 (8.0 MiB/s)"
    nothing = Meter(files=True, clock=clock)
    nothing.file_done(unchanged=True)
    assert nothing.final_line(100, "upload") == "upload  1 file (1 unchanged)  0 B  in 0:00"


class _Writes(io.StringIO):
    """A stderr that counts its writes and flushes."""

    def __init__(self):
        super().__init__()
        self.writes = self.flushes = 0

    def write(self, text):
        self.writes += 1
        return super().write(text)

    def flush(self):
        self.flushes += 1


def _dry_run(quiet):
    from wcs.cli.tree_progress import TreeReporter

    err = _Writes()
    ctx = Context(prog="wcscmd", config_path=None, overrides=(), quiet=quiet, stdout=io.StringIO(), stderr=err,
                  stdin=io.StringIO(), environ={})
    with TreeReporter(ctx, "upload", verbose=False, dry_run=True, stats=0) as reporter:
        for i in range(1000):
            reporter.on_action(_action("transfer", "f%04d" % i, 1))
        reporter.on_error("f0999", "cannot read")
    return err


def test_a_dry_runs_lines_are_written_in_batches_and_quiet_silences_them():
    err = _dry_run(quiet=False)
    lines = err.getvalue().splitlines()
    assert lines[:2] == ["wcscmd: dry-run: upload f0000 (missing)", "wcscmd: dry-run: upload f0001 (missing)"]
    assert len(lines) == 1001 and lines[-1] == "wcscmd: error: f0999: cannot read"  # in order: the plan, then the error
    assert err.writes <= 10 and err.flushes <= 10  # not one write and one flush per line
    quiet = _dry_run(quiet=True)
    assert quiet.getvalue().splitlines() == ["wcscmd: error: f0999: cannot read"]


def test_unchanged_files_are_counted_in_bulk():
    ctx, reporter = _reporter(io.StringIO())
    assert not reporter.each_unchanged
    reporter.on_unchanged(250, 1000)
    assert reporter.meter.files_done == 250 and reporter.meter.unchanged == 250 and reporter.meter.done == 1000
    assert reporter.meter.moved == 0
