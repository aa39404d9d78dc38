"""The official ``wcs.services.multipartupload.MultipartUpload(url)``: a block upload with a token made by the caller.

A view of :class:`~wcs.services.uploads.BlockUploader` (parallel, resumable, verified), with
the settings of its Config (``block_size``, ``bput_size``, ``concurrency``, ``tmp_record_folder``...).
``upload`` answers the mkfile triple, or the failing step's; ``smart_upload`` raises on failure.
"""

import os
from typing import Optional

from wcs.commons.errors import WcsSeriveError
from wcs.commons.http import Result
from wcs.services.adapters import UploadView, token_info
from wcs.services.formupload import PathLike


class MultipartUpload(UploadView):
    """Block uploads to the upload host ``url`` (see :class:`~wcs.services.adapters.UploadView`)."""

    def upload(self, path: PathLike, token: str, upload_id: Optional[str] = None) -> Result:
        """Upload ``path`` with ``token`` (its scope names the object); resume ``upload_id`` when it
        has a record. The Result's ``upload_id`` resumes a failed upload."""
        info = token_info(token)
        uploader = self.client.block_uploader()
        uploader.policy = info.policy  # the answer is shaped by the token, not by this config
        key = info.key or os.path.basename(os.fspath(path))
        return uploader.upload(path, info.bucket, key, upload_id or None, token=token)

    def smart_upload(self, path: PathLike, token: str, upload_id: Optional[str] = None) -> Result:
        """:meth:`upload`, raising on failure.

        Raises:
            WcsSeriveError: the upload failed (``.result`` is the failing step's answer).
        """
        result = self.upload(path, token, upload_id)
        if not 200 <= result.code < 400:
            raise WcsSeriveError("multipart upload failed: HTTP %d: %s (reqid %s); upload it again"
                                 % (result.code, result.message, result.reqid), result) from result.error
        return result
