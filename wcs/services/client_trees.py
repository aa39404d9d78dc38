"""The tree methods of :class:`~wcs.services.client.Client` (not in the official SDK): ``sync``,
``upload_tree`` (``wcscmd put -r``), ``download_tree`` (``wcscmd get -r``), and between two bucket
prefixes ``copy_tree`` / ``move_tree`` (``cp -r`` / ``mv -r``) and ``sync``.

Each builds the services a :class:`~wcs.services.tree.engine.TreeRun` (a local folder and a
prefix) or a :class:`~wcs.services.tree.remoterun.RemoteTreeRun` (two prefixes) works with
(uploaders, downloader, the facade's listing, jobs, the client's pool grown to ``transfers``), runs
it and returns its :class:`~wcs.services.tree.model.TreeSummary`; per-file failures are in the
summary, not raised.
Options are a :class:`~wcs.services.tree.model.TreeOptions` and/or its fields as keywords;
``filters`` may be given as ``(sign, pattern)`` pairs (``"+"``, ``"-"``, or ``"file"`` for a filter file);
``files_from="list.txt"`` limits a run to the paths of a list file (:mod:`wcs.services.migrate.listfile`).
"""

import os
from dataclasses import replace
from typing import Any, Iterable, Optional, Tuple, Union, cast

from wcs.commons.errors import InvalidArgument
from wcs.services.client_migrate import MigrateMethods, is_fsspec_source
from wcs.services.events import Subscriber
from wcs.services.tree.filters import FilterRules
from wcs.services.tree.model import Remote, TreeObserver, TreeOptions, TreeSummary
from wcs.services.tree.plan import DOWNLOAD, REMOTE, UPLOAD

PathLike = Union[str, "os.PathLike[str]"]
Place = Union[PathLike, Remote, Tuple[str, str]]


def _options(base: TreeOptions, options: Optional[TreeOptions], settings: Any) -> TreeOptions:
    settings = dict(settings)
    files_from = settings.pop("files_from", None)
    filters = settings.get("filters")
    if filters is not None and not isinstance(filters, FilterRules):
        # Plain data is fine too: [("-", "*.tmp"), ("+", "*.jpg"), ("file", "rules.txt")], in order.
        settings = dict(settings, filters=FilterRules.from_args(list(filters)) if filters else None)
    try:
        opts = replace(options or base, **settings).check()
    except TypeError as exc:  # an unknown keyword
        raise InvalidArgument(str(exc)) from None
    if files_from:
        # Only the paths listed take part (a temporary sqlite list, closed when the run ends).
        from wcs.services.migrate.listfile import ListedFilter, ListedPaths

        opts = replace(opts, filters=ListedFilter(ListedPaths(os.fspath(files_from)), opts.filters))
    return opts


class TreeMethods(MigrateMethods):
    """The tree methods of a Client (one of the facade's method groups; migrations come with them, as
    :meth:`sync` from another store is one)."""

    def _run_tree(self, direction: str, local_dir: PathLike, remote: Remote, options: TreeOptions,
                  observer: Optional[TreeObserver], subscribers: Iterable[Subscriber]) -> TreeSummary:
        # The engine (the walker, the etag cache and sqlite3, the mover) is loaded by the first tree
        # call, not by ``import wcs.services.client``: most programs never transfer a tree.
        from wcs.services.tree.engine import TreeRun, tree_transfer

        transfer = tree_transfer(self.cfg.transfer, options)
        try:
            run = TreeRun(direction, os.fspath(local_dir), remote, options, uploads=self.form_uploader(transfer),
                          multipart=self.block_uploader(transfer), downloads=self.downloader(transfer),
                          objects=self.bucket_manager(), jobs=self.fmgr_service(),
                          scheduler=self.scheduler_for(transfer), transfer=transfer, observer=observer,
                          subscribers=subscribers, listing=self.list_entries)
            return run.run()
        finally:
            _close_list(options)

    def _run_remote(self, source: Remote, destination: Remote, options: TreeOptions,
                    observer: Optional[TreeObserver]) -> TreeSummary:
        from wcs.services.tree.remoterun import RemoteTreeRun

        transfer = replace(self.cfg.transfer, concurrency=max(self.cfg.transfer.concurrency, options.transfers))
        try:
            run = RemoteTreeRun(source, destination, options, objects=self.bucket_manager(), jobs=self.fmgr_service(),
                                listing=self.list_entries, scheduler=self.scheduler_for(transfer), observer=observer)
            return run.run()
        finally:
            _close_list(options)

    def copy_tree(self, source: Union[Remote, Tuple[str, str]], destination: Union[Remote, Tuple[str, str]], *,
                  options: Optional[TreeOptions] = None, observer: Optional[TreeObserver] = None,
                  **settings: Any) -> TreeSummary:
        """Copy every object under one bucket prefix to another (``wcscmd cp -r wcs://... wcs://...``),
        server-side: no object data passes through the client.

        Every object is copied, replacing what the destination has under the same name (the
        summary's ``replaced`` counts those), unless ``skip_existing=True`` (no clobber). Each copy
        is verified by listing the destination afterwards.

        Raises:
            InvalidArgument: the two prefixes overlap (same bucket, one inside the other), or bad options.
        """
        opts = _options(TreeOptions(sync=False), options, settings)
        return self._run_remote(_remote(source), _remote(destination), opts, observer)

    def move_tree(self, source: Union[Remote, Tuple[str, str]], destination: Union[Remote, Tuple[str, str]], *,
                  options: Optional[TreeOptions] = None, observer: Optional[TreeObserver] = None,
                  **settings: Any) -> TreeSummary:
        """:meth:`copy_tree`, then delete each source object whose copy was verified (``mv -r``);
        ``sources_deleted`` in the summary counts them. A source object whose copy failed stays.

        Raises:
            InvalidArgument: as :meth:`copy_tree`.
        """
        opts = _options(TreeOptions(sync=False, move=True), options, settings)
        return self._run_remote(_remote(source), _remote(destination), opts, observer)

    def upload_tree(self, local_dir: PathLike, bucket: str, prefix: str = "", *,
                    options: Optional[TreeOptions] = None, observer: Optional[TreeObserver] = None,
                    subscribers: Iterable[Subscriber] = (), **settings: Any) -> TreeSummary:
        """Upload every file under ``local_dir`` to ``bucket`` under ``prefix`` (``wcscmd put -r``).

        Every file is sent (existing objects replaced) unless ``skip_existing=True``; with
        ``sync=True`` this is :meth:`sync`. Keys are ``prefix/`` + the path below ``local_dir``,
        with ``/`` on every OS. ``move=True`` (``mv -r``) removes each file once its upload is
        verified and if it did not change meanwhile (``sources_deleted`` counts them).

        Raises:
            LocalFileError: ``local_dir`` is missing or not a folder.
            InvalidArgument: bad options.
        """
        opts = _options(TreeOptions(sync=False), options, settings)
        return self._run_tree(UPLOAD, local_dir, Remote(bucket, prefix), opts, observer, subscribers)

    def download_tree(self, bucket: str, prefix: str, local_dir: PathLike, *,
                      options: Optional[TreeOptions] = None, observer: Optional[TreeObserver] = None,
                      subscribers: Iterable[Subscriber] = (), **settings: Any) -> TreeSummary:
        """Download every object under ``prefix`` into ``local_dir`` (``wcscmd get -r``), created if needed.

        Keys that cannot be a path below ``local_dir`` (``../x``, ``/etc/x``...) are refused, each
        a failure of the summary. ``move=True`` (``mv -r``) then deletes the objects downloaded, in
        batches, those still unchanged (an object replaced meanwhile is kept and reported).

        Raises:
            ConfigError: no download domain for ``bucket``.
            LocalFileError: ``local_dir`` is a file or cannot be created.
        """
        opts = _options(TreeOptions(sync=False), options, settings)
        return self._run_tree(DOWNLOAD, local_dir, Remote(bucket, prefix), opts, observer, subscribers)

    def sync(self, source: Place, destination: Place, *, options: Optional[Any] = None,
             observer: Optional[TreeObserver] = None, subscribers: Iterable[Subscriber] = (),
             plan: Optional[str] = None, **settings: Any) -> TreeSummary:
        """Make ``destination`` hold what ``source`` holds: a local folder and a
        :class:`~wcs.services.tree.model.Remote` (or a ``(bucket, prefix)`` tuple), either way, or
        two Remotes (the same bucket or two); or ``source`` is another store (an fsspec URL such as
        ``s3://bucket/prefix``, or ``(filesystem, path)``): see :meth:`migrate`, which takes its options.

        ``plan="plan.jsonl"``: write every decision, with the facts it relied on, to that plan file
        (:mod:`wcs.services.plans`) and change nothing; :meth:`apply_plan` carries it out.

        A file is transferred when the destination lacks it, its size differs or its etag differs
        (``size_only=True``: size alone); ``delete=True`` then removes what the source lacks, only
        after a run without any error (``max_delete`` caps it; an empty source is refused).
        Between two Remotes both listings carry the etags: nothing is read to compare, and the
        copies are made by the service (no object data through the client), each checked by a
        listing afterwards.

        Raises:
            InvalidArgument: neither side is remote, two Remotes overlap, or bad options.
            LocalFileError, ConfigError: as :meth:`upload_tree` / :meth:`download_tree`.
        """
        if is_fsspec_source(source):
            return self.migrate(source, destination, options=options, observer=observer, subscribers=subscribers,
                                plan=plan, **settings)
        opts = _options(TreeOptions(sync=True), options, settings)
        src, dst = _as_remote(source), _as_remote(destination)
        if plan is not None:
            return self._plan_tree(source, destination, src, dst, opts, plan, observer)
        if src is None and dst is not None:
            return self._run_tree(UPLOAD, cast(PathLike, source), dst, opts, observer, subscribers)
        if src is not None and dst is None:
            return self._run_tree(DOWNLOAD, cast(PathLike, destination), src, opts, observer, subscribers)
        if src is not None and dst is not None:
            return self._run_remote(src, dst, opts, observer)
        raise InvalidArgument("sync needs a bucket prefix (Remote(bucket, prefix)) on at least one side")


    def _plan_tree(self, source: Place, destination: Place, src: Optional[Remote], dst: Optional[Remote],
                   opts: TreeOptions, plan: str, observer: Optional[TreeObserver]) -> TreeSummary:
        """``sync(..., plan=FILE)``: a dry run whose decisions, with their facts, go to FILE."""
        from wcs.services.plans import PlanWriter
        from wcs.services.tree.planfile import PlanObserver

        if src is None and dst is None:
            _close_list(opts)
            raise InvalidArgument("sync needs a bucket prefix (Remote(bucket, prefix)) on at least one side")
        opts = replace(opts, dry_run=True)
        settings = {"delete": opts.delete, "max_delete": opts.max_delete, "size_only": opts.size_only,
                    "skip_existing": opts.skip_existing, "follow_symlinks": opts.follow_symlinks,
                    "filters": opts.filters.describe() if opts.filters else None}
        stat = self.bucket_manager().stat
        if src is not None and dst is not None:
            with PlanWriter(plan, command="sync", source=str(src), destination=str(dst), options=settings) as writer:
                recorder = PlanObserver(writer, REMOTE, dst.bucket, dst.key_prefix, "", stat, observer, source=src)
                summary = self._run_remote(src, dst, opts, cast(TreeObserver, recorder))
                writer.delete_status = summary.delete_status
            return summary
        direction, remote = (UPLOAD, dst) if dst is not None else (DOWNLOAD, src)
        assert remote is not None
        local_dir = os.path.abspath(os.fspath(cast(PathLike, source if direction == UPLOAD else destination)))
        ends = (local_dir, str(remote)) if direction == UPLOAD else (str(remote), local_dir)
        with PlanWriter(plan, command="sync", source=ends[0], destination=ends[1], options=settings,
                        local_root=local_dir) as writer:
            recorder = PlanObserver(writer, direction, remote.bucket, remote.key_prefix, local_dir, stat, observer)
            summary = self._run_tree(direction, local_dir, remote, opts, cast(TreeObserver, recorder), ())
            writer.delete_status = summary.delete_status
        return summary


def _close_list(options: TreeOptions) -> None:
    close = getattr(options.filters, "close", None)  # a --files-from list (ListedFilter)
    if close is not None:
        close()


def _remote(place: Union[Remote, Tuple[str, str]]) -> Remote:
    remote = _as_remote(place)
    if remote is None:
        raise InvalidArgument("expected a Remote(bucket, prefix) or a (bucket, prefix) tuple, got %r" % (place,))
    return remote


def _as_remote(place: Place) -> Optional[Remote]:
    if isinstance(place, Remote):
        return place
    if isinstance(place, tuple) and len(place) == 2 and all(isinstance(p, str) for p in place):
        return Remote(place[0], place[1])
    return None
