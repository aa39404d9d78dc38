"""Parallel ranged download of one large object into one preallocated file, resumable across runs.

The object (size and etag known up front, from ``stat`` or a ``HEAD``) is cut into parts aligned to
the 4 MiB etag blocks. Each part is one ``Range`` GET on the client's scheduler, written at its
offset in ``.<name>.wcs-download`` beside the target (preallocated to the object's size) while the
SHA-1 of each of its 4 MiB blocks is computed; every response must carry the same object (the
``ETag`` when the server sends one, and the total size in ``Content-Range``). The whole-file etag
is then computed from the per-block SHA-1s without reading the file again, and only if it matches
is the file renamed into place.

A JSON checkpoint (``.<name>.wcs-download.json``, written atomically after each part) lists the
parts on disk with their block digests. Running the same download again after an interruption
(Ctrl-C, SIGKILL, a lost network) fetches only the parts it does not list, provided the object's
size and hash are unchanged; if the object changed, the download starts over. The checkpoint is
removed on success.
"""

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from wcs.commons import fsutil
from wcs.commons.errors import IntegrityError, LocalFileError, ObjectChanged
from wcs.commons.http import HttpClient, Result
from wcs.commons.settings import TransferConfig
from wcs.commons.util import BLOCK_SIZE, etag_from_block_digests
from wcs.services.events import Notifier
from wcs.services.groupcommit import GroupCommit
from wcs.services.scheduler import Scheduler
from wcs.services.sinks import HashingSink

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
PART_SUFFIX = ".wcs-download"
CHECKPOINT_SUFFIX = PART_SUFFIX + ".json"
MAX_CHECKPOINT_BYTES = 16 * 1024 * 1024  # a checkpoint of a 10 TB object is ~8 MB; anything bigger is not ours


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

    def to_json(self) -> Dict[str, Any]:
        return {"format": FORMAT_VERSION, "size": self.size, "hash": self.hash, "part_size": self.part_size,
                "url": self.url, "parts": {str(i): list(d) for i, d in sorted(self.parts.items())}}

    @classmethod
    def from_json(cls, data: Any) -> "Checkpoint":
        """Raises ValueError unless ``data`` is a well-formed checkpoint."""
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise ValueError("not a download checkpoint of format %d" % FORMAT_VERSION)
        size, part_size, digest, url = data.get("size"), data.get("part_size"), data.get("hash"), data.get("url")
        if not (isinstance(size, int) and isinstance(part_size, int) and size >= 0 and part_size > 0
                and isinstance(digest, str) and isinstance(url, str) and isinstance(data.get("parts"), dict)):
            raise ValueError("malformed checkpoint fields")
        parts: Dict[int, List[str]] = {}
        for name, digests in data["parts"].items():
            if not (name.isdigit() and isinstance(digests, list)
                    and all(isinstance(d, str) and len(d) == 40 for d in digests)):
                raise ValueError("malformed part %r" % (name,))
            parts[int(name)] = list(digests)
        return cls(size, digest, part_size, url, parts)


class CheckpointStore:
    """The checkpoint file of one partial download."""

    def __init__(self, part_path: str) -> None:
        self.path = part_path[: -len(PART_SUFFIX)] + CHECKPOINT_SUFFIX

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


def partial_path(target: str) -> str:
    """Where the partial download of ``target`` lives (a fixed name, so that a re-run finds it)."""
    directory, name = os.path.split(target)
    return os.path.join(directory, ".%s%s" % (name, PART_SUFFIX))


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
        part_size = part_size_for(self.transfer)
        part_path = partial_path(target)
        store = CheckpointStore(part_path)
        checkpoint = store.load()
        resumed = checkpoint is not None and os.path.isfile(part_path) and os.path.getsize(part_path) == size \
            and (checkpoint.size, checkpoint.hash, checkpoint.part_size) == (size, expected_hash, part_size)
        if checkpoint is not None and not resumed:
            log.warning("%s: the object changed since the interrupted download (or its partial file is gone): "
                        "starting over", target)
        if not resumed or checkpoint is None:
            checkpoint = Checkpoint(size, expected_hash, part_size, url)
            store.remove()
        else:
            log.info("%s: resuming, %d of %d parts already on disk", target, len(checkpoint.parts),
                     len(plan_parts(size, part_size)))
        try:
            fd = os.open(part_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
            try:
                if not resumed:
                    os.ftruncate(fd, 0)
                os.ftruncate(fd, size)
            finally:
                os.close(fd)
        except OSError as exc:
            raise LocalFileError("cannot write %s: %s" % (part_path, exc.strerror or exc)) from None
        store.save(checkpoint)

        parts = plan_parts(size, part_size)
        notifier.progress(sum(end - start + 1 for i, start, end in parts if i in checkpoint.parts))
        failure = self._fetch(url, part_path, parts, checkpoint, store, notifier, expected_hash, etag_header)
        if failure is not None:
            return failure
        digests = [bytes.fromhex(d) for index, _, _ in parts for d in checkpoint.parts[index]]
        local = etag_from_block_digests(digests)
        if local != expected_hash:
            fsutil.discard(part_path)
            store.remove()
            raise IntegrityError("download of %s: the parts hash to %s, the object's hash is %s"
                                 % (url, local, expected_hash))
        try:
            with open(part_path, "rb+") as fp:
                fsutil.commit_temp(part_path, target, fileobj=fp)
        except OSError as exc:
            raise LocalFileError("cannot write %s: %s" % (target, exc.strerror or exc)) from None
        store.remove()
        return Result(200, {"hash": local, "fsize": size, "path": target}, {})

    def _fetch(self, url: str, part_path: str, parts: List[Tuple[int, int, int]], checkpoint: Checkpoint,
               store: CheckpointStore, notifier: Notifier, expected_hash: str,
               etag_header: Optional[str]) -> Optional[Result]:
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
                with open(part_path, "rb+") as out:
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
            fsutil.discard(part_path)
            store.remove()
        if error is not None:
            raise error
        return failure
