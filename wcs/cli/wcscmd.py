"""``wcscmd``: the command-line tool for WCS, modelled on s3cmd like the official one.

Same commands, options, ``~/.wcscfg`` and invocations as the official ``wcscmd`` (options may come
before or after the command's arguments; ``--debug 1`` is accepted as well as ``--debug``), rebuilt
on :class:`wcs.services.client.Client`. This module is the entry point (``wcscmd = wcs.cli.wcscmd:main``);
the parts live beside it:

* :mod:`wcs.cli.options`: every option once, with what it acts on (its tag);
* :mod:`wcs.cli.definition`: the command table (which tags each command takes), :func:`build_parser`
  and :func:`~wcs.cli.definition.check_options`, which refuses an option a command cannot use; a row
  of the table is a :class:`~wcs.cli.command.Command`;
* :mod:`wcs.cli.outputs`: the JSON document each command prints;
* :mod:`wcs.cli.printing`: what ``-v``, ``--json`` and ``--quiet`` do to a command's output;
* :mod:`wcs.cli.meter`, :mod:`wcs.cli.progress`, :mod:`wcs.cli.tree_progress`: the progress line on stderr;
* :mod:`wcs.cli.pipes`: a stdout whose reader went away (exit 141, nothing said);
* :mod:`wcs.cli.completion`: the bash and zsh completion scripts, from the command table;
* :mod:`wcs.cli.argtypes`: option value types and the raising parser;
* :mod:`wcs.cli.commands`: one ``cmd_*`` function per command;
* :mod:`wcs.cli.core`: :func:`main`, the one error boundary: commands raise, and ``main`` turns the
  exception into one ``wcscmd: error: ...`` line on stderr and an exit status from
  :class:`wcs.cli.status.ExitStatus` (a traceback only with ``--debug``); :mod:`wcs.cli.messages`:
  the one line it says for a network failure (``--configure``'s access test says the same).

The output contract (what each command prints on stdout and stderr, and how it treats local files)
is written once, in ``docs/wcscmd.md`` (section "Output"); the JSON document of each command is
declared in :mod:`wcs.cli.outputs`, which renders it into ``--help`` and that page's table.
"""

import sys
from typing import Any

from wcs.cli.argtypes import parse_days
from wcs.cli.core import main
from wcs.cli.definition import COMMANDS, build_parser, normalize_argv
from wcs.cli.messages import network_message

__all__ = ["COMMANDS", "build_parser", "default_filename", "main", "network_message", "normalize_argv",  # noqa: F822
           "parse_days", "resume_argv"]

# Helpers of two commands, kept importable from here; their modules load with their command.
_FROM_COMMANDS = {"default_filename": "downloads", "resume_argv": "uploads"}


def __getattr__(name: str) -> Any:
    if name in _FROM_COMMANDS:
        import importlib

        return getattr(importlib.import_module("wcs.cli.commands." + _FROM_COMMANDS[name]), name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))

if __name__ == "__main__":
    sys.exit(main())
