"""What the command lines need besides their definition: value types and a parser that raises.

The ``type=`` callables turn option text into values (raising ``argparse.ArgumentTypeError``, which
argparse reports with the option's name); :class:`Parser` raises :class:`UsageError` instead of
printing the usage and exiting, so that the tool's one error boundary reports it as one line.
Nothing here imports the SDK: ``--help`` stays cheap.
"""

import argparse
import datetime
import difflib
import sys
from typing import IO, Any, NoReturn, Optional, Sequence, Union

from wcs.commons.errors import InvalidArgument


class UsageError(InvalidArgument):
    """A command line argparse rejects; carries the (sub)command's prog for the help hint."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, and prints help on ``stdout``.

    Args:
        stdout: where ``--help`` and ``--version`` go (default: ``sys.stdout`` when they are shown).
    """

    def __init__(self, *args: Any, stdout: Optional[IO[str]] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stdout = stdout

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # An unknown command gets the closest known one, rather than argparse's list of every choice.
        if action.nargs == argparse.PARSER and action.choices is not None and value not in action.choices:
            raise UsageError(unknown_command(value, list(action.choices)), self.prog)
        super()._check_value(action, value)

    def print_help(self, file: Any = None) -> None:
        super().print_help(self.stdout if file is None else file)


class Version(argparse.Action):
    """``--version`` printed on the parser's own ``stdout`` (argparse's prints on ``sys.stdout``)."""

    def __init__(self, option_strings: Sequence[str], version: str, dest: str = argparse.SUPPRESS,
                 help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help=help)
        self.version = version

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Union[str, Sequence[Any], None], option_string: Optional[str] = None) -> None:
        stream = getattr(parser, "stdout", None) or sys.stdout
        stream.write(self.version % {"prog": parser.prog} + "\n")
        parser.exit()


def unknown_command(word: str, commands: Sequence[str]) -> str:
    """``unknown command 'lst'; did you mean `list`?``: the closest command by spelling (any case)."""
    folded = {name.lower(): name for name in commands}
    close = [folded[word.lower()]] if word.lower() in folded else \
        [folded[name] for name in difflib.get_close_matches(word.lower(), list(folded), n=1, cutoff=0.6)]
    if not close:
        close = [name for name in commands if name.lower().startswith(word.lower())][:1] if word else []
    return "unknown command %r%s" % (word, "; did you mean `%s`?" % close[0] if close else "")


def flag01(text: str) -> int:
    """Official 'bool type' options (--overwrite, --separate, --force): 1/0, also true/false."""
    word = text.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return 1
    if word in ("0", "false", "no", "off"):
        return 0
    raise argparse.ArgumentTypeError("expected 1 or 0 (true/false), got %r" % text)


_SIZE_UNITS = {"": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": 1024 ** 2, "MB": 1024 ** 2, "MIB": 1024 ** 2,
               "G": 1024 ** 3, "GB": 1024 ** 3, "GIB": 1024 ** 3}


def size(text: str) -> int:
    """Bytes, optionally with a binary unit: 4194304, 4M, 8MiB."""
    body = text.strip().upper()
    digits = body.rstrip("KMGIB")
    unit = body[len(digits):]
    if not digits.isdigit() or unit not in _SIZE_UNITS:
        raise argparse.ArgumentTypeError("expected a size in bytes such as 4194304, 4M or 8MiB, got %r" % text)
    return int(digits) * _SIZE_UNITS[unit]


def rate(text: str) -> int:
    """``--bwlimit``: bytes per second such as 10M, 512k, 1.5MiB (binary units); 0 = no limit."""
    from wcs.commons.bandwidth import parse_rate  # pure: no HTTP library behind it

    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive integer, got %r" % text) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a positive integer, got %d" % value)
    return value


def date(text: str) -> str:
    """A ``YYYY-MM-DD`` date, kept as the text (the service takes it as such)."""
    try:
        datetime.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date as YYYY-MM-DD, got %r" % text) from None
    return text


def parse_days(text: str) -> int:
    """DAYS of setdeadline: an integer; ``-1`` and the documented shell-quoted ``'"-1"'`` both work.

    Raises:
        InvalidArgument: not an integer, or below -1.
    """
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    try:
        days = int(value)
    except ValueError:
        raise InvalidArgument("DAYS must be an integer number of days (-1 = never expire), got %r"
                              % text) from None
    if days < -1:
        raise InvalidArgument("DAYS must be -1 (never expire), 0 or more, got %d" % days)
    return days


def older_than(text: str) -> float:
    """``--older-than DAYS``: a non-negative number of days (fractions allowed)."""
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of days, got %r" % text) from None
    if not days >= 0 or days == float("inf"):
        raise argparse.ArgumentTypeError("expected a number of days >= 0, got %r" % text)
    return days
