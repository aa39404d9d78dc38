"""Resume records of multipart uploads: plain JSON data, written atomically, checked before use.

One record per upload id, at ``<folder>/<upload_id>/record.json``, where ``<folder>`` is this user's
private folder for ``tmp_record_folder`` (:mod:`wcs.services.recordfolder`: the folder itself when only
this user can write it, else ``<tmp_record_folder>/<uid>``)::

    {"format": 1, "upload_id": "...", "path": "/abs/file", "size": 12582912,
     "mtime_ns": 1700000000000000000, "block_size": 4194304, "bput_size": 4194304,
     "bucket": "b", "key": "k",
     "blocks": [{"index": 0, "offset": 0, "size": 4194304, "ctx": "...",
                 "sha1": ["<hex SHA-1 of each 4 MiB etag block>"]}]}

``blocks`` lists the blocks the service has confirmed, each with its final ``ctx`` (what mkfile
needs) and the SHA-1 of its 4 MiB etag blocks, so a resumed upload neither resends nor rereads
them. The record is rewritten (temp file, fsync, ``os.replace``) after every completed block, so a
crash at any moment leaves either the previous or the next complete record, never half of one.

A finished upload removes its record; those of failed or abandoned uploads stay until resumed.
:func:`list_records` describes every record of a folder (also unreadable ones) and
:func:`remove_record` deletes one, for the ``wcscmd records`` command.

A record is data from disk, so it is checked before use: it must be a regular file (never a FIFO or
a device) of at most :data:`MAX_RECORD_BYTES`, JSON of the expected shape (deep nesting is refused),
every ctx printable ASCII; and at resume, the SHA-1 the record gives each block is compared with the
file's own bytes (:meth:`ResumeRecord.drop_blocks_unlike`): a block whose bytes differ is sent again.
"""

import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from wcs.commons.errors import InvalidArgument, ResumeError
from wcs.commons.fsutil import atomic_write, read_regular
from wcs.commons.util import BLOCK_SIZE
from wcs.services.recordfolder import check_record_folder, ensure_record_folder, record_folder

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
RECORD_NAME = "record.json"
_UPLOAD_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_HEX40_RE = re.compile(r"^[0-9a-f]{40}$")
_CTX_RE = re.compile(r"^[!-+\--~]{1,4096}$")  # printable ASCII but ',' (it separates ctx values in mkfile)
MAX_RECORD_BYTES = 64 * 1024 * 1024
"""Largest record read (one of a 1 TiB file in 4 MiB blocks is about 50 MB)."""


def check_upload_id(upload_id: str) -> str:
    """``upload_id`` if it is safe as a directory name and an ``UploadBatch`` header, else raise.

    Raises:
        InvalidArgument: anything but 1..128 letters, digits, ``-`` and ``_``.
    """
    if not isinstance(upload_id, str) or not _UPLOAD_ID_RE.match(upload_id):
        raise InvalidArgument("invalid upload id %r: use 1 to 128 letters, digits, '-' or '_'" % (upload_id,))
    return upload_id


@dataclass(frozen=True)
class BlockRecord:
    """A block the service confirmed: its final ``ctx`` and the SHA-1 of its 4 MiB etag blocks."""

    index: int
    offset: int
    size: int
    ctx: str
    sha1: List[str]

    def to_json(self) -> Dict[str, Any]:
        return {"index": self.index, "offset": self.offset, "size": self.size, "ctx": self.ctx,
                "sha1": list(self.sha1)}

    @classmethod
    def from_json(cls, data: Any) -> "BlockRecord":
        if not isinstance(data, dict):
            raise ValueError("a block entry is not an object")
        values: List[Any] = [data.get(n) for n in ("index", "offset", "size", "ctx", "sha1")]
        index, offset, size, ctx, sha1 = values
        if not (_is_int(index) and _is_int(offset) and _is_int(size) and index >= 0 and offset >= 0 and size >= 0):
            raise ValueError("block index/offset/size must be non-negative integers")
        if not isinstance(ctx, str) or not ctx:
            raise ValueError("block %d has no ctx" % index)
        if not _CTX_RE.match(ctx):
            raise ValueError("block %d has a ctx that is not printable ASCII without ','" % index)
        if not isinstance(sha1, list) or not sha1 or not all(isinstance(h, str) and _HEX40_RE.match(h)
                                                            for h in sha1):
            raise ValueError("block %d has no valid sha1 list" % index)
        return cls(index, offset, size, ctx, list(sha1))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class ResumeRecord:
    """What is known about one multipart upload (see the module docstring for the JSON)."""

    upload_id: str
    path: str
    size: int
    mtime_ns: int
    block_size: int
    bput_size: int
    bucket: str
    key: str
    blocks: Dict[int, BlockRecord] = field(default_factory=dict)

    def to_json(self) -> Dict[str, Any]:
        return {"format": FORMAT_VERSION, "upload_id": self.upload_id, "path": self.path,
                "size": self.size, "mtime_ns": self.mtime_ns, "block_size": self.block_size,
                "bput_size": self.bput_size, "bucket": self.bucket, "key": self.key,
                "blocks": [self.blocks[i].to_json() for i in sorted(self.blocks)]}

    @classmethod
    def from_json(cls, data: Any) -> "ResumeRecord":
        """Parse and type-check a decoded record.

        Raises:
            ResumeError: unknown format version, missing or mistyped fields.
        """
        if not isinstance(data, dict):
            raise ResumeError("resume record is not a JSON object")
        if data.get("format") != FORMAT_VERSION:
            raise ResumeError("resume record has unknown format %r (this version reads %d)"
                              % (data.get("format"), FORMAT_VERSION))
        try:
            for name in ("upload_id", "path", "bucket", "key"):
                if not isinstance(data.get(name), str):
                    raise ValueError("%s must be a string" % name)
            for name in ("size", "mtime_ns", "block_size", "bput_size"):
                if not _is_int(data.get(name)) or data[name] < 0:
                    raise ValueError("%s must be a non-negative integer" % name)
            blocks_json = data.get("blocks")
            if not isinstance(blocks_json, list):
                raise ValueError("blocks must be a list")
            blocks = {}
            for item in blocks_json:
                block = BlockRecord.from_json(item)
                if block.index in blocks:
                    raise ValueError("block %d is listed twice" % block.index)
                blocks[block.index] = block
        except ValueError as exc:
            raise ResumeError("invalid resume record: %s" % exc) from None
        return cls(data["upload_id"], data["path"], data["size"], data["mtime_ns"], data["block_size"],
                   data["bput_size"], data["bucket"], data["key"], blocks)

    def check_matches(self, path: str, size: int, mtime_ns: int, block_size: int, bucket: str,
                      key: str) -> None:
        """Raise unless this record describes the same file, unchanged, to the same destination.

        Raises:
            ResumeError: naming the first difference found.
        """
        problems = []
        if os.path.abspath(path) != self.path:
            problems.append("it is for file %r, not %r" % (self.path, os.path.abspath(path)))
        if (bucket, key) != (self.bucket, self.key):
            problems.append("it is for %s:%s, not %s:%s" % (self.bucket, self.key, bucket, key))
        if size != self.size:
            problems.append("the file size changed from %d to %d bytes" % (self.size, size))
        if mtime_ns != self.mtime_ns:
            problems.append("the file was modified since the upload started")
        if block_size != self.block_size:
            problems.append("block size is %d, the record used %d" % (block_size, self.block_size))
        if problems:
            raise ResumeError("cannot resume upload %s: %s" % (self.upload_id, "; ".join(problems)))
        for block in self.blocks.values():
            if block.offset != block.index * block_size or block.offset + block.size > size:
                raise ResumeError("cannot resume upload %s: block %d does not fit the file"
                                  % (self.upload_id, block.index))


    def drop_blocks_unlike(self, path: str) -> List[int]:
        """Forget every block whose SHA-1 in the record differs from the bytes of file ``path`` there
        (read, not sent); returns their indexes. The etag checked after mkfile comes from these SHA-1,
        so a record forged consistently (ctx and SHA-1 changed together) can never pass for the file.

        Raises:
            OSError: the file cannot be read.
        """
        dropped = []
        with open(path, "rb") as fp:
            for index in sorted(self.blocks):
                block = self.blocks[index]
                fp.seek(block.offset)
                digests = []
                left = block.size
                while left > 0:
                    piece = fp.read(min(BLOCK_SIZE, left))
                    if not piece:
                        break
                    digests.append(hashlib.sha1(piece).hexdigest())
                    left -= len(piece)
                if left or digests != block.sha1:
                    del self.blocks[index]
                    dropped.append(index)
        if dropped:
            log.warning("resume record %s: %d block(s) do not match the file and will be sent again",
                        self.upload_id, len(dropped))
        return dropped


class RecordStore:
    """The record of one upload id in this user's record folder for ``folder``."""

    def __init__(self, folder: str, upload_id: str) -> None:
        self.upload_id = check_upload_id(upload_id)
        self.folder = folder
        self.directory = os.path.join(record_folder(folder), upload_id)
        self.path = os.path.join(self.directory, RECORD_NAME)

    def exists(self) -> bool:
        return os.path.isfile(self.path)

    def load(self) -> Optional[ResumeRecord]:
        """The record, or None when there is none.

        Raises:
            ResumeError: the file cannot be read, is not a regular file of a sane size, is not a valid
                record (never evaluated as code), or lies in a folder others can write.
        """
        try:
            raw = read_regular(self.path, MAX_RECORD_BYTES)
        except OSError as exc:
            raise ResumeError("cannot read resume record %s: %s" % (self.path, exc.strerror or exc)) from None
        except ValueError as exc:
            raise ResumeError("resume record refused: %s" % exc) from None
        if raw is None:
            return None
        check_record_folder(os.path.dirname(self.directory))
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise ResumeError("resume record %s is not valid JSON (%s)" % (self.path, exc)) from None
        record = ResumeRecord.from_json(data)
        if record.upload_id != self.upload_id:
            raise ResumeError("resume record %s belongs to upload %r" % (self.path, record.upload_id))
        return record

    def save(self, record: ResumeRecord) -> None:
        """Write ``record`` atomically and durably: temp file, fsync, ``os.replace``, fsync the folder.

        Raises:
            ResumeError: this user's record folder cannot be made private (see :mod:`.recordfolder`).
        """
        self.write(self.dumps(record))

    @staticmethod
    def dumps(record: ResumeRecord) -> str:
        """The text :meth:`write` stores for ``record`` (a snapshot: the record may change afterwards)."""
        return json.dumps(record.to_json(), separators=(",", ":"), sort_keys=True)

    def write(self, text: str) -> None:
        """Store the text of a record (from :meth:`dumps`) atomically and durably.

        Raises:
            ResumeError: this user's record folder cannot be made private (see :mod:`.recordfolder`).
        """
        ensure_record_folder(self.folder)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        with atomic_write(self.path) as fp:
            fp.write(text)

    def remove(self) -> None:
        """Delete the record and its folder (after a finished upload)."""
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass(frozen=True)
class RecordSummary:
    """One record found in a record folder: its upload id, when it was last written, and what it holds.

    ``record`` is None and ``error`` says why when the file cannot be read or is not a valid record.
    """

    upload_id: str
    path: str
    updated: float  # st_mtime of the record file: the last block recorded
    record: Optional[ResumeRecord] = None
    error: Optional[str] = None

    @property
    def blocks_done(self) -> int:
        return len(self.record.blocks) if self.record is not None else 0

    @property
    def blocks_total(self) -> Optional[int]:
        if self.record is None or self.record.block_size <= 0:
            return None
        return -(-self.record.size // self.record.block_size)  # ceiling: the last block may be short

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"upload_id": self.upload_id, "record": self.path, "updated": self.updated}
        if self.record is not None:
            out.update(file=self.record.path, bucket=self.record.bucket, key=self.record.key,
                       size=self.record.size, blocks_done=self.blocks_done, blocks_total=self.blocks_total)
        if self.error is not None:
            out["error"] = self.error
        return out


def list_records(folder: str) -> List[RecordSummary]:
    """Every resume record of this user for ``folder``, oldest first (an unreadable one with its ``error``).

    Only ``<upload id>/record.json`` entries are records: anything else in the folder is left out.
    """
    root = record_folder(folder)
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ResumeError("cannot read the record folder %s: %s" % (root, exc.strerror or exc)) from None
    found = []
    for name in names:
        if not _UPLOAD_ID_RE.match(name):
            continue
        store = RecordStore(folder, name)
        try:
            updated = os.stat(store.path).st_mtime
        except OSError:
            continue  # not a record folder (or removed meanwhile)
        try:
            found.append(RecordSummary(name, store.path, updated, record=store.load()))
        except ResumeError as exc:
            found.append(RecordSummary(name, store.path, updated, error=str(exc)))
    return sorted(found, key=lambda summary: (summary.updated, summary.upload_id))


def remove_record(folder: str, upload_id: str) -> bool:
    """Delete the record of ``upload_id`` (its folder); False when there is none.

    Raises:
        InvalidArgument: ``upload_id`` cannot name a record.
    """
    store = RecordStore(folder, upload_id)
    if not store.exists():
        return False
    store.remove()
    return True

