"""What ``sync`` from another store shows while it runs: the folder display (:mod:`wcs.cli.tree_progress`),
with ``fetch`` for what the service fetches and those bytes on the line."""

from typing import Any

from wcs.cli.context import Context
from wcs.cli.tree_progress import TreeReporter


class MigrationReporter(TreeReporter):
    """The tree reporter, saying ``fetch`` for what the service fetches and counting those bytes (no
    subscriber sees them) as done."""

    def __init__(self, ctx: Context, **settings: Any) -> None:
        super().__init__(ctx, "upload", **settings)
        self._way = "stream"

    def on_way(self, action: Any, way: str) -> None:
        self._way = way

    def on_action(self, action: Any) -> None:
        if action.op == "transfer" and self._way == "fetch":
            self.current = action.rel
            if self.verbose or (self.dry_run and not self.ctx.quiet):
                self._say("fetch %s (%s)" % (action.rel, action.reason), "dry-run" if self.dry_run else "")
            return
        super().on_action(action)

    def on_fetched(self, action: Any, size: int) -> None:
        self.meter.add(size, moved=True)
