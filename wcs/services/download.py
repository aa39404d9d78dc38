"""Verified download: stream a GET into a temporary file next to the target, then rename it in place.

The bytes are hashed (WCS etag) while they are written. The download is accepted only when that
etag equals the expected one (given by the caller) and the ``ETag`` response header when it looks
like a WCS etag; then the temporary file is ``os.replace``-d onto the target. On any failure the
temporary file is removed, so nothing partial is ever left under the target name.

The file gets the permissions ``open(path, "wb")`` would give it: a new file ``0o666`` less the
process umask (the temporary file is created with that mode, so the kernel applies the umask and
any default ACL), and an existing target keeps its permission bits. A private ``mkstemp`` mode
(0600) would otherwise survive the rename.
"""

import logging
import os
import re
import secrets
import stat
from typing import Optional, Tuple
from urllib.parse import quote

import requests

from wcs.commons.errors import IntegrityError, LocalFileError, NetworkError, WcsError
from wcs.commons.http import Result, decode_body, no_response
from wcs.commons.util import EtagHasher
from wcs.services.base import Service
from wcs.services.streams import Progress

log = logging.getLogger(__name__)

READ_SIZE = 1024 * 1024
_ERROR_TEXT_LIMIT = 64 * 1024
# 0x16/0x96 prefix + SHA-1, URL-safe Base64: 28 characters starting with F or l.
_WCS_ETAG_RE = re.compile(r"^[Fl][A-Za-z0-9_-]{27}$")


def header_etag(value: Optional[str]) -> Optional[str]:
    """The WCS etag in an ``ETag`` header value (quotes and a weak ``W/`` prefix removed), else None."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return value if _WCS_ETAG_RE.match(value) else None


class Downloader(Service):
    """Downloads a URL to a file, verified by hash."""

    def download_url(self, bucket: str, key: str) -> str:
        """``<mgr_url>/<bucket>/<percent-encoded key>``: where the emulator serves objects.

        The real service serves objects on the bucket's bound (download) domain instead: pass
        that URL to :meth:`download` there.
        """
        return "%s/%s/%s" % (self.mgr_base(), quote(bucket, safe=""), quote(key, safe="/"))

    def download(self, url: str, path: str, *, progress: Optional[Progress] = None,
                 expected_hash: Optional[str] = None) -> Result:
        """GET ``url`` into ``path``.

        Returns:
            On success, ``Result(status, {"hash", "fsize", "path"}, headers)``; when the service
            answers an error status, that status with its decoded body (nothing written); -1 when
            no response came after every retry.

        Raises:
            LocalFileError: the target directory is missing or not writable.
            IntegrityError: the bytes received do not hash to ``expected_hash`` or to the ``ETag``.
        """
        path = os.fspath(path)
        if os.path.islink(path):
            # Write what the link points at and keep the link, as open(path, "wb") would.
            path = os.path.realpath(path)
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise LocalFileError("cannot download to %s: no such directory" % path)
        if os.path.isdir(path):
            raise LocalFileError("cannot download to %s: it is a directory" % path)
        attempts = int(self.cfg.connection_retries) + 1
        for attempt in range(attempts):
            try:
                resp = self.http.stream("GET", url, headers=self.traffic_headers())
            except NetworkError as exc:
                return no_response(exc.__cause__ or exc)
            with resp:
                if not 200 <= resp.status_code < 300:
                    text = resp.raw.read(_ERROR_TEXT_LIMIT, decode_content=True).decode("utf-8", "replace")
                    return Result(resp.status_code, decode_body(text), resp.headers, text=text)
                try:
                    return self._receive(resp, url, path, directory, progress, expected_hash)
                except (requests.RequestException, _Truncated) as exc:
                    if attempt + 1 == attempts:
                        return no_response(exc)
                    log.info("download of %s broke off (%s); retry %d/%d", url, exc, attempt + 1, attempts - 1)
            self.http.backoff.wait(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _receive(self, resp: requests.Response, url: str, path: str, directory: str,
                 progress: Optional[Progress], expected_hash: Optional[str]) -> Result:
        if _is_special(path):
            # A FIFO or device (/dev/null, a pipe) cannot be replaced by a renamed file: stream into it.
            tmp = None
            try:
                fd = os.open(path, os.O_WRONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
            except OSError as exc:
                raise LocalFileError("cannot write %s: %s" % (path, exc.strerror or exc)) from None
        else:
            try:
                fd, tmp = _create_part_file(directory, os.path.basename(path))
            except OSError as exc:
                raise LocalFileError("cannot write in %s: %s" % (directory, exc.strerror or exc)) from None
        hasher = EtagHasher()
        received = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for data in resp.iter_content(READ_SIZE):
                    out.write(data)
                    hasher.update(data)
                    received += len(data)
                    if progress is not None:
                        progress(len(data))
            length = resp.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) != received and \
                    not resp.headers.get("Content-Encoding"):
                raise _Truncated("got %d of %s bytes" % (received, length))
            local = hasher.etag()
            for source, wanted in (("expected hash", expected_hash),
                                   ("ETag header", header_etag(resp.headers.get("ETag")))):
                if wanted and wanted != local:
                    raise IntegrityError("download of %s: received bytes hash to %s, %s is %s"
                                         % (url, local, source, wanted))
            if tmp is not None:
                _keep_existing_mode(path, tmp)
                os.replace(tmp, path)
        except BaseException as exc:
            if progress is not None and received:
                progress(-received)
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            if isinstance(exc, OSError) and not isinstance(exc, (requests.RequestException, WcsError)):
                raise LocalFileError("cannot write %s: %s" % (path, exc.strerror or exc)) from exc
            raise
        log.debug("downloaded %s -> %s (%d bytes, %s)", url, path, received, local)
        return Result(resp.status_code, {"hash": local, "fsize": received, "path": path}, resp.headers)


class _Truncated(Exception):
    """The body ended before Content-Length bytes."""


def _create_part_file(directory: str, name: str) -> Tuple[int, str]:
    """Create and open a new, uniquely named ``.<name>.<random>.part`` file in ``directory``.

    Unlike ``tempfile.mkstemp`` (always 0600) the mode is ``0o666``, which the kernel reduces by
    the umask exactly as for any new file; no process-wide umask is read or changed.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(directory, ".%s.%s.part" % (name, secrets.token_hex(6)))
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError("no free temporary name in %s" % directory)


def _is_special(path: str) -> bool:
    """``path`` exists and is neither a regular file nor a directory (a FIFO, a device, a socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _keep_existing_mode(path: str, tmp: str) -> None:
    """Give ``tmp`` the permission bits of an existing file ``path`` (as overwriting it in place would)."""
    try:
        st = os.stat(path)
    except OSError:
        return  # a new file: the mode it was created with stands
    if stat.S_ISREG(st.st_mode):
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
