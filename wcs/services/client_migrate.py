"""The :class:`~wcs.services.client.Client` methods that bring objects of other stores into WCS
(``migrate``, which :meth:`Client.sync <wcs.services.client.Client.sync>` calls for an fsspec
source), and that carry out plans (``apply_plan``, ``run_batch``). Not in the official SDK.

Each builds the services the engine works with (:class:`~wcs.services.migrate.engine.MigrationRun`,
:class:`~wcs.services.planrun.PlanRun`): the listing, the fmgr jobs, the block uploader, the
client's pool, the journal. Per-object failures are in the returned summary, not raised.
"""

from dataclasses import replace
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from wcs.commons.errors import InvalidArgument
from wcs.services.client_base import ClientBase
from wcs.services.events import Subscriber
from wcs.services.tree.model import Remote, TreeObserver

SourceLike = Union[str, Any, Tuple[Any, str]]
"""An fsspec URL (``s3://bucket/prefix``), a :class:`~wcs.services.migrate.source.Source`, or
``(filesystem, path)``."""


def is_fsspec_source(place: Any) -> bool:
    """Whether ``place`` names another store: a URL with a scheme other than ``wcs://``, a
    :class:`~wcs.services.migrate.source.Source`, or ``(fsspec filesystem, path)``."""
    if isinstance(place, str):
        scheme, sep, _rest = place.partition("://")
        return bool(sep) and scheme.isidentifier() and scheme.lower() != "wcs"
    if isinstance(place, tuple) and len(place) == 2 and isinstance(place[1], str):
        return hasattr(place[0], "protocol") and hasattr(place[0], "ls")
    if isinstance(place, (Remote, tuple)) or not hasattr(place, "url_for"):
        return False
    from wcs.services.migrate.source import Source  # loaded by a migration, not by the client

    return isinstance(place, Source)


def _remote(place: Any) -> Remote:
    if isinstance(place, Remote):
        return place
    if isinstance(place, str) and place[:6].lower() == "wcs://":
        bucket, _, prefix = place[6:].partition("/")
        if bucket:
            return Remote(bucket, prefix)
    if isinstance(place, tuple) and len(place) == 2 and all(isinstance(p, str) for p in place):
        return Remote(place[0], place[1])
    raise InvalidArgument("the destination of a migration is a bucket prefix: Remote(bucket, prefix), "
                          "(bucket, prefix) or wcs://bucket/prefix, got %r" % (place,))


class MigrateMethods(ClientBase):
    """Migrations and plans (one of the facade's method groups)."""

    def migrate(self, source: SourceLike, destination: Any, *, options: Any = None,
                observer: Optional[TreeObserver] = None, subscribers: Iterable[Subscriber] = (),
                **settings: Any) -> Any:
        """Make ``destination`` (a bucket prefix) hold what the fsspec ``source`` holds.

        Objects the service can reach by URL are fetched by the service itself (presigned where the
        source's filesystem signs, as S3's does); the others are copied through this client. A
        journal (``journal=``, default ``~/.cache/wcs/migrations.sqlite``) makes a re-run do only
        what is new, changed or failed, and follow jobs a killed run left in flight.
        ``plan="plan.jsonl"`` writes the decisions and changes nothing (:mod:`wcs.services.plans`).
        Options: :class:`~wcs.services.migrate.model.MigrateOptions` and/or its fields as keywords
        (``filters`` may be ``(sign, pattern)`` pairs, as for :meth:`sync`).

        Returns:
            A :class:`~wcs.services.migrate.model.MigrationSummary`.

        Raises:
            InvalidArgument: bad options, an unknown protocol (its fsspec package not installed), an
                HTTP origin without ``files_from``.
            LocalFileError: the journal, the list or the plan file cannot be used.
        """
        from wcs.services.migrate.engine import MigrationRun
        from wcs.services.migrate.journal import Journal, default_journal_path, migration_name
        from wcs.services.migrate.listfile import ListedPaths
        from wcs.services.migrate.model import MigrateOptions
        from wcs.services.migrate.source import Source
        from wcs.services.tree.filters import FilterRules

        filters = settings.get("filters")
        if filters is not None and not isinstance(filters, FilterRules):
            settings["filters"] = FilterRules.from_args(list(filters)) if filters else None
        try:
            opts = replace(options or MigrateOptions(), **settings).check()
        except TypeError as exc:
            raise InvalidArgument(str(exc)) from None
        remote = _remote(destination)
        listed = ListedPaths(opts.files_from) if opts.files_from else None
        try:
            if isinstance(source, Source):
                src = source
            elif isinstance(source, tuple):
                src = Source(source[0], source[1], files_from=listed, md5=opts.md5, server_side=opts.server_side)
            else:
                src = Source.from_url(str(source), opts.storage_options, files_from=listed, md5=opts.md5,
                                      server_side=opts.server_side)
            path = default_journal_path() if opts.journal == "" else opts.journal
            transfer = replace(self.cfg.transfer, concurrency=max(self.cfg.transfer.concurrency, opts.transfers))
            with Journal(path, migration_name(str(src), str(remote))) as journal:
                run = MigrationRun(src, remote, opts, objects=self.bucket_manager(), jobs=self.fmgr_service(),
                                   uploads=self.block_uploader(transfer),
                                   scheduler=self.scheduler_for(replace(transfer, concurrency=opts.transfers
                                                                        + opts.jobs)),
                                   journal=journal, observer=observer, subscribers=subscribers,
                                   listing=self.list_entries)
                return run.run()
        finally:
            if listed is not None:
                listed.close()

    def apply_plan(self, path: str, *, observer: Any = None, subscribers: Iterable[Subscriber] = (),
                   storage_options: Optional[Dict[str, Any]] = None, **settings: Any) -> Any:
        """Carry out the plan file ``path`` (written by ``sync(..., plan=...)``), each action only after
        its facts are checked again: an object changed since the plan is reported, never overwritten.

        ``settings``: :class:`~wcs.services.planrun.RunSettings` fields (``transfers``, ``batch``...);
        ``storage_options``: for the filesystems of the plan's other-store URLs.

        Returns:
            A :class:`~wcs.services.planrun.PlanSummary`.

        Raises:
            PlanError: not a plan, or cut short. LocalFileError: it cannot be read.
        """
        from wcs.services.plans import read_plan

        header, actions = read_plan(path)
        return self._run_actions(actions, path, header.get("local_root"), observer, subscribers, storage_options,
                                 settings)

    def run_batch(self, path: str, *, observer: Any = None, subscribers: Iterable[Subscriber] = (),
                  storage_options: Optional[Dict[str, Any]] = None, **settings: Any) -> Any:
        """Carry out a batch file of ``cp``/``mv``/``rm``/``fetch`` lines (:mod:`wcs.services.batchfile`)
        as one plan: one summary for all.

        Raises:
            InvalidArgument: a malformed line (every one is named; nothing is done then).
            LocalFileError: the file cannot be read.
        """
        from wcs.services.batchfile import check_batch, read_batch

        problems = check_batch(path)
        if problems:
            more = " (and %d more)" % (len(problems) - 5) if len(problems) > 5 else ""
            raise InvalidArgument("; ".join(problems[:5]) + more)
        return self._run_actions(read_batch(path), path, None, observer, subscribers, storage_options, settings)

    def _run_actions(self, actions: Iterable[Dict[str, Any]], source: str, local_root: Optional[str], observer: Any,
                     subscribers: Iterable[Subscriber], storage_options: Optional[Dict[str, Any]],
                     settings: Dict[str, Any]) -> Any:
        from wcs.services.planrun import PlanRun, RunSettings

        options = dict(storage_options or {})
        filesystems: Dict[str, Any] = {}  # one filesystem per protocol for the whole run

        def opener(url: str) -> Tuple[Any, str]:
            protocol = url.partition("://")[0].lower()
            fs = filesystems.get(protocol)
            if fs is not None:
                return fs, fs._strip_protocol(url)
            try:
                import fsspec  # type: ignore[import-untyped, import-not-found]

                fs, path = fsspec.core.url_to_fs(url, **options)
            except (ImportError, ValueError) as exc:
                raise InvalidArgument("cannot open %s: %s" % (url, exc)) from None
            filesystems[protocol] = fs
            return fs, path

        try:
            run_settings = replace(RunSettings(local_root=local_root), **settings)
        except TypeError as exc:
            raise InvalidArgument(str(exc)) from None
        transfer = replace(self.cfg.transfer, concurrency=max(self.cfg.transfer.concurrency, run_settings.transfers))
        run = PlanRun(objects=self.bucket_manager(), uploads=self.form_uploader(transfer),
                      multipart=self.block_uploader(transfer), downloads=self.downloader(transfer),
                      jobs=self.fmgr_service(), scheduler=self.scheduler_for(replace(
                          transfer, concurrency=run_settings.transfers + run_settings.jobs)),
                      transfer=transfer, opener=opener, settings=run_settings, observer=observer,
                      subscribers=subscribers, source=source)
        return run.run(actions)
