"""What a command of ``wcscmd`` is: a row of the command table (:data:`wcs.cli.definition.COMMANDS`), which
the parser (:mod:`wcs.cli.definition`) and the completion scripts (:mod:`wcs.cli.completion`) both read."""

import argparse
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from wcs.cli.context import Context

PROG = "wcscmd"

Arguments = Tuple[Tuple[str, Dict[str, Any]], ...]


class Command(NamedTuple):
    name: str
    label: str  # the official one-line description
    params: str  # the official parameter synopsis
    func: Callable[[argparse.Namespace, Context], int]
    arguments: Arguments  # positionals, and options of this command alone
    group: str  # where --help lists it: one of GROUPS
    tags: Tuple[str, ...] = ()  # the option tags it accepts (global options always)
    recursive: Optional[Tuple[str, ...]] = None  # the tags of its -r form, when it has one
    note: str = ""  # said after the label in the main --help (ours, not official)
    brief: str = ""  # the line of the main --help, when the label and parameters are too long for one
    rparams: str = "wcs://BUCKET[/PREFIX] LOCAL_DIR"  # the parameters of its -r form

    def tags_for(self, recursive: bool) -> Tuple[str, ...]:
        return self.recursive if recursive and self.recursive is not None else self.tags

    @property
    def forms(self) -> List[Tuple[str, Tuple[str, ...]]]:
        """``(form, tags)``: ``("put", ...)`` and ``("put -r", ...)``."""
        found = [(self.name, self.tags)]
        if self.recursive is not None:
            found.append((self.name + " -r", self.recursive))
        return found
