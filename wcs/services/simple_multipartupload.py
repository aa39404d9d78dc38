"""The official ``wcs.services.simple_multipartupload.Simple_MultipartUpload(url)``: a block upload without resume.

As the official class, a failure raises ``WcsSeriveError`` and leaves nothing to resume: the
resume record this package writes while the blocks go up is removed on failure too.
"""

from wcs.commons.errors import WcsSeriveError
from wcs.commons.http import Result
from wcs.services.formupload import PathLike
from wcs.services.multipartupload import MultipartUpload
from wcs.services.resume import RecordStore


class Simple_MultipartUpload(MultipartUpload):
    """Block uploads that are not resumed (the official class)."""

    def simple_multiupload(self, path: PathLike, token: str) -> Result:
        """Upload ``path`` with ``token``.

        Raises:
            WcsSeriveError: the upload failed.
        """
        try:
            return self.smart_upload(path, token)
        except WcsSeriveError as exc:
            upload_id = getattr(exc.result, "upload_id", None)
            if upload_id:
                RecordStore(self.cfg.tmp_record_folder, upload_id).remove()
            raise
