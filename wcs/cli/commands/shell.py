"""``completion``: print the shell completion script of ``wcscmd`` (generated from the parser's table).

``eval "$(wcscmd completion bash)"`` in ``~/.bashrc`` (or ``source <(wcscmd completion zsh)`` in
``~/.zshrc``) completes commands, the options each command takes, option values with choices, and
file names. The script is :func:`wcs.cli.completion.script`; it is data, no JSON document.
"""

import argparse
from typing import Sequence

from wcs.cli.command import Command
from wcs.cli.completion import script
from wcs.cli.context import Context
from wcs.cli.status import ExitStatus


def cmd_completion(args: argparse.Namespace, ctx: Context, commands: Sequence[Command]) -> int:
    """Print the script of ``commands``, the command table (which passes itself: it imports this module)."""
    ctx.stdout.write(script(args.shell, commands))
    ctx.emitted = True  # the script is the output
    return ExitStatus.SUCCESS
