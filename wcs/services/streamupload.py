"""The official ``wcs.services.streamupload.StreamUpload(url)``: upload what a URL serves, with a given token.

Over :meth:`~wcs.services.formupload.FormUploader.upload_stream`: the source is spooled to a temporary
file (bounded memory), not read into memory as the official class does.
"""

from typing import BinaryIO, Union

from wcs.commons.http import Result
from wcs.services.adapters import token_info
from wcs.services.simpleupload import SimpleUpload


class StreamUpload(SimpleUpload):
    """Form uploads of what an http(s) URL (or a binary file object) yields."""

    def upload(self, stream: Union[str, BinaryIO], token: str, key: str = "filename") -> Result:  # type: ignore[override]
        """Upload what ``stream`` yields with ``token``; ``key`` names the file part."""
        info = token_info(token)
        return self._uploader(token).upload_stream(stream, info.bucket, info.key or key, token=token)
