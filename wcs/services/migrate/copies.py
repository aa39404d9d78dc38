"""Copying the objects of a migration, the two ways (:mod:`.engine` decides which and when): fetched by
the service, a batch in one fmgr job (:mod:`.fetches`: no byte crosses this machine), or read from the
source and streamed through the client's block pipeline. Each copy ends in an
:class:`~wcs.services.migrate.fetches.Outcome`; a streamed one is written to the journal once the
service gave its hash (the fetch jobs write their own).
"""

from typing import List, Sequence, Tuple, cast

from wcs.commons.errors import Cancelled, WcsError
from wcs.commons.http import is_transient_failure
from wcs.services.events import Subscriber
from wcs.services.migrate.fetches import Fetch, FetchJobs, Outcome
from wcs.services.migrate.journal import Journal
from wcs.services.migrate.source import Source, SourceObject
from wcs.services.tree.plan import Action
from wcs.services.uploads import BlockUploader

FETCH = "fetch"
STREAM = "stream"

Copied = Tuple[Action, int, Outcome]
"""An action, its attempt (0: the first) and how it ended."""


def source_object(action: Action) -> SourceObject:
    """The source side of a migration's action (the tree planner's ``local`` side holds it)."""
    return cast(SourceObject, action.local)


class Copier:
    """Copies objects of ``source`` to ``bucket`` under ``prefix``; URLs for the service are signed for
    ``expiry`` seconds."""

    def __init__(self, source: Source, fetches: FetchJobs, uploads: BlockUploader, journal: Journal, *,
                 bucket: str, prefix: str, expiry: float, subscribers: Sequence[Subscriber]) -> None:
        self.source = source
        self.fetches = fetches
        self.uploads = uploads
        self.journal = journal
        self.bucket = bucket
        self.prefix = prefix
        self.expiry = expiry
        self.subscribers = subscribers

    def way(self, obj: SourceObject) -> str:
        """:data:`FETCH` when the service can reach ``obj`` by URL, else :data:`STREAM`."""
        return FETCH if self.source.url_for(obj, self.expiry) is not None else STREAM

    def fetch(self, batch: List[Tuple[Action, int]]) -> List[Copied]:
        """Fetch a batch of ``(action, attempt)`` in one job, followed to its end."""
        fetches = []
        for action, _attempt in batch:
            obj = source_object(action)
            # Signed now, not when planned: the URL must outlive the job, not the listing.
            url = self.source.url_for(obj, self.expiry) or ""
            fetches.append(Fetch(action.rel, obj.version, self.prefix + action.rel, url, obj.md5))
        outcomes = self.fetches.run(fetches)
        return [(action, attempt, outcome) for (action, attempt), outcome in zip(batch, outcomes)]

    def stream(self, action: Action, attempt: int) -> Copied:
        """Read the source object and upload it; its size and the service's hash are checked."""
        obj = source_object(action)
        key = self.prefix + action.rel
        fetch = Fetch(action.rel, obj.version, key)
        try:
            with self.source.open(obj) as fp:
                result = self.uploads.upload_stream(fp, self.bucket, key, overwrite=1, subscribers=self.subscribers)
        except Cancelled:
            return action, attempt, Outcome(fetch, error="cancelled", retry=False)
        except (WcsError, OSError) as exc:
            return action, attempt, Outcome(fetch, error=str(exc) or type(exc).__name__)
        if not result.ok:
            return action, attempt, Outcome(fetch, error="upload failed: HTTP %d: %s" % (result.code, result.message),
                                            retry=is_transient_failure(result))
        stored = result.answered_hash
        uploaded = getattr(result, "data", None)
        size = uploaded.get("fsize") if isinstance(uploaded, dict) else None
        if size is not None and int(size) != obj.size:
            error = "uploaded %s bytes where the source listed %d" % (size, obj.size)
            return action, attempt, Outcome(fetch, error=error)
        if not stored:
            return action, attempt, Outcome(fetch, error="the service reported no hash for the upload", retry=False)
        self.journal.done(action.rel, obj.version, key, stored)
        return action, attempt, Outcome(fetch, hash=stored)
