"""``completion``: print the shell completion script of ``wcscmd`` (generated from the parser's table).

``eval "$(wcscmd completion bash)"`` in ``~/.bashrc`` (or ``source <(wcscmd completion zsh)`` in
``~/.zshrc``) completes commands, the options each command takes, option values with choices, and
file names. The script is :func:`wcs.cli.completion.script`; it is data, no JSON document.
"""

import argparse

from wcs.cli.context import Context
from wcs.cli.status import ExitStatus

SHELLS = ("bash", "zsh")


def cmd_completion(args: argparse.Namespace, ctx: Context) -> int:
    from wcs.cli.completion import script  # it reads the command table, which imports this module

    ctx.stdout.write(script(args.shell))
    ctx.emitted = True  # the script is the output
    return ExitStatus.SUCCESS
