"""Parallel ranged download of one large object into one preallocated file, resumable across runs.

The object (size and etag known up front, from ``stat`` or a ``HEAD``) is cut into parts so that
the connections finish together (:mod:`wcs.services.partplan`). Each part is one ``Range`` GET on
the client's scheduler, written at its offset in a partial file (preallocated to the object's size)
while the SHA-1 of each 4 MiB etag block it holds whole is computed; a block shared by two parts
(a boundary of the evenly cut last wave falls inside it) is hashed from disk once every piece of it
is there. Every response must carry the same object (the ``ETag`` when the server sends one, and
the total size in ``Content-Range``). The whole-file etag is then computed from the per-block
SHA-1s, and only if it matches is the file renamed into place.

The partial file and its checkpoint live in the target's resumable staging folder
(:mod:`wcs.commons.staging`: ``.wcs-dl-<digest of the name>`` beside the target, made by this
program and marked as its own, so that no key and no planted symlink can take its place and a
name of any length fits). The JSON checkpoint (:mod:`wcs.services.dlcheckpoint`, written atomically
as parts finish, after their bytes are fsynced) lists the blocks on disk with their digests.
Running the same download again after an interruption (Ctrl-C, SIGKILL, a lost network) fetches
only the blocks it does not list, provided the object's size and hash are unchanged; if the object
changed, the download starts over. The checkpoint is not taken on trust: each block it lists is
read back and hashed before it is reused, and a block whose bytes on disk no longer match its
digest is fetched again; if the reused blocks still do not add up to the object's etag, the
download starts over once from nothing. The folder is removed on success.
"""

import logging
import os
import threading
from typing import BinaryIO, Dict, Iterable, List, Mapping, Optional, Tuple

from wcs.commons import fsutil
from wcs.commons.errors import IntegrityError, LocalFileError, ObjectChanged, WcsError
from wcs.commons.http import HttpClient, Result
from wcs.commons.settings import TransferConfig
from wcs.commons.staging import TEMPORARY, Staging, resumable_name
from wcs.commons.util import BLOCK_SIZE, EtagHasher, etag_from_block_digests
from wcs.services.dlcheckpoint import Checkpoint, CheckpointStore
from wcs.services.events import Notifier
from wcs.services.groupcommit import GroupCommit
from wcs.services.partplan import Part, block_count, block_span, missing_ranges, plan_parts, plan_ranges
from wcs.services.scheduler import Scheduler
from wcs.services.sinks import HashingSink

__all__ = ["RangedDownloader", "Checkpoint", "CheckpointStore", "CHECKPOINT_NAME", "PARTIAL_NAME", "staging_path",
           "part_size_for"]

log = logging.getLogger(__name__)

PARTIAL_NAME = "partial"
CHECKPOINT_NAME = "checkpoint.json"
READ_SIZE = 1024 * 1024


class _ReusedPartsWrong(WcsError):
    """Blocks kept from an earlier run are not the object's after all (their digests agree with a
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


def staging_path(target: str) -> str:
    """The staging folder of a ranged download of ``target`` (the same at every run, so that a re-run finds it)."""
    directory, name = os.path.split(target)
    return os.path.join(directory, resumable_name(name))


def _block_digest(fd: int, index: int, size: int) -> str:
    """The SHA-1 (hex) of block ``index`` of the ``size``-byte object, read from the open file ``fd``."""
    first, last = block_span(index, size)
    hasher = EtagHasher()
    position = first
    while position <= last:
        data = os.pread(fd, min(READ_SIZE, last + 1 - position), position) if hasattr(os, "pread") else \
            _read_at(fd, position, min(READ_SIZE, last + 1 - position))
        if not data:
            return ""  # shorter than it should be: matches no digest
        hasher.update(data)
        position += len(data)
    return hasher.block_digests()[0].hex()


def _read_at(fd: int, position: int, size: int) -> bytes:
    os.lseek(fd, position, os.SEEK_SET)
    return os.read(fd, size)


class _Ledger:
    """The blocks being fetched, and how many of their bytes are not on disk yet.

    A block whose bytes come from more than one part (a boundary of an evenly cut wave falls inside
    it) is complete only when the last of those parts is on disk.
    """

    def __init__(self, size: int, parts: Iterable[Part]) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._missing: Dict[int, int] = {}
        for first, last in parts:
            for index in range(first // BLOCK_SIZE, last // BLOCK_SIZE + 1):
                start, end = block_span(index, size)
                self._missing.setdefault(index, end + 1 - start)

    def landed(self, first: int, last: int) -> List[int]:
        """Bytes ``first``..``last`` are on disk: the blocks this completes."""
        done = []
        with self._lock:
            for index in range(first // BLOCK_SIZE, last // BLOCK_SIZE + 1):
                start, end = block_span(index, self.size)
                self._missing[index] -= min(last, end) + 1 - max(first, start)
                if self._missing[index] == 0:
                    done.append(index)
        return done


def _inline_digests(first: int, last: int, size: int, hasher: EtagHasher) -> Dict[int, str]:
    """The blocks a part hashed on the way in (it skipped the bytes before its first block boundary)."""
    index = -(-first // BLOCK_SIZE)
    out = {index + i: digest.hex() for i, digest in enumerate(hasher.digests)}
    if last == size - 1 and hasher.filled:
        out[index + len(hasher.digests)] = hasher.block_digests()[-1].hex()  # the object's short last block
    return out


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
                and (checkpoint.size, checkpoint.hash, checkpoint.name) == (size, expected_hash, name)
            if checkpoint is not None and not resumed:
                log.warning("%s: the object changed since the interrupted download (or its partial file is gone): "
                            "starting over", target)
            if not resumed or checkpoint is None:
                if fd >= 0:
                    os.close(fd)
                fsutil.discard(staging.file(PARTIAL_NAME))
                store.remove()
                checkpoint = Checkpoint(size, expected_hash, url, name=name)
                fd = staging.new_file(PARTIAL_NAME)
            os.ftruncate(fd, size)
            identity = _identity(os.fstat(fd))
            if resumed:
                self._check_reused(fd, checkpoint, target)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            raise LocalFileError("cannot write %s: %s" % (staging.file(PARTIAL_NAME), exc.strerror or exc)) from None
        os.close(fd)
        store.save(checkpoint)
        reused = sorted(checkpoint.blocks)
        if reused:
            # The holes lie where the interrupted run left them: block-aligned parts over each.
            parts = plan_ranges(missing_ranges(size, reused), part_size)
            log.info("%s: resuming, %d of %d blocks already on disk", target, len(reused), block_count(size))
        else:
            parts = plan_parts(size, part_size, self.transfer.concurrency)

        def block_bytes(index: int) -> int:
            first, last = block_span(index, size)
            return last + 1 - first

        if reused:  # the next delta is what was already on disk: done, but not speed
            notifier.resumed(len(reused), block_count(size))
        notifier.progress(sum(block_bytes(index) for index in reused))
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
        absent = [index for index in range(block_count(size)) if index not in checkpoint.blocks]
        if absent:  # cannot happen when every part succeeded; never assemble a file with holes
            staging.remove()
            raise IntegrityError("download of %s: blocks %s were never recorded" % (url, absent[:10]))
        local = etag_from_block_digests(bytes.fromhex(checkpoint.blocks[index]) for index in range(block_count(size)))
        if local != expected_hash:
            notifier.progress(-size)
            staging.remove()
            if reused:
                raise _ReusedPartsWrong("the %d block(s) kept from an earlier run and the new ones hash to %s, "
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
    def _check_reused(fd: int, checkpoint: Checkpoint, target: str) -> None:
        """Drop from ``checkpoint`` every block whose bytes on disk do not hash to its recorded digest."""
        count = block_count(checkpoint.size)
        for index, recorded in sorted(checkpoint.blocks.items()):
            if index >= count or _block_digest(fd, index, checkpoint.size) != recorded:
                log.warning("%s: block %d on disk does not match the checkpoint; fetching it again", target, index)
                del checkpoint.blocks[index]

    def _fetch(self, url: str, part_path: str, identity: Tuple[int, int], parts: List[Part],
               checkpoint: Checkpoint, store: CheckpointStore, notifier: Notifier, etag_header: Optional[str],
               staging: Staging) -> Optional[Result]:
        # Workers finishing parts together share one checkpoint write (see GroupCommit).
        recorder: GroupCommit[str] = GroupCommit(lambda: store.dumps(checkpoint), store.write)
        ledger = _Ledger(checkpoint.size, parts)
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
            def fetch(first: int, last: int) -> Result:
                with _open_partial(part_path, identity) as out:
                    def write_at(position: int, data: bytes) -> None:
                        out.seek(first + position)
                        out.write(data)

                    sink = HashingSink(write_at, part_path, notifier, skip=-first % BLOCK_SIZE)
                    try:
                        result = self.http.get_body(url, sink, headers=self.transfer.traffic_headers(), start=first,
                                                    end=last, restart=sink.restart, cancel=group.cancel_event,
                                                    check=check, retries=self.transfer.connection_retries)
                    except BaseException:
                        sink.take_back()
                        raise
                    if not result.ok:
                        sink.take_back()
                        return result
                    out.flush()
                    os.fsync(out.fileno())
                    inline = _inline_digests(first, last, size, sink.hasher)
                    # Blocks shared with other parts are hashed from disk once all their pieces are there.
                    digests = {index: inline.get(index) or _block_digest(out.fileno(), index, size)
                               for index in ledger.landed(first, last)}

                def remember() -> None:
                    checkpoint.blocks.update(digests)

                recorder.commit(remember)  # recorded at once: a re-run after a kill does not fetch these again
                return result

            for first, last in parts:
                group.submit(fetch, first, last)
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
