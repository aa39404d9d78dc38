"""What one action of a plan does (:mod:`wcs.services.planrun` decides when): the facts of each side
now, compared with those the plan recorded, and the action carried out.

* facts now: a ``stat`` of the object, an ``lstat`` of the file, the other store's ``info``
  (:meth:`PlanActions.now`); :meth:`PlanActions.check` says what changed since the plan, on either side;
* carrying out: ``upload`` (form or resumable blocks, the tree's file mover), ``download`` (verified,
  renamed into place), a URL's bytes through the client (:meth:`PlanActions.stream`), ``copy``/``move``
  between WCS objects (server-side, the copy's hash checked; a ``move`` between a local file and WCS
  removes the source once the copy is checked), a deletion (:meth:`PlanActions.delete`).

Each raises :class:`~wcs.commons.errors.WcsError` or ``OSError`` when it cannot be done.
"""

import os
import threading
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from wcs.commons.errors import InvalidArgument, LocalFileError, WcsError
from wcs.commons.result import ObjectInfo
from wcs.commons.settings import TransferConfig
from wcs.services import plans
from wcs.services.bucket import BucketManager
from wcs.services.download import Downloader
from wcs.services.events import Subscriber
from wcs.services.formupload import FormUploader
from wcs.services.migrate.source import HTTP_PROTOCOLS, etag_of, mtime_of, plain_md5
from wcs.services.planmodel import RunSettings
from wcs.services.plans import differences
from wcs.services.tree import safepath
from wcs.services.tree.hashcache import EtagCache
from wcs.services.tree.localtree import LocalFile
from wcs.services.tree.mover import FileMover
from wcs.services.tree.plan import TRANSFER, Action
from wcs.services.uploads import BlockUploader

Opener = Callable[[str], Tuple[Any, str]]
"""``url -> (fsspec filesystem, path)``."""


class PlanActions:
    """The actions of one run, over the services it receives; :attr:`cancel` is the event that stops the
    transfers (the run sets it to its task group's)."""

    def __init__(self, *, objects: BucketManager, uploads: FormUploader, multipart: BlockUploader,
                 downloads: Downloader, transfer: TransferConfig, opener: Opener, settings: RunSettings,
                 subscribers: Sequence[Subscriber]) -> None:
        self.objects = objects
        self.uploads = uploads
        self.multipart = multipart
        self.downloads = downloads
        self.transfer = transfer
        self.opener = opener
        self.settings = settings
        self.subscribers = subscribers
        self.cancel = threading.Event()

    # -- facts now ----------------------------------------------------------------------------------

    def wcs_now(self, facts: Dict[str, Any]) -> Dict[str, Any]:
        """The facts of the WCS object ``facts`` names, as they are now (``exists: False`` when it is gone)."""
        result = self.objects.stat(facts["bucket"], facts["key"])
        if result.code == 404:
            return plans.wcs_facts(facts["bucket"], facts["key"])
        if not result.ok or not isinstance(result.data, dict):
            raise WcsError("cannot stat %s: HTTP %d: %s" % (plans.describe(facts), result.code, result.message))
        return plans.wcs_facts(facts["bucket"], facts["key"], ObjectInfo.from_item(result.data, facts["key"]))

    def url_now(self, facts: Dict[str, Any]) -> Tuple[Dict[str, Any], Any, str]:
        """The facts of the other store's object at ``facts["url"]`` now, its filesystem and its path."""
        fs, path = self.opener(facts["url"])
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return {"url": facts["url"], "exists": False}, fs, path
        now = {"url": facts["url"], "size": info.get("size"), "etag": etag_of(info), "mtime": mtime_of(info),
               "md5": plain_md5(info)}
        return now, fs, path

    def now(self, facts: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """The facts now of whatever side ``facts`` describes (None: no side)."""
        kind = plans.kind_of(facts)
        if kind == "wcs" and facts is not None:
            return self.wcs_now(facts)
        if kind == "local" and facts is not None:
            return plans.stat_facts(facts["path"])
        if kind == "url" and facts is not None:
            return self.url_now(facts)[0]
        return None

    def check(self, action: Dict[str, Any]) -> Optional[str]:
        """What changed since the plan, on either side (None: nothing)."""
        for side in ("src", "dst"):
            change = differences(action.get(side), self.now(action.get(side)))
            if change is not None:
                return change
        return None

    # -- carrying out ------------------------------------------------------------------------------

    def carry_out(self, action: Dict[str, Any]) -> int:
        """Do ``action`` (its facts checked already); returns the bytes that crossed the client."""
        op, src, dst = action["op"], action.get("src") or {}, action.get("dst") or {}
        kinds = (plans.kind_of(src), plans.kind_of(dst))
        if kinds == ("local", "wcs") and op in ("upload", "move"):
            moved = self._upload_file(src["path"], dst["bucket"], dst["key"])
            if op == "move":
                remove_checked(src["path"], moved)
            return moved
        if kinds == ("url", "wcs") and op in ("upload", "fetch"):
            return self.stream(src, dst)
        if kinds == ("wcs", "local") and op in ("download", "move"):
            moved = self._download(src, dst["path"])
            if op == "move":
                self._delete_object(src)
            return moved
        if kinds == ("wcs", "wcs") and op in ("copy", "move"):
            return self._server_copy(src, dst, move=op == "move")
        raise InvalidArgument("cannot %s %s to %s" % (op, plans.describe(src), plans.describe(dst)))

    def _mover(self, bucket: str, root: str) -> FileMover:
        return FileMover(bucket=bucket, prefix="", root=root, uploads=self.uploads, multipart=self.multipart,
                         downloads=self.downloads, record_folder=self.transfer.tmp_record_folder, cache=EtagCache(None),
                         subscribers=list(self.subscribers), multipart_threshold=self.settings.multipart_threshold,
                         follow_symlinks=False, cancel=self.cancel)

    def _upload_file(self, path: str, bucket: str, key: str) -> int:
        try:
            f = LocalFile.from_stat(key, path, os.stat(path))
        except OSError as exc:
            raise LocalFileError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
        return self._mover(bucket, os.path.dirname(path)).upload(Action(TRANSFER, key, "plan", f))

    def _download(self, src: Dict[str, Any], path: str) -> int:
        path = os.path.abspath(path)
        root = self.settings.local_root
        if not root or os.path.commonpath([os.path.abspath(root), path]) != os.path.abspath(root):
            root = os.path.dirname(path)
        root = os.path.abspath(root)
        os.makedirs(root, exist_ok=True)
        target = safepath.local_path(root, os.path.relpath(path, root).replace(os.sep, "/"))
        safepath.prepare_parent(root, target)
        safepath.check_target(root, target)
        size, expected = src.get("size"), src.get("hash")
        if size is None:  # a batch line: the object as it is now
            now = self.wcs_now(src)
            if now.get("exists") is False:
                raise WcsError("%s does not exist" % plans.describe(src))
            size, expected = now["size"], now.get("hash")
        result = self.downloads.fetch(self.downloads.download_url(src["bucket"], src["key"]), target, size=size,
                                      expected_hash=expected or None, subscribers=self.subscribers,
                                      bucket=src["bucket"], key=src["key"])
        if not result.ok:
            raise WcsError("download failed: HTTP %d: %s" % (result.code, result.message))
        return int(size)

    def stream(self, src: Dict[str, Any], dst: Dict[str, Any]) -> int:
        """A URL the service could not fetch (or a plan's ``upload`` from another store): through the client."""
        fs, path = self.opener(src["url"])
        with fs.open(path, "rb") as fp:
            result = self.multipart.upload_stream(fp, dst["bucket"], dst["key"], overwrite=1,
                                                  subscribers=self.subscribers)
        if not result.ok:
            raise WcsError("upload failed: HTTP %d: %s" % (result.code, result.message))
        data = result.data if isinstance(result.data, dict) else {}
        return int(data.get("fsize") or src.get("size") or 0)

    def _server_copy(self, src: Dict[str, Any], dst: Dict[str, Any], move: bool) -> int:
        before = self.wcs_now(src)
        if before.get("exists") is False:
            raise WcsError("%s does not exist" % plans.describe(src))
        call = self.objects.move if move else self.objects.copy
        result = call(src["bucket"], src["key"], dst["bucket"], dst["key"])
        if not result.ok:
            raise WcsError("%s failed: HTTP %d: %s" % ("move" if move else "copy", result.code, result.message))
        after = self.wcs_now(dst)
        if after.get("hash") != before.get("hash"):
            raise WcsError("%s holds %s after the copy, not %s" % (plans.describe(dst), after.get("hash"),
                                                                   before.get("hash")))
        return 0  # nothing crossed the client

    def _delete_object(self, facts: Dict[str, Any]) -> None:
        result = self.objects.delete(facts["bucket"], facts["key"])
        if not result.ok and result.code != 404:
            raise WcsError("delete of %s failed: HTTP %d: %s" % (plans.describe(facts), result.code, result.message))

    def signed(self, fs: Any, path: str, url: str) -> Optional[str]:
        """A URL the service can fetch ``path`` of ``fs`` from (``url`` itself over http); None when the
        store cannot sign one (the bytes then go through the client: :meth:`stream`)."""
        protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        if any(p in HTTP_PROTOCOLS for p in protocols):
            return url
        try:
            return str(fs.sign(path, expiration=int(self.settings.url_expiry)))
        except NotImplementedError:
            return None

    def delete(self, facts: Dict[str, Any]) -> None:
        """Delete the object or the local file of a deletion's ``facts`` (a file only if it is regular)."""
        kind = plans.kind_of(facts)
        if kind == "wcs":
            self._delete_object(facts)
        elif kind == "local":
            remove_checked(facts["path"], facts.get("size"))
        else:
            raise InvalidArgument("cannot delete %s" % plans.describe(facts))


def remove_checked(path: str, size: Optional[int]) -> None:
    """Remove the regular file ``path`` (of ``size`` bytes when given); never a folder or a special file."""
    now = plans.stat_facts(path)
    if now.get("exists") is False:
        raise LocalFileError("%s is not a regular file any more; not removed" % path)
    if size is not None and now.get("size") != size:
        raise LocalFileError("%s changed since it was copied; not removed" % path)
    os.remove(path)

