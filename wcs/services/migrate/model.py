"""What a migration is asked (:class:`MigrateOptions`) and what it did (:class:`MigrationSummary`)."""

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from wcs.commons.errors import InvalidArgument
from wcs.services.tree.filters import FilterRules
from wcs.services.tree.model import TreeSummary


@dataclass(frozen=True)
class MigrateOptions:
    """How objects of another store are brought into WCS.

    Attributes:
        delete: delete WCS objects the source lacks, after a run without errors (folder-sync rules).
        max_delete: delete nothing when more than this many would go.
        dry_run: decide and report, change nothing (the journal neither).
        plan: write every decision to this plan file (:mod:`wcs.services.plans`); changes nothing.
        server_side: let the service fetch what it can reach by URL (False: every byte through the client).
        md5: give the service the source's MD5, where it has a plain one, to check each fetch against.
        size_only: an object of the same size as the WCS one is the same (for objects the journal
            does not know: without it they are copied again, their hashes being of different kinds).
        filters: include/exclude rules (:mod:`wcs.services.tree.filters`).
        files_from: a list file of the paths to sync (:mod:`.listfile`); required for HTTP origins.
        batch: fetch ops per fmgr job.
        jobs: fetch jobs followed at once.
        transfers: client-side copies at once (objects the service cannot reach).
        job_timeout: seconds to follow one fetch job; a job still running is followed by the next run.
        url_expiry: seconds a presigned URL stays valid (default: twice ``job_timeout``, at least an hour).
        file_retries: extra attempts for an object whose fetch or copy failed.
        journal: the journal file; ``""``: the default (``~/.cache/wcs/migrations.sqlite``); None: in
            memory (this run only: a re-run starts from nothing).
        fail_fast: start nothing new after the first failure.
        delete_batch: deletions per fmgr delete job.
        storage_options: keyword arguments of the source's filesystem (credentials, endpoint...).
    """

    delete: bool = False
    max_delete: Optional[int] = None
    dry_run: bool = False
    plan: Optional[str] = None
    server_side: bool = True
    md5: bool = True
    size_only: bool = False
    filters: Optional[FilterRules] = None
    files_from: Optional[str] = None
    batch: int = 50
    jobs: int = 4
    transfers: int = 8
    job_timeout: float = 3600.0
    url_expiry: Optional[float] = None
    file_retries: int = 1
    journal: Optional[str] = ""
    fail_fast: bool = False
    delete_batch: int = 100
    storage_options: Dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def expiry(self) -> float:
        return self.url_expiry if self.url_expiry is not None else max(3600.0, 2 * self.job_timeout)

    @property
    def changes_nothing(self) -> bool:
        return self.dry_run or bool(self.plan)

    def check(self) -> "MigrateOptions":
        """Self, if the values make sense.

        Raises:
            InvalidArgument: naming the problem.
        """
        for name in ("batch", "jobs", "transfers", "delete_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument("%s must be a positive integer, got %r" % (name, value))
        if self.max_delete is not None and (not isinstance(self.max_delete, int) or self.max_delete < 0):
            raise InvalidArgument("max_delete must be a non-negative integer, got %r" % (self.max_delete,))
        if not self.job_timeout > 0 or (self.url_expiry is not None and not self.url_expiry > 0):
            raise InvalidArgument("job_timeout and url_expiry must be positive")
        if not isinstance(self.file_retries, int) or self.file_retries < 0:
            raise InvalidArgument("file_retries must be 0 or more, got %r" % (self.file_retries,))
        if self.batch > 1000:
            raise InvalidArgument("batch: at most 1000 fetch ops per job, got %d" % self.batch)
        return self


@dataclass
class MigrationSummary(TreeSummary):
    """A :class:`~wcs.services.tree.model.TreeSummary` with the ways objects came in.

    ``fetched``: objects the service fetched itself (their bytes never crossed this machine);
    ``streamed``: objects copied through the client (read from the source, uploaded);
    ``jobs``: fetch jobs submitted; ``followed``: jobs of an earlier run followed to their end.
    """

    fetched_files: int = 0
    fetched_bytes: int = 0
    streamed_files: int = 0
    streamed_bytes: int = 0
    jobs: int = 0
    followed: int = 0
    journal: Optional[str] = None
    plan: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        doc = super().to_json()
        doc["fetched"] = {"files": self.fetched_files, "bytes": self.fetched_bytes}
        doc["streamed"] = {"files": self.streamed_files, "bytes": self.streamed_bytes}
        doc["jobs"] = {"submitted": self.jobs, "followed": self.followed}
        doc["journal"] = self.journal
        if self.plan:
            doc["plan"] = self.plan
        return doc
