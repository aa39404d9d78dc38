"""Parallel ranged download of one large object into one preallocated file, resumable across runs.

The object (size and etag known up front, from ``stat`` or a ``HEAD``) is cut into parts aligned to
the 4 MiB etag blocks. Each part is one ``Range`` GET on the client's scheduler, written at its
offset in a partial file (preallocated to the object's size) while the SHA-1 of each of its 4 MiB
blocks is computed; every response must carry the same object (the ``ETag`` when the server sends
one, and the total size in ``Content-Range``). The whole-file etag is then computed from the
per-block SHA-1s, and only if it matches is the file renamed into place.

The partial file and its checkpoint live in the target's resumable staging folder
(:mod:`wcs.commons.staging`: ``.wcs-dl-<digest of the name>`` beside the target, made by this
program and marked as its own, so that no key and no planted symlink can take its place and a
name of any length fits). The JSON checkpoint (written atomically after each part) lists the parts
on disk with their block digests. Running the same download again after an interruption (Ctrl-C,
SIGKILL, a lost network) fetches only the parts it does not list, provided the object's size and
hash are unchanged; if the object changed, the download starts over. The checkpoint is not taken
on trust: each part it lists is read back and hashed before it is reused, and a part whose bytes
on disk no longer match its digests is fetched again; if the reused parts still do not add up to
the object's etag, the download starts over once from nothing. The folder is removed on success.
"""

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Dict, List, Mapping, Optional, Tuple

from wcs.commons import fsutil
from wcs.commons.errors import IntegrityError, LocalFileError, ObjectChanged, WcsError
from wcs.commons.http import HttpClient, Result
from wcs.commons.settings import TransferConfig
from wcs.commons.staging import TEMPORARY, Staging, resumable_name
from wcs.commons.util import BLOCK_SIZE, EtagHasher, etag_from_block_digests
from wcs.services.events import Notifier
from wcs.services.groupcommit import GroupCommit
from wcs.services.scheduler import Scheduler
from wcs.services.sinks import HashingSink

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
PARTIAL_NAME = "partial"
CHECKPOINT_NAME = "checkpoint.json"
READ_SIZE = 1024 * 1024
MAX_CHECKPOINT_BYTES = 16 * 1024 * 1024  # a checkpoint of a 10 TB object is ~8 MB; anything bigger is not ours


class _ReusedPartsWrong(WcsError):
    """Parts kept from an earlier run are not the object's after all (their digests agree with a
    checkpoint that does not)."""


def _identity(st: os.stat_result) -> Tuple[int, int]:
    return (st.st_dev, st.st_ino)


def _open_partial(path: str, identity: Tuple[int, int]) -> BinaryIO:
    """The partial file, opened read-write, provided it is still the file this download made."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
                 | getattr(os, "O_NOFOLLOW", 0))
    if _identity(os.fstat(fd)) != identity:
        os.close(fd)
        raise LocalFileError("%s was replaced during the download" % path)
    return os.fdopen(fd, "rb+")


def part_size_for(transfer: TransferConfig) -> int:
    """The configured part size rounded up to whole 4 MiB etag blocks."""
    size = max(int(transfer.download_part_size), BLOCK_SIZE)
    return -(-size // BLOCK_SIZE) * BLOCK_SIZE


def plan_parts(size: int, part_size: int) -> List[Tuple[int, int, int]]:
    """``(index, first byte, last byte)`` of each part of a ``size``-byte object."""
    return [(i, start, min(start + part_size, size) - 1) for i, start in enumerate(range(0, size, part_size))]


@dataclass
class Checkpoint:
    """The parts of one object already on disk, with the SHA-1 (hex) of each of their 4 MiB blocks."""

    size: int
    hash: str
    part_size: int
    url: str = ""
    parts: Dict[int, List[str]] = field(default_factory=dict)
    name: str = ""  # the target's file name (its staging folder is named by a digest of it)

    def to_json(self) -> Dict[str, Any]:
        return {"format": FORMAT_VERSION, "size": self.size, "hash": self.hash, "part_size": self.part_size,
                "url": self.url, "name": self.name,
                "parts": {str(i): list(d) for i, d in sorted(self.parts.items())}}

    @classmethod
    def from_json(cls, data: Any) -> "Checkpoint":
        """Raises ValueError unless ``data`` is a well-formed checkpoint."""
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise ValueError("not a download checkpoint of format %d" % FORMAT_VERSION)
        size, part_size, digest, url = data.get("size"), data.get("part_size"), data.get("hash"), data.get("url")
        name = data.get("name")
        if not (isinstance(size, int) and isinstance(part_size, int) and size >= 0 and part_size > 0
                and isinstance(digest, str) and isinstance(url, str) and isinstance(name, str)
                and isinstance(data.get("parts"), dict)):
            raise ValueError("malformed checkpoint fields")
        parts: Dict[int, List[str]] = {}
        for index, digests in data["parts"].items():
            if not (index.isdigit() and isinstance(digests, list)
                    and all(isinstance(d, str) and len(d) == 40 for d in digests)):
                raise ValueError("malformed part %r" % (index,))
            parts[int(index)] = list(digests)
        return cls(size, digest, part_size, url, parts, name)


class CheckpointStore:
    """The checkpoint file of one partial download (``path``: in its staging folder)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> Optional[Checkpoint]:
        """The checkpoint, or None when there is none or it cannot be trusted (then the download starts over)."""
        try:
            data = fsutil.read_regular(self.path, MAX_CHECKPOINT_BYTES)  # no FIFO, device or huge file
            return None if data is None else Checkpoint.from_json(json.loads(data.decode("utf-8")))
        except (OSError, ValueError, RecursionError) as exc:  # RecursionError: deeply nested JSON
            log.warning("ignoring the download checkpoint %s: %s", self.path, exc)
            return None

    def save(self, checkpoint: Checkpoint) -> None:
        self.write(self.dumps(checkpoint))

    @staticmethod
    def dumps(checkpoint: Checkpoint) -> str:
        """The text :meth:`write` stores (a snapshot: the checkpoint may change afterwards)."""
        return json.dumps(checkpoint.to_json(), separators=(",", ":"))

    def write(self, text: str) -> None:
        with fsutil.atomic_write(self.path) as fp:
            fp.write(text)

    def remove(self) -> None:
        fsutil.discard(self.path)


def staging_path(target: str) -> str:
    """The staging folder of a ranged download of ``target`` (the same at every run, so that a re-run finds it)."""
    directory, name = os.path.split(target)
    return os.path.join(directory, resumable_name(name))


def _block_digests(fd: int, start: int, end: int) -> List[str]:
    """The SHA-1 (hex) of each 4 MiB block of bytes ``start``..``end`` of the open file ``fd``."""
    hasher = EtagHasher()
    position = start
    while position <= end:
        data = os.pread(fd, min(READ_SIZE, end + 1 - position), position) if hasattr(os, "pread") else \
            _read_at(fd, position, min(READ_SIZE, end + 1 - position))
        if not data:
            break  # shorter than it should be: the digests cannot match
        hasher.update(data)
        position += len(data)
    return [d.hex() for d in hasher.block_digests()]


def _read_at(fd: int, position: int, size: int) -> bytes:
    os.lseek(fd, position, os.SEEK_SET)
    return os.read(fd, size)


class RangedDownloader:
    """Downloads one object as parallel ranges on a scheduler (see the module docstring)."""

    def __init__(self, http: HttpClient, transfer: TransferConfig, scheduler: Scheduler) -> None:
        self.http = http
        self.transfer = transfer
        self.scheduler = scheduler

    def download(self, url: str, target: str, size: int, expected_hash: str, notifier: Notifier,
                 etag_header: Optional[str] = None) -> Result:
        """Fetch ``url`` (``size`` bytes, etag ``expected_hash``) into ``target``.

        Returns:
            ``Result(200, {"hash", "fsize", "path"}, headers)`` on success; the failing part's
            Result otherwise (the partial file and its checkpoint are kept for a re-run).

        Raises:
            LocalFileError: the partial file cannot be written.
            IntegrityError: the assembled bytes do not hash to ``expected_hash`` (nothing is kept).
            ObjectChanged: the object changed while it was being fetched (nothing is kept).
        """
        try:
            return self._download(url, target, size, expected_hash, notifier, etag_header, fresh=False)
        except _ReusedPartsWrong as exc:
            log.warning("%s: %s; downloading it again from the start", target, exc)
            return self._download(url, target, size, expected_hash, notifier, etag_header, fresh=True)

    def _download(self, url: str, target: str, size: int, expected_hash: str, notifier: Notifier,
                  etag_header: Optional[str], fresh: bool) -> Result:
        part_size = part_size_for(self.transfer)
        name = os.path.basename(target)
        try:
            staging = Staging.for_target(target)
        except OSError as exc:
            raise LocalFileError("cannot write beside %s: %s" % (target, exc.strerror or exc)) from None
        store = CheckpointStore(staging.file(CHECKPOINT_NAME))
        checkpoint = store.load() if staging.reused and not fresh else None
        fd = -1
        try:
            if checkpoint is not None:
                try:
                    fd = staging.open_file(PARTIAL_NAME)
                except OSError:
                    fd = -1
            resumed = checkpoint is not None and fd >= 0 and os.fstat(fd).st_size == size \
                and (checkpoint.size, checkpoint.hash, checkpoint.part_size, checkpoint.name) \
                == (size, expected_hash, part_size, name)
            if checkpoint is not None and not resumed:
                log.warning("%s: the object changed since the interrupted download (or its partial file is gone): "
                            "starting over", target)
            if not resumed or checkpoint is None:
                if fd >= 0:
                    os.close(fd)
                fsutil.discard(staging.file(PARTIAL_NAME))
                store.remove()
                checkpoint = Checkpoint(size, expected_hash, part_size, url, name=name)
                fd = staging.new_file(PARTIAL_NAME)
            os.ftruncate(fd, size)
            identity = _identity(os.fstat(fd))
            parts = plan_parts(size, part_size)
            if resumed:
                self._check_reused(fd, parts, checkpoint, target)
                log.info("%s: resuming, %d of %d parts already on disk", target, len(checkpoint.parts), len(parts))
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            raise LocalFileError("cannot write %s: %s" % (staging.file(PARTIAL_NAME), exc.strerror or exc)) from None
        os.close(fd)
        store.save(checkpoint)
        reused = [index for index, _, _ in parts if index in checkpoint.parts]

        if reused:  # the next delta is what was already on disk: done, but not speed
            notifier.resumed(len(reused), len(parts))
        notifier.progress(sum(end - start + 1 for i, start, end in parts if i in checkpoint.parts))
        part_path = staging.file(PARTIAL_NAME)
        try:
            failure = self._fetch(url, part_path, identity, parts, checkpoint, store, notifier, etag_header, staging)
        except BaseException:
            if staging.kind == TEMPORARY:
                staging.remove()  # no run can find it again
            raise
        if failure is not None:
            if staging.kind == TEMPORARY:
                staging.remove()
            return failure
        digests = [bytes.fromhex(d) for index, _, _ in parts for d in checkpoint.parts[index]]
        local = etag_from_block_digests(digests)
        if local != expected_hash:
            notifier.progress(-sum(end - start + 1 for _, start, end in parts))
            staging.remove()
            if reused:
                raise _ReusedPartsWrong("the %d part(s) kept from an earlier run and the new ones hash to %s, "
                                        "not to the object's %s" % (len(reused), local, expected_hash))
            raise IntegrityError("download of %s: the parts hash to %s, the object's hash is %s"
                                 % (url, local, expected_hash))
        try:
            with _open_partial(part_path, identity) as fp:
                fsutil.commit_temp(part_path, target, fileobj=fp)
        except OSError as exc:
            raise LocalFileError("cannot write %s: %s" % (target, exc.strerror or exc)) from None
        staging.remove()
        return Result(200, {"hash": local, "fsize": size, "path": target}, {})

    @staticmethod
    def _check_reused(fd: int, parts: List[Tuple[int, int, int]], checkpoint: Checkpoint, target: str) -> None:
        """Drop from ``checkpoint`` every part whose bytes on disk do not hash to its recorded digests."""
        for index, start, end in parts:
            recorded = checkpoint.parts.get(index)
            if recorded is not None and _block_digests(fd, start, end) != recorded:
                log.warning("%s: part %d on disk does not match the checkpoint; fetching it again", target, index)
                del checkpoint.parts[index]

    def _fetch(self, url: str, part_path: str, identity: Tuple[int, int], parts: List[Tuple[int, int, int]],
               checkpoint: Checkpoint, store: CheckpointStore, notifier: Notifier, etag_header: Optional[str],
               staging: Staging) -> Optional[Result]:
        # Workers finishing parts together share one checkpoint write (see GroupCommit).
        recorder: GroupCommit[str] = GroupCommit(lambda: store.dumps(checkpoint), store.write)
        failure: Optional[Result] = None
        error: Optional[BaseException] = None
        size = checkpoint.size

        def check(status: int, headers: Mapping[str, str]) -> None:
            etag = (headers.get("ETag") or "").strip('"')
            if etag_header and etag and etag != etag_header:
                raise ObjectChanged("%s changed while it was downloaded (ETag %s, expected %s)"
                                    % (url, etag, etag_header))
            total = (headers.get("Content-Range") or "").rpartition("/")[2]
            if status == 206 and total.isdigit() and int(total) != size:
                raise ObjectChanged("%s changed while it was downloaded (%s bytes, expected %d)"
                                    % (url, total, size))

        with self.scheduler.group() as group:
            def fetch(index: int, start: int, end: int) -> Result:
                with _open_partial(part_path, identity) as out:
                    def write_at(position: int, data: bytes) -> None:
                        out.seek(start + position)
                        out.write(data)

                    sink = HashingSink(write_at, part_path, notifier)
                    try:
                        result = self.http.get_body(url, sink, headers=self.transfer.traffic_headers(), start=start,
                                                    end=end, restart=sink.restart, cancel=group.cancel_event,
                                                    check=check, retries=self.transfer.connection_retries)
                    except BaseException:
                        sink.take_back()
                        raise
                    if not result.ok:
                        sink.take_back()
                        return result
                    out.flush()
                    os.fsync(out.fileno())
                digests = [d.hex() for d in sink.hasher.block_digests()]

                def remember() -> None:
                    checkpoint.parts[index] = digests

                recorder.commit(remember)  # recorded at once: a re-run after a kill does not fetch this part again
                return result

            for index, start, end in parts:
                if index not in checkpoint.parts:
                    group.submit(fetch, index, start, end)
            for future in group.as_completed():
                if future.cancelled():
                    continue
                exc = future.exception()
                if exc is not None:
                    group.stop_new()
                    error = error or exc
                elif not future.result().ok:
                    group.stop_new()
                    failure = failure or future.result()
        if isinstance(error, ObjectChanged):
            staging.remove()
        if error is not None:
            raise error
        return failure
