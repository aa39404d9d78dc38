"""Writing an object from fsspec: the SDK's one block pipeline, its failures as the ``OSError`` fsspec expects.

:class:`ObjectWriter` is a :class:`~wcs.services.uploads.BlockWriter` (whole blocks sent with
``mkblk``/``bput`` as they fill, on the client's pool, at most ``concurrency`` in flight, ``mkfile``
at the end with the pipeline's one rule for a lost answer; one form upload for an object that never
filled a block) whose failures are raised as ``FileExistsError`` (``overwrite=0`` and the key
exists: 406, also for identical content), ``FileNotFoundError``, ``PermissionError`` or ``OSError``
(:mod:`wcs.fs.errors`). Nothing is stored until :meth:`ObjectWriter.finish`; :meth:`ObjectWriter.abort`
abandons the blocks sent.
"""

import logging
from typing import Optional, Union

from wcs.commons.http import Result
from wcs.fs.errors import check
from wcs.services.client import Client

log = logging.getLogger(__name__)

Data = Union[bytes, bytearray, memoryview]


def form_upload(client: Client, bucket: str, key: str, data: Data, *, overwrite: int,
                mime_type: Optional[str] = None, name: str = "") -> Result:
    """Upload ``data`` (in memory) as ``bucket``/``key``: one form upload, or blocks sliced from it when it
    holds a whole block (the uploads verify the hash).

    Raises:
        FileExistsError: ``overwrite`` is 0 and the key exists.
        OSError: any other failure.
    """
    result = client.block_uploader().upload_buffer(data, bucket, key, overwrite=overwrite, mime_type=mime_type)
    return check(result, name or "%s/%s" % (bucket, key), "upload")


class ObjectWriter:
    """One object uploaded as its bytes come; :meth:`send` a whole block at a time, :meth:`finish` with the rest.

    Args:
        client: the client whose HTTP session, signer and pool carry the blocks.
        overwrite: 1 to replace an existing object, 0 to fail (406) if the key exists.

    Raises:
        ConfigError: no key pair (the token is made here, not in a worker).
    """

    def __init__(self, client: Client, bucket: str, key: str, *, overwrite: int,
                 mime_type: Optional[str] = None, name: str = "") -> None:
        self.name = name or "%s/%s" % (bucket, key)
        self._writer = client.block_uploader().writer(bucket, key, overwrite=overwrite, mime_type=mime_type)
        self.block_size = self._writer.block_size

    def send(self, data: Data) -> None:
        """Send one whole block (the caller waits while ``concurrency`` are in flight).

        Raises:
            OSError: an earlier block failed (the upload is abandoned).
        """
        failure = self._writer.send(data)
        if failure is not None:
            check(failure, self.name, "block upload")

    def finish(self, rest: Data = b"") -> Result:
        """Send ``rest`` (less than a block) and make the object appear; its answer.

        Raises:
            FileExistsError: ``overwrite`` was 0 and the key exists.
            IntegrityError: the service's hash is not the etag of the bytes written.
            OSError: a block, ``mkfile`` or the form upload failed.
        """
        result = check(self._writer.finish(rest), self.name, "upload")
        log.debug("wrote %s: %d bytes (%s)", self.name, self._writer.size or len(rest), result.reqid)
        return result

    def abort(self) -> None:
        """Abandon the object: blocks not started are dropped, those in flight stop within a slice."""
        self._writer.abort()
