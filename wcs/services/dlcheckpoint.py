"""The checkpoint of a ranged download: which 4 MiB blocks of the partial file are on disk, with their SHA-1.

A JSON file in the download's staging folder, written atomically (:mod:`wcs.commons.fsutil`) each
time parts finish. It records blocks, not parts, so that it does not depend on how a run cut the
object (part size, concurrency): a re-run plans its own parts over the blocks that are missing.
On disk it keeps the shape of format 2 (``parts`` of ``part_size`` bytes, each with the SHA-1 of
its blocks) with ``part_size`` the block size; a checkpoint left by a version that recorded larger
parts (any multiple of the block) is read as the blocks of those parts. Nothing in it is trusted:
the downloader hashes every recorded block on disk again before reusing it.
"""

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from wcs.commons import fsutil
from wcs.commons.util import BLOCK_SIZE

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
# About 53 bytes per 4 MiB block: ~13 MB for a 1 TB object. A bigger file is not ours (an object of more
# than ~1.2 TB then starts over after an interruption instead of resuming).
MAX_CHECKPOINT_BYTES = 16 * 1024 * 1024


@dataclass
class Checkpoint:
    """The blocks of one object already on disk: block index -> SHA-1 (hex) of its bytes."""

    size: int
    hash: str
    url: str = ""
    blocks: Dict[int, str] = field(default_factory=dict)
    name: str = ""  # the target's file name (its staging folder is named by a digest of it)

    def to_json(self) -> Dict[str, Any]:
        return {"format": FORMAT_VERSION, "size": self.size, "hash": self.hash, "part_size": BLOCK_SIZE,
                "url": self.url, "name": self.name,
                "parts": {str(i): [digest] for i, digest in sorted(self.blocks.items())}}

    @classmethod
    def from_json(cls, data: Any) -> "Checkpoint":
        """Raises ValueError unless ``data`` is a well-formed checkpoint."""
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise ValueError("not a download checkpoint of format %d" % FORMAT_VERSION)
        size, part_size, digest, url = data.get("size"), data.get("part_size"), data.get("hash"), data.get("url")
        name = data.get("name")
        if not (isinstance(size, int) and isinstance(part_size, int) and size >= 0 and part_size > 0
                and not part_size % BLOCK_SIZE and isinstance(digest, str) and isinstance(url, str)
                and isinstance(name, str) and isinstance(data.get("parts"), dict)):
            raise ValueError("malformed checkpoint fields")
        per_part = part_size // BLOCK_SIZE
        blocks: Dict[int, str] = {}
        for index, digests in data["parts"].items():
            if not (isinstance(index, str) and index.isdigit() and isinstance(digests, list)
                    and len(digests) <= per_part and all(isinstance(d, str) and len(d) == 40 for d in digests)):
                raise ValueError("malformed part %r" % (index,))
            for offset, block_digest in enumerate(digests):
                blocks[int(index) * per_part + offset] = block_digest
        return cls(size, digest, url, blocks, name)


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
