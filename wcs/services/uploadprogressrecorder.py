"""The official ``UploadProgressRecorder(upload_id)``: per-block records of a multipart upload in a folder.

The official layout: ``<tmp_record_folder>/<upload_id>/<block offset>`` files, each the JSON of one
block's result. Files are written atomically here and their text is handed back as is; this
package's own uploads keep a single validated record instead (:mod:`wcs.services.resume`).
"""

import json
import os
import shutil
from typing import Any, Dict, List, Optional

from wcs.commons.config import Config
from wcs.commons.errors import ResumeError
from wcs.commons.fsutil import atomic_write
from wcs.services.resume import check_upload_id


class UploadProgressRecorder:
    """The block records of one upload id (the folder is created at once, as the official class does).

    Args:
        upload_id: the upload id (letters, digits, ``-`` and ``_``).
        cfg: where ``tmp_record_folder`` comes from (default ``Config()``: ``~/.wcscfg``).
    """

    def __init__(self, upload_id: str, cfg: Optional[Config] = None) -> None:
        folder = (Config() if cfg is None else cfg).tmp_record_folder
        self.upload_id = check_upload_id(upload_id)
        self.record_folder = os.path.join(os.path.expanduser(folder), self.upload_id) + os.sep
        os.makedirs(self.record_folder, exist_ok=True)

    def get_upload_record(self) -> Dict[str, Any]:
        """``{"uploadBatch": upload_id, "upload_record": [<text of each block record>]}``.

        Raises:
            ResumeError: there is no record yet, or one cannot be read.
        """
        names = sorted(os.listdir(self.record_folder))
        if not names:
            raise ResumeError("upload_records is Null, please redefine uploadBatch")
        records: List[str] = []
        for name in names:
            try:
                with open(os.path.join(self.record_folder, name), encoding="utf-8") as fp:
                    records.append(fp.read())
            except OSError as exc:
                raise ResumeError("Read upload progress fail: %s" % (exc.strerror or exc)) from None
        return {"uploadBatch": self.upload_id, "upload_record": records}

    def set_upload_record(self, offset: Any, data: Any) -> None:
        """Write the JSON of ``data`` as the record of the block at ``offset``."""
        with atomic_write(os.path.join(self.record_folder, str(int(offset)))) as fp:
            fp.write(json.dumps(data))

    def delete_upload_record(self) -> None:
        shutil.rmtree(self.record_folder, ignore_errors=True)

    def find_upload_record(self) -> bool:
        return os.path.exists(self.record_folder)
