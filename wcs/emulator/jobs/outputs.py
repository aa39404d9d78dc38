"""Where job operations put what they make: new objects in the store, described as status items."""

from typing import Any, Callable, Dict, Type

from wcs.commons.fsutil import discard
from wcs.commons.util import EtagHasher
from wcs.emulator.errors import BucketNotFound, FileExists
from wcs.emulator.routes import download_url
from wcs.emulator.state import ObjectInfo, Store

COPY_CHUNK = 1024 * 1024


class Outputs:
    """The store of one emulator as job operations see it, and the base URL objects are reached at."""

    def __init__(self, store: Store, base_url: Callable[[], str]) -> None:
        self.store = store
        self.base_url = base_url

    def result(self, info: ObjectInfo) -> Dict[str, Any]:
        """The fields of a succeeded item that describe the object it made."""
        return {"key": info.key, "hash": info.hash, "fsize": info.fsize,
                "url": download_url(self.base_url(), info.bucket, info.key)}

    def need_bucket(self, bucket: str) -> None:
        if not self.store.bucket_exists(bucket):
            raise BucketNotFound(bucket)

    def temp_path(self) -> str:
        return self.store.new_temp_path()

    def store_temp(self, temp: str, bucket: str, key: str, mime: str, force: bool,
                   exists: Type[FileExists] = FileExists) -> ObjectInfo:
        """Hash the complete file ``temp`` and store it as ``bucket``/``key``, replacing a live object
        only when ``force``; ``exists`` is the failure otherwise (its message names the key)."""
        hasher = EtagHasher()
        with open(temp, "rb") as fp:
            for chunk in iter(lambda: fp.read(COPY_CHUNK), b""):
                hasher.update(chunk)
        try:
            return self.store.put_file(bucket, key, temp, hasher.size, hasher.etag(), mime, overwrite=force)
        except FileExists:
            raise exists(key) from None

    def write_text(self, bucket: str, key: str, text: str, force: bool,
                   exists: Type[FileExists] = FileExists) -> ObjectInfo:
        """Store ``text`` (UTF-8, ``text/plain``) as ``bucket``/``key``; see :meth:`store_temp`."""
        temp = self.temp_path()
        try:
            with open(temp, "wb") as out:
                out.write(text.encode("utf-8"))
            return self.store_temp(temp, bucket, key, "text/plain", force, exists)
        finally:
            discard(temp)
