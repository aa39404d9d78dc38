"""The plan of a block upload: the blocks of an object, the chunks of a block, its etag, its upload id.

Pure functions, no I/O: an object of ``size`` bytes becomes blocks of ``block_size`` (a multiple of
the 4 MiB etag block, so the etag can be computed per block), each sent as chunks of ``bput_size``
(the sizes are checked once, in :class:`~wcs.commons.settings.TransferConfig`).
"""

import secrets
import string
from dataclasses import dataclass
from typing import Dict, List, Tuple

from wcs.commons.errors import InvalidArgument
from wcs.commons.settings import check_block_size
from wcs.commons.util import etag_from_block_digests
from wcs.services.resume import BlockRecord

UPLOAD_ID_CHARS = string.ascii_letters + string.digits
UPLOAD_ID_LENGTH = 32


def new_upload_id() -> str:
    """A fresh upload id: 32 random letters and digits (the ``UploadBatch`` of the official SDK)."""
    return "".join(secrets.choice(UPLOAD_ID_CHARS) for _ in range(UPLOAD_ID_LENGTH))


@dataclass(frozen=True)
class Block:
    """Block ``index`` of a plan: ``size`` bytes of the file from ``offset``."""

    index: int
    offset: int
    size: int

    def chunks(self, bput_size: int) -> List[Tuple[int, int]]:
        """``(offset_in_block, length)`` of each chunk, in the order they must be sent."""
        return [(start, min(bput_size, self.size - start)) for start in range(0, self.size, bput_size)]


def plan_blocks(size: int, block_size: int) -> List[Block]:
    """The blocks of a ``size``-byte file; none for an empty file (``mkfile/0`` with no ctx stores it).

    Raises:
        InvalidArgument: ``size`` is negative or ``block_size`` not a positive multiple of 4 MiB.
    """
    block_size = check_block_size(block_size)
    if size < 0:
        raise InvalidArgument("invalid size %r" % (size,))
    return [Block(i, offset, min(block_size, size - offset))
            for i, offset in enumerate(range(0, size, block_size))]


def file_etag(blocks: List[Block], records: Dict[int, BlockRecord]) -> str:
    """The etag of the whole file from the SHA-1 of the 4 MiB etag blocks kept per upload block."""
    digests = [bytes.fromhex(h) for block in blocks for h in records[block.index].sha1]
    return etag_from_block_digests(digests)
