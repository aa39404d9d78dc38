"""Typed views of answers the vendor's other SDKs read: the items of a mirror prefetch and an fmgr job's status.

Each keeps the service's dict (``raw``) and reads numbers that may come as numbers or numeric strings
(reference 1.5: clients accept both). A job status also keeps the :class:`~wcs.commons.result.Result`
it came from. Pure data: the CLI imports it without loading the SDK's HTTP layer.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

# Top-level codes of a job status (reference 7.3): 0 pending, 1 processing, 4 notifying are not finished;
# 3 done, 5 notify failed, 6 notify succeeded are.
JOB_RUNNING = (0, 1, 4)
ITEM_FAILED = 2
ITEM_SUCCEEDED = 3


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class PrefetchItem:
    """One key of a mirror prefetch: ``code`` is the origin's HTTP status for it (200: fetched and stored)."""

    key: str
    code: Optional[int]
    message: str = ""
    mirror_address: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.code == 200

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "PrefetchItem":
        return cls(key=_text(item.get("key")), code=_int(item.get("code")), message=_text(item.get("message")),
                   mirror_address=_text(item.get("mirrorAddress")), raw=dict(item))

    @classmethod
    def list_from(cls, body: Any) -> List["PrefetchItem"]:
        """The items of a ``/prefetch`` answer (none when it is not a JSON object with ``items``)."""
        items = body.get("items") if isinstance(body, dict) else None
        return [cls.from_item(item) for item in items or () if isinstance(item, dict)]


@dataclass(frozen=True)
class JobItem:
    """One operation of an fmgr or fops job: ``code`` 0 pending, 1 processing, 2 failed, 3 succeeded."""

    cmd: str
    code: Optional[int]
    desc: str = ""
    error: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def failed(self) -> bool:
        return self.code == ITEM_FAILED

    @property
    def reason(self) -> str:
        """Why it failed, in the service's words."""
        return self.error or self.desc or "no reason given"


@dataclass(frozen=True)
class JobStatus:
    """An fmgr (or fops) job's status (reference 7.3, 7.6), with the answer it came from (``result``).

    ``code`` is the job's top-level code, None when no status could be read (``result`` then says why).
    """

    persistent_id: str
    code: Optional[int]
    desc: str = ""
    items: List[JobItem] = field(default_factory=list)
    result: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_result(cls, persistent_id: str, result: Any) -> "JobStatus":
        """From a status call's Result: a status when it answered 200 with a JSON object, else no code."""
        body = getattr(result, "data", None)
        if not isinstance(body, dict):
            body = getattr(result, "body", None)
        if getattr(result, "code", None) != 200 or not isinstance(body, dict):
            return cls(persistent_id, None, result=result)
        items = [JobItem(_text(item.get("cmd")), _int(item.get("code")), _text(item.get("desc")),
                         _text(item.get("error")), dict(item))
                 for item in body.get("items") or () if isinstance(item, dict)]
        return cls(_text(body.get("id")) or persistent_id, _int(body.get("code")), _text(body.get("desc")), items,
                   result)

    @property
    def finished(self) -> bool:
        """The job ran to its end (its items succeeded or failed); notifying counts as not yet."""
        return self.code is not None and self.code not in JOB_RUNNING

    @property
    def failed(self) -> List[JobItem]:
        return [item for item in self.items if item.failed]

    @property
    def succeeded(self) -> bool:
        """Finished, and no operation failed."""
        return self.finished and not self.failed
