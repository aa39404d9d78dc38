"""The progress line: what it shows with and without a total, what gives way on a narrow terminal,
speed that leaves out bytes that were already there, and messages that never land inside the bar.

tqdm formats and draws the line; these tests pin what we ask of it (the layout per width, the rate,
the redraw interval, a line taken off for a message) through what ends up on the terminal."""

import io

import pytest
from tqdm.utils import disp_len

from tests.helpers.terminal import screen
from wcs.cli.context import Context
from wcs.cli.liveline import LiveLine
from wcs.cli.meter import REDRAW, Meter, duration_text, fit, render, shorten, size_text
from wcs.cli.progress import Progress

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


class Broken(Terminal):
    """A stderr whose reader went away (``2>&1 | head``) or that was closed: every write fails."""

    def __init__(self, error):
        super().__init__()
        self.error = error

    def write(self, text):
        raise self.error

    def flush(self):
        raise self.error


def _context(stderr, quiet=False):
    return Context(prog="wcscmd", config_path=None, overrides=(), quiet=quiet, stdout=io.StringIO(), stderr=stderr,
                   stdin=io.StringIO(), environ={})


# -- what the line says, per width --------------------------------------------------------------------

@pytest.mark.parametrize("width", [200, 120, 100, 80, 60, 40, 30, 24])
def test_the_line_fits_and_keeps_the_percentage_and_the_file_count(width):
    line = render(width - 1, NAME, 3 * MiB, 12 * MiB, 2.0, 1.5 * MiB, 1240, 2000)
    assert disp_len(line) <= width - 1
    assert " 25%" in line and "1240/2000 files" in line


def test_what_gives_way_first():
    wide = render(119, NAME, 3 * MiB, 12 * MiB, 2.0, 1.5 * MiB, 1240, 2000)
    assert wide.startswith(NAME + ":  25%|") and "| 3.00M/12.0MB [00:02<00:06, 1.50MB/s, 1240/2000 files]" in wide
    assert len(wide) == 119  # tqdm gives the bar all the room left
    narrow = render(79, NAME, 3 * MiB, 12 * MiB, 2.0, 1.5 * MiB, 1240, 2000)
    assert "..." in narrow.split(":")[0] and "|" not in narrow  # the bar went, the name is shortened
    assert "3.00M/12.0MB" in narrow and "1.50MB/s" in narrow and "<00:06" in narrow
    smaller = render(59, NAME, 3 * MiB, 12 * MiB, 2.0, 1.5 * MiB, 1240, 2000)
    assert "<00:06" not in smaller and "1.50MB/s" in smaller and "..." in smaller  # then the times
    tiny = render(39, NAME, 3 * MiB, 12 * MiB, 2.0, 1.5 * MiB, 1240, 2000)
    assert tiny == " 25% 3.00M/12.0MB [1240/2000 files]"  # then the speed and the name
    assert render(29, NAME, 3 * MiB, 12 * MiB, 2.0, 1.5 * MiB, 1240, 2000) == " 25% [1240/2000 files]"


def test_the_bar_takes_the_room_the_name_leaves():
    lines = [render(width, "big.iso", 100 * MiB, 200 * MiB, 4.0, 25 * MiB) for width in (69, 99, 159)]
    assert [len(line) for line in lines] == [69, 99, 159]
    cells = [line.split("|")[1] for line in lines]
    assert len(cells[0]) < len(cells[1]) < len(cells[2])
    assert all(line.startswith("big.iso:  50%|") and line.endswith("| 100M/200MB [00:04<00:04, 25.0MB/s]")
               for line in lines)


@pytest.mark.parametrize("width", [59, 79, 99])
def test_what_the_line_holds_stays_put_while_the_numbers_change(width):
    start = fit(width, NAME, 6 * MiB, 200 * MiB, 0.3, None, 14, 2000)  # no speed yet: "?B/s", ETA "?"
    later = fit(width, NAME, 99 * MiB, 200 * MiB, 2.5, 41.5 * MiB, 1999, 2000)
    assert (start["bar_format"], start["prefix"]) == (later["bar_format"], later["prefix"])


def test_without_a_total_no_percentage_no_eta_and_no_bar():
    line = render(99, "sync", 3 * MiB, None, 2.0, 1.5 * MiB, 120, None)
    assert line == "sync: 3.00MB [00:02, 1.50MB/s, 120 files]"
    assert "%" not in render(99, "big", 5, 0, 0.0, None) and "<" not in render(99, "big", 5, 0, 0.0, None)


def test_more_done_than_expected_stays_a_known_total():
    line = render(99, "f", 13 * MiB, 12 * MiB, 2.0, MiB)  # a chunk sent twice, a file that grew
    assert "100%" in line and "13.0M/13.0MB" in line


def test_a_narrow_terminal_gets_the_start_of_the_shortest_line():
    args = fit(12, NAME, 3 * MiB, 12 * MiB, 2.0, MiB, 1240, 2000)
    assert args["bar_format"] == "{line}" and args["line"] == " 25% [1240/2"


def test_shorten_cuts_in_the_middle_and_counts_columns():
    assert shorten(NAME, 15) == "phot...0042.jpg" and len(shorten(NAME, 15)) == 15
    assert shorten("short", 15) == "short"
    wide = shorten("照片/二〇二四/夏天/图片_0042.jpg", 16)  # CJK characters take two columns
    assert disp_len(wide) <= 16 and wide.endswith("0042.jpg") and "..." in wide


def test_a_name_cannot_break_the_line_or_the_format():
    line = render(99, "new\nline\x1b[2J{desc}.txt", 5, 10, 1.0, None)
    assert line.startswith("new?line?[2J{desc}.txt:  50%|") and "\n" not in line and "\x1b" not in line


def test_sizes_and_times_are_tqdms_in_binary_steps():
    assert (size_text(0), size_text(1023), size_text(12 * MiB), size_text(200 * MiB)) == \
        ("0.00B", "1.00kB", "12.0MB", "200MB")
    assert (duration_text(65), duration_text(3605), duration_text(-1)) == ("01:05", "1:00:05", "00:00")


# -- the speed ---------------------------------------------------------------------------------------

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


def test_the_line_shows_the_meters_speed_not_tqdms_average():
    clock = Clock()
    meter = Meter(100 * MiB, clock=clock)
    assert "?B/s" in meter.line(99, "big.iso") and "<?" in meter.line(99, "big.iso")  # nothing measured yet
    meter.add(60 * MiB, moved=False)
    for _ in range(10):
        clock.now += 0.5
        meter.add(MiB)
    line = meter.line(99, "big.iso")
    # tqdm's own rate would be 70 MiB / 5 s = 14 MB/s, ETA 00:02.
    assert "2.00MB/s" in line and "00:05<00:15" in line and " 70%" in line


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
    bar.close()


# -- drawing -----------------------------------------------------------------------------------------

def test_a_message_takes_the_bar_off_its_line_first():
    clock = Clock()
    err = Terminal()
    ctx = _context(err)
    with Progress(10 * MiB, "big.iso", enabled=True, stream=err, ctx=ctx, clock=clock) as bar:
        clock.now += 1
        bar.update(MiB)
        assert ctx.live is not None and screen(err.getvalue())[-1].startswith("big.iso:  10%|")
        ctx.line("stopping: waiting for 2 transfers in flight")
        assert screen(err.getvalue()) == ["wcscmd: stopping: waiting for 2 transfers in flight"]
        clock.now += 1
        bar.update(MiB)
        rows = screen(err.getvalue())
        assert rows[0] == "wcscmd: stopping: waiting for 2 transfers in flight" and rows[1].startswith("big.iso:  20%|")
    assert ctx.live is None
    rows = screen(err.getvalue())
    assert len(rows) == 2 and rows[1] == "big.iso  2.00MB  in 00:02 (1.00MB/s)"  # the bar gave way to the final line


def test_the_drawn_line_fits_the_terminal_and_leaves_nothing_behind():
    err = Terminal()  # no size to ask: 80 columns, drawn in 79
    with Progress(200 * MiB, NAME * 3, enabled=True, stream=err) as bar:
        for _ in range(20):
            bar.update(5 * MiB)
            bar._line.tick(force=True)
    drawn = err.getvalue().split("\r")
    assert max(disp_len(part.rstrip()) for part in drawn) <= 79
    assert screen(err.getvalue()) == [screen(err.getvalue())[0]] and "100MB" in screen(err.getvalue())[0]


def test_live_line_draws_at_most_ten_times_a_second():
    clock = Clock()
    err = Terminal()
    widths = []

    def layout(width):
        widths.append(width)
        return Meter(clock=clock).layout(width, "x")

    line = LiveLine(err, layout, clock)
    drawn_at_start = len(widths)
    for _ in range(100):  # one second of updates, a hundred of them
        line.tick()
        clock.now += 0.01
    assert 9 <= len(widths) - drawn_at_start <= 1 / REDRAW
    line.close("done")
    line.close("twice")
    assert screen(err.getvalue()) == ["done"]


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), OSError(28, "No space left on device"),
                                   ValueError("I/O operation on closed file.")])
def test_a_broken_stderr_never_fails_the_command(error):
    err = Broken(error)
    ctx = _context(err)
    with Progress(10 * MiB, "big.iso", enabled=True, stream=err, ctx=ctx) as bar:
        for _ in range(5):
            bar.update(MiB)
        bar.clear()
        bar._line.tick(force=True)
    assert ctx.live is None


def test_quiet_and_no_terminal_draw_nothing():
    for stream, quiet in ((Terminal(), True), (io.StringIO(), False)):
        from wcs.cli.progress import open_progress

        with open_progress(MiB, "f", stream=stream, quiet=quiet) as bar:
            assert bar.callback is None and bar.subscribers() == []
        assert stream.getvalue() == ""


# -- many files --------------------------------------------------------------------------------------

def _reporter(stderr, quiet=False):
    from wcs.cli.tree_progress import TreeReporter

    ctx = _context(stderr, quiet)
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
        line = reporter._text(100)
        assert "%" not in line and "<" not in line and "|" not in line and "1 files]" in line
        reporter.on_total(4, 4000)
        line = reporter._text(100)
        assert " 25%|" in line and "1/4 files]" in line
        assert screen(err.getvalue())[-1].startswith("a.html:  25%|")  # drawn at once when the total came
        # Unchanged files are done, their bytes too, but they are no speed.
        reporter.on_action(_action("skip", "b.html", 1000, "same"))
        reporter.on_action(_action("skip", "x.tmp", 50, "excluded"))  # filtered out: not part of the run
        assert reporter.meter.done == 2000 and reporter.meter.moved == 1000
        assert " 50%" in reporter._text(100) and "2/4 files" in reporter._text(100)
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
        assert screen(err.getvalue()) == ["wcscmd: error: d.bin: HTTP 500"]  # on a line of its own
    # The final line stays: the files, how many were unchanged, the bytes that moved, the failures.
    rows = screen(err.getvalue())
    assert len(rows) == 2 and rows[1].startswith("upload  4 files (1 unchanged)  1.61kB  in 00:00 (")
    assert rows[1].endswith("  1 failed")


def test_without_a_terminal_a_status_line_with_the_counts():
    ctx, reporter = _reporter(io.StringIO())
    reporter.on_total(2000, 10 * MiB)
    reporter.on_action(_action("skip", "a", MiB, "same"))
    assert reporter.status_line().startswith("status: 1 of 2000 files, 1.00MB of 10.0MB, 0 failed, ")
    reporter.close()
    assert ctx.stderr.getvalue() == ""


def test_the_final_line_says_what_moved():
    clock = Clock()
    meter = Meter(64 * MiB, clock=clock)
    meter.add(48 * MiB, moved=False)
    clock.now += 2
    meter.add(16 * MiB)
    assert meter.final_line(100, "big.iso") == "big.iso  16.0MB (48.0MB were there)  in 00:02 (8.00MB/s)"
    nothing = Meter(files=True, clock=clock)
    nothing.file_done(unchanged=True)
    assert nothing.final_line(100, "upload") == "upload  1 file (1 unchanged)  0.00B  in 00:00"


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
