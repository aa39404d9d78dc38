"""Upload ids a re-run can find again: derived from where a file goes and what the file is.

A big file of a tree is uploaded in blocks under the id ``derived_upload_id(bucket, key, file)``:
32 hex characters, the first 16 from (bucket, key, absolute path), the last 16 from the file's
identity (device, inode, size, mtime_ns). Running the same command after a crash derives the same
id, finds the multipart resume record (:mod:`wcs.services.resume`) and sends only the blocks it
does not list; no ``--upload-id`` is needed. When the file changed, its identity (so the id's tail)
changed: :func:`discard_stale_records` removes the records of the same destination and path under
other tails, which could never be resumed.
"""

import hashlib
import logging
import os
import re

from wcs.services.resume import RecordStore
from wcs.services.tree.localtree import LocalFile

log = logging.getLogger(__name__)

_DERIVED_RE = re.compile(r"^[0-9a-f]{32}$")


def _digest(*parts: object) -> str:
    text = "\0".join(str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def derived_upload_id(bucket: str, key: str, f: LocalFile) -> str:
    """The multipart upload id of ``f`` to ``bucket``/``key`` (stable across runs while the file is unchanged)."""
    return _digest("dest", bucket, key, os.path.abspath(f.path)) + _digest("file", f.dev, f.ino, f.size, f.mtime_ns)


def discard_stale_records(folder: str, upload_id: str) -> int:
    """Remove the records of the same destination and path as ``upload_id`` under another identity.

    Returns:
        How many were removed.
    """
    stem = upload_id[:16]
    try:
        names = os.listdir(os.path.expanduser(folder))
    except OSError:
        return 0
    removed = 0
    for name in names:
        if name != upload_id and name.startswith(stem) and _DERIVED_RE.match(name):
            log.info("removing the resume record %s: the file changed since that upload started", name)
            RecordStore(folder, name).remove()
            removed += 1
    return removed
