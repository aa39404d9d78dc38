"""Resume records of multipart uploads: plain JSON data, written atomically, checked before use.

One record per upload id, at ``<tmp_record_folder>/<upload_id>/record.json``::

    {"format": 1, "upload_id": "...", "path": "/abs/file", "size": 12582912,
     "mtime_ns": 1700000000000000000, "block_size": 4194304, "bput_size": 4194304,
     "bucket": "b", "key": "k",
     "blocks": [{"index": 0, "offset": 0, "size": 4194304, "ctx": "...",
                 "sha1": ["<hex SHA-1 of each 4 MiB etag block>"]}]}

``blocks`` lists the blocks the service has confirmed, each with its final ``ctx`` (what mkfile
needs) and the SHA-1 of its 4 MiB etag blocks, so a resumed upload neither resends nor rereads
them. The record is rewritten (temp file, fsync, ``os.replace``) after every completed block, so a
crash at any moment leaves either the previous or the next complete record, never half of one.
"""

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from wcs.commons.errors import InvalidArgument, ResumeError
from wcs.commons.fsutil import atomic_write

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
RECORD_NAME = "record.json"
_UPLOAD_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_HEX40_RE = re.compile(r"^[0-9a-f]{40}$")


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


class RecordStore:
    """The record of one upload id under ``folder``."""

    def __init__(self, folder: str, upload_id: str) -> None:
        self.upload_id = check_upload_id(upload_id)
        self.directory = os.path.join(os.path.expanduser(folder), upload_id)
        self.path = os.path.join(self.directory, RECORD_NAME)

    def exists(self) -> bool:
        return os.path.isfile(self.path)

    def load(self) -> Optional[ResumeRecord]:
        """The record, or None when there is none.

        Raises:
            ResumeError: the file cannot be read or is not a valid record (never evaluated as code).
        """
        try:
            with open(self.path, encoding="utf-8") as fp:
                data = json.load(fp)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ResumeError("cannot read resume record %s: %s" % (self.path, exc.strerror or exc)) from None
        except ValueError as exc:
            raise ResumeError("resume record %s is not valid JSON (%s)" % (self.path, exc)) from None
        record = ResumeRecord.from_json(data)
        if record.upload_id != self.upload_id:
            raise ResumeError("resume record %s belongs to upload %r" % (self.path, record.upload_id))
        return record

    def save(self, record: ResumeRecord) -> None:
        """Write ``record`` atomically and durably: temp file, fsync, ``os.replace``, fsync the folder."""
        self.write(self.dumps(record))

    @staticmethod
    def dumps(record: ResumeRecord) -> str:
        """The text :meth:`write` stores for ``record`` (a snapshot: the record may change afterwards)."""
        return json.dumps(record.to_json(), separators=(",", ":"), sort_keys=True)

    def write(self, text: str) -> None:
        """Store the text of a record (from :meth:`dumps`) atomically and durably."""
        os.makedirs(self.directory, exist_ok=True)
        with atomic_write(self.path) as fp:
            fp.write(text)

    def remove(self) -> None:
        """Delete the record and its folder (after a finished upload)."""
        shutil.rmtree(self.directory, ignore_errors=True)

