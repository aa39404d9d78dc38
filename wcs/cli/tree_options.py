"""The options of the tree commands: ``sync``, and ``put``/``get`` with ``-r``.

They belong to those commands only (not to every command, as the official options do), so they
are added to their subparsers by :func:`add_tree_options`. Filter options share one list, in the
order given, because the first matching rule wins (:mod:`wcs.services.tree.filters`).
"""

import argparse
from typing import Any, Callable, Dict, List, Tuple

from wcs.cli import argtypes

Spec = Tuple[Tuple[str, ...], Dict[str, Any], str]


def _rule(sign: str) -> Callable[[str], Tuple[str, str]]:
    def parse(text: str) -> Tuple[str, str]:
        if not text:
            raise argparse.ArgumentTypeError("empty pattern")
        return sign, text

    return parse


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an integer, got %r" % text) from None
    if value < 0:
        raise argparse.ArgumentTypeError("expected 0 or more, got %d" % value)
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds, got %r" % text) from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("expected 0 or more seconds, got %r" % text)
    return value


RECURSIVE: List[Spec] = [
    (("-r", "--recursive"), {"action": "store_true"},
     "Whole folder: put -r wcs://BUCKET[/PREFIX] LOCAL_DIR, get -r wcs://BUCKET[/PREFIX] LOCAL_DIR"),
    (("--skip-existing",), {"action": "store_true"}, "With -r: skip files the destination already has"),
]

SYNC_ONLY: List[Spec] = [
    (("--delete",), {"action": "store_true"},
     "Delete destination files the source lacks (only after a run without any error)"),
    (("--max-delete",), {"type": non_negative_int, "metavar": "N"},
     "With --delete: delete nothing if more than N files would be deleted"),
    (("--size-only",), {"action": "store_true"}, "Compare sizes only, not etags (cheaper, misses same-size edits)"),
]

COMMON: List[Spec] = [
    (("--exclude",), {"dest": "filters", "action": "append", "type": _rule("-"), "metavar": "PATTERN"},
     "Leave out paths matching the glob (** crosses /); rules apply in order, first match wins"),
    (("--include",), {"dest": "filters", "action": "append", "type": _rule("+"), "metavar": "PATTERN"},
     "Take part when matching; once given, paths no rule matches are left out"),
    (("--filter-from",), {"dest": "filters", "action": "append", "type": _rule("file"), "metavar": "FILE"},
     "Read '+ PATTERN' / '- PATTERN' rules from FILE, in place"),
    (("-n", "--dry-run"), {"action": "store_true"}, "Print the plan; change nothing"),
    (("--transfers",), {"type": argtypes.positive_int, "default": 8, "metavar": "N"},
     "Files transferred at once (default 8)"),
    (("--fail-fast",), {"action": "store_true"}, "Start no transfer after the first failure"),
    (("--follow-symlinks",), {"action": "store_true"}, "Follow symlinks (default: skip them with a note)"),
    (("--stats",), {"type": seconds, "default": 10.0, "metavar": "SECONDS"},
     "When stderr is no terminal, a status line every SECONDS (0: none; default 10)"),
    (("-v", "--verbose"), {"action": "store_true"}, "Say what is done with each file and why"),
    (("--hash-cache",), {"metavar": "FILE"}, "Local etag cache (default ~/.cache/wcs/etags.sqlite)"),
    (("--no-hash-cache",), {"action": "store_true"}, "Keep no etag cache between runs"),
]

_BY_COMMAND = {"sync": SYNC_ONLY + COMMON, "put": RECURSIVE + COMMON, "get": RECURSIVE + COMMON}


def add_tree_options(parser: argparse.ArgumentParser, command: str) -> None:
    """Add the tree options of ``command`` (sync, put, get) to its subparser; nothing for the others."""
    specs = _BY_COMMAND.get(command)
    if not specs:
        return
    group = parser.add_argument_group("Folders (sync, put -r, get -r)")
    for flags, kwargs, text in specs:
        options = dict(kwargs)
        if "dest" not in options:
            options["dest"] = flags[-1].lstrip("-").replace("-", "_")
        group.add_argument(*flags, help=text, **options)
