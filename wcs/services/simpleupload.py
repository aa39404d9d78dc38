"""The official ``wcs.services.simpleupload.SimpleUpload(url)``: a form upload with a token made by the caller.

A view of :class:`~wcs.services.formupload.FormUploader` (streamed, hash-checked); as the official
class, ``upload`` answers the raw answer text as the body and raises ``ValueError`` for a path
that is not an existing file.
"""


from wcs.commons.http import Result
from wcs.services.adapters import UploadView, token_info
from wcs.services.formupload import FormUploader, PathLike


class SimpleUpload(UploadView):
    """Form uploads to the upload host ``url`` (see :class:`~wcs.services.adapters.UploadView`)."""

    def _uploader(self, token: str) -> FormUploader:
        self.cfg.require("traffic_limit")
        # The answer is shaped by the token's policy, not by this client's config.
        return FormUploader(self.client.http, None, self.cfg.endpoints, self.cfg.transfer, token_info(token).policy)

    def upload(self, filepath: PathLike, token: str, key: str = "filename") -> Result:
        """Upload the file at ``filepath`` with ``token``; ``key`` names the file part.

        Raises:
            MissingFile: ``filepath`` is not an existing file (a ValueError, as in the official SDK).
        """
        info = token_info(token)
        return self._uploader(token).upload_file(filepath, info.bucket, info.key or key, token=token)
