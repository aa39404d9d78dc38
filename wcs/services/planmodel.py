"""What carrying out a plan is asked (:class:`RunSettings`) and what it did (:class:`PlanSummary`)."""

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class PlanSummary:
    """What a run of a plan did. ``ok``: nothing failed (objects that changed since the plan are
    reported, and make the run not ``complete``, but are no failure)."""

    source: str
    actions: int = 0
    done: Dict[str, int] = field(default_factory=dict)
    skipped: Dict[str, int] = field(default_factory=dict)
    changed: int = 0
    failed: int = 0
    errors: List[str] = field(default_factory=list)
    bytes: int = 0
    delete_status: str = "none planned"
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.errors

    @property
    def complete(self) -> bool:
        return self.ok and not self.changed

    def to_json(self) -> Dict[str, Any]:
        return {"plan": self.source, "actions": self.actions, "done": dict(sorted(self.done.items())),
                "skipped": dict(sorted(self.skipped.items())), "changed": self.changed, "failed": self.failed,
                "errors": list(self.errors), "bytes": self.bytes, "delete": self.delete_status,
                "elapsed": round(self.elapsed, 3)}


@dataclass(frozen=True)
class RunSettings:
    """``transfers`` actions at once; fetches in jobs of ``batch`` ops, ``jobs`` followed at once."""

    transfers: int = 8
    batch: int = 50
    jobs: int = 4
    job_timeout: float = 3600.0
    url_expiry: float = 7200.0
    multipart_threshold: int = 8 * 1024 * 1024
    local_root: Optional[str] = None
