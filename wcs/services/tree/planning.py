"""The plan of a tree run between a local folder and a prefix: the two sorted streams it merges.

The source is the local walk (an upload) or the listing (a download); the destination is the other
side, when the options need it (``sync``, ``--skip-existing``, ``--delete``). A download into a
case-insensitive folder gets :class:`~.casefold.CaseClaims`: two keys differing only in case would
be one file there.
"""

import os
from typing import Any, Callable, Iterable, Optional

from wcs.services.listing import ObjectListing
from wcs.services.tree.casefold import CaseClaims, is_case_insensitive
from wcs.services.tree.localtree import LocalTree
from wcs.services.tree.model import TreeOptions
from wcs.services.tree.plan import DOWNLOAD, UPLOAD, Planner, listed_entries, remote_entries


def _needs_destination(options: TreeOptions) -> bool:
    return bool(options.sync or options.skip_existing or options.delete)


def local_tree(direction: str, root: str, options: TreeOptions, *, on_note: Callable[[str, str, str], None],
               on_error: Callable[[str, str], None]) -> Optional[LocalTree]:
    """The walk of the local folder, when the run reads it: always for an upload; for a download, when
    the options compare with the destination and the folder exists (a dry run does not create the
    folder to download into: a missing one is an empty one)."""
    if direction == UPLOAD or (_needs_destination(options) and os.path.isdir(root)):
        return LocalTree(root, follow_symlinks=options.follow_symlinks, on_note=on_note, on_error=on_error)
    return None


def tree_planner(direction: str, root: str, tree: Optional[LocalTree], listing: Any, prefix: str,
                 options: TreeOptions) -> Planner:
    """The :class:`~.plan.Planner` merging ``tree`` (from :func:`local_tree`) and ``listing`` (the
    objects under ``prefix``) in the run's ``direction``."""
    need_destination = _needs_destination(options)
    # Untyped when the listing can: an object is typed once an action is made of it, not to be compared.
    remote = listed_entries(listing.item_lists(), prefix) if isinstance(listing, ObjectListing) and listing.flat \
        else remote_entries(listing, prefix)
    destination: Optional[Iterable[Any]]
    if direction == UPLOAD:
        if tree is None:
            raise ValueError("an upload plans from a local walk")
        source: Iterable[Any] = tree.entries()
        destination = remote if need_destination else None
    else:
        source = remote
        destination = tree.entries() if tree is not None else None
        if destination is None and need_destination:
            destination = iter(())
    # Probed once: two keys differing only in case would be one file in a case-insensitive folder.
    claims = CaseClaims() if direction == DOWNLOAD and is_case_insensitive(root, probe=not options.dry_run) else None
    return Planner(direction, source, destination, sync=options.sync, skip_existing=options.skip_existing,
                   size_only=options.size_only, delete=options.delete, filters=options.filters, case_claims=claims)
