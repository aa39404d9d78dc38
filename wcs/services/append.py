"""Append upload, ``POST /append/<position>`` (reference 5): bytes added at the end of an appendable object.

The request is a form upload (token, ``key``, ``mimeType``, ``deadline``, ``file``) whose ``position``
must be the object's length (0 creates it). The answer is a form upload's (URL-safe Base64 of
``hash=<etag of the whole object>``) with ``x-wcs-next-append-position: <new length>``
(:attr:`Result.next_position <wcs.commons.result.Result.next_position>`).

An :class:`Appender` appends to one object piece after piece and knows, when it started from an
empty object, the etag of everything it appended: each answer's ``hash`` is then checked against the
bytes sent, as a form upload's is. The new length is always checked.

An answer lost on the way is the hard part: the append may have been carried out, and sending it again
is refused as stale (409 ``Position Not Equal To Length``, with the object's length; reference: unknown,
the emulator's choice). So after an answer that may have been lost (no answer after the request reached
the service, or a failure after a retry) the appender asks ``stat``: an object shorter than
``position + size`` does not hold the piece; a longer one is read back at ``position`` (a ranged GET on
the download domain) and compared, by etag, with the bytes sent. With no download domain configured
only the length decides, which is exact while nobody else appends to the object. A piece that landed
is a success (the Result is made from the ``stat``: the object's etag and length when checked); one that
did not is the failure it was, a 409 telling where the object ends now.
"""

import io
import logging
from typing import Any, BinaryIO, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote

from wcs.commons.auth import Auth
from wcs.commons.errors import ConfigError, IntegrityError, InvalidArgument, LocalFileError
from wcs.commons.http import HttpClient, Result, multipart_form
from wcs.commons.settings import Endpoints, PolicyDefaults, TransferConfig
from wcs.commons.util import EtagHasher, urlsafe_base64_encode
from wcs.services.base import UploadService
from wcs.services.bodies import ChunkReader, Progress, SourceReadError
from wcs.services.bucket import BucketManager
from wcs.services.formupload import answer_may_be_lost

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MAX_PIECE = 2 * 1024 * MiB
"""The most one append may carry (the vendor's Go SDK refuses more): larger sources go in pieces."""
STREAM_PIECE = 4 * MiB
"""A stream of unknown length is read and appended this much at a time (one piece in memory)."""
NEXT_POSITION = "x-wcs-next-append-position"


class Appender(UploadService):
    """Appends to ``bucket:key`` from ``position`` on, piece after piece (one object, one thread).

    Args:
        objects: ``stat`` (the length after a lost answer).
        position: where the next piece goes (the object's length).
        known: the etag state of the object's content when all of it is known (it was empty when the
            appender started), so that every answer's hash can be checked; None otherwise.
        mime_type, deadline: form fields of every append (content type; retention in days).
    """

    def __init__(self, http: HttpClient, auth: Optional[Auth], endpoints: Endpoints, transfer: TransferConfig,
                 policy: PolicyDefaults, objects: BucketManager, bucket: str, key: str, position: int,
                 known: Optional[EtagHasher] = None, *, mime_type: Optional[str] = None,
                 deadline: Optional[int] = None) -> None:
        super().__init__(http, auth, endpoints, transfer, policy)
        if position < 0:
            raise InvalidArgument("invalid append position %d: the object's length, 0 or more" % position)
        self.objects = objects
        self.bucket = bucket
        self.key = key
        self.position = position
        self.known = known
        self.mime_type = mime_type
        self.deadline = deadline
        self.appended = 0

    # -- sources -----------------------------------------------------------------------------------

    def append_file(self, fp: BinaryIO, size: int, piece_size: int = MAX_PIECE,
                    progress: Optional[Progress] = None) -> Result:
        """Append ``size`` bytes of a seekable file from its current position, ``piece_size`` at a time.

        Returns:
            the last piece's Result, or the first that failed (the pieces before it stay appended).
        """
        start = fp.tell()
        result: Optional[Result] = None
        for offset, length in _plan(size, _checked_piece(piece_size)):
            result = self.append_piece(fp, start + offset, length, progress)
            if not result.ok:
                return result
        return result if result is not None else self.append_piece(fp, start, 0, progress)

    def append_stream(self, stream: BinaryIO, piece_size: int = STREAM_PIECE,
                      progress: Optional[Progress] = None) -> Result:
        """Append what a stream yields until its end, ``piece_size`` bytes at a time (one piece in memory).

        Returns:
            the last piece's Result (the first one that failed: the stream is not read further).
        """
        result: Optional[Result] = None
        for data in _pieces(stream, _checked_piece(piece_size)):
            result = self.append_piece(io.BytesIO(data), 0, len(data), progress)
            if not result.ok:
                return result
        assert result is not None  # _pieces yields at least once
        return result

    # -- one piece ---------------------------------------------------------------------------------

    def append_piece(self, fp: BinaryIO, offset: int, size: int, progress: Optional[Progress] = None) -> Result:
        """Append ``size`` bytes of ``fp`` (seekable) from ``offset`` at the current position.

        Raises:
            LocalFileError: ``fp`` cannot be read.
            IntegrityError: the answer's length or hash is not that of the bytes sent.
        """
        if size > MAX_PIECE:
            raise InvalidArgument("an append carries at most %d bytes, not %d" % (MAX_PIECE, size))
        position = self.position
        state: Dict[str, Any] = {}

        def restart() -> None:
            state["piece"] = EtagHasher()
            state["whole"] = self.known.copy() if self.known is not None else None

        def observe(data: bytes) -> None:
            state["piece"].update(data)
            if state["whole"] is not None:
                state["whole"].update(data)

        restart()
        reader = ChunkReader(fp, offset, size, progress, observe, restart)
        result = self._send(reader, position)
        if result.ok or answer_may_be_lost(result):
            if state["piece"].size != size:  # the last attempt was cut off while sending: hash the piece again
                restart()
                try:
                    _drain(ChunkReader(fp, offset, size, None, observe))
                except SourceReadError as exc:
                    raise exc.error from None
            if result.ok:
                return self._accepted(result, position, size, state["whole"])
            return self._resolve(result, position, size, state["piece"].etag(), state["whole"])
        return result

    def _send(self, reader: ChunkReader, position: int) -> Result:
        fields: List[Tuple[str, Any]] = [("token", self.upload_token(self.bucket, self.key)), ("key", self.key)]
        if self.mime_type:
            fields.append(("mimeType", self.mime_type))
        if self.deadline is not None:
            fields.append(("deadline", str(int(self.deadline))))

        def body() -> Tuple[Any, Dict[str, str]]:
            reader.seek(0)
            part = (quote(self.key), reader, self.mime_type or "application/octet-stream")
            return multipart_form(fields + [("file", part)])

        url = "%s/append/%d" % (self.put_base(), position)
        try:
            result = self.http.request("POST", url, headers=self.traffic_headers(), body=body, allow_redirects=False)
        except SourceReadError as exc:
            raise exc.error from None
        log.debug("append %s:%s at %d (%d bytes) -> %d reqid=%s", self.bucket, self.key, position, len(reader),
                  result.code, result.reqid)
        return result.with_raw_body()

    def _accepted(self, result: Result, position: int, size: int, whole: Optional[EtagHasher]) -> Result:
        """Check a success against the bytes sent, then move on past them."""
        what = "append to %s:%s at %d" % (self.bucket, self.key, position)
        if result.next_position is not None and result.next_position != position + size:
            raise IntegrityError("%s: the service reports a length of %d after it, the bytes sent make %d (reqid %s)"
                                 % (what, result.next_position, position + size, result.reqid), result)
        if whole is not None and self.policy.answer_is_plain:
            answered = result.answered_hash
            if answered is not None and answered != whole.etag():
                raise IntegrityError("%s: the service stored hash %s but the bytes sent make %s (reqid %s)"
                                     % (what, answered, whole.etag(), result.reqid), result)
        self._advance(position + size, size, whole)
        return result

    def _advance(self, length: int, size: int, whole: Optional[EtagHasher]) -> None:
        self.known = whole if whole is not None and whole.size == length else None
        self.position = length
        self.appended += size

    # -- after a lost answer -------------------------------------------------------------------------

    def _resolve(self, result: Result, position: int, size: int, piece_etag: str,
                 whole: Optional[EtagHasher]) -> Result:
        """``result`` unless the object shows that the piece landed: then the success, made from ``stat``."""
        landed, stat = self._landed(position, size, piece_etag)
        if not landed or stat is None:
            log.info("append to %s:%s at %d answered %d; the piece is %s", self.bucket, self.key, position,
                     result.code, "not there" if landed is False else "unverifiable")
            return result
        body = stat.data if isinstance(stat.data, dict) else {}
        length = int(body["fsize"])
        stored = str(body.get("hash") or "")
        if whole is not None and length == position + size and self.policy.answer_is_plain and stored != whole.etag():
            raise IntegrityError("append to %s:%s at %d: the object's hash is %s, the bytes appended make %s"
                                 % (self.bucket, self.key, position, stored, whole.etag()), stat)
        log.info("append to %s:%s at %d answered %d, but the object holds the piece there; done",
                 self.bucket, self.key, position, result.code)
        text = urlsafe_base64_encode("hash=" + stored)
        headers = dict(stat.headers)
        headers[NEXT_POSITION] = str(length)
        self._advance(length, size, whole)
        return Result(200, text, headers, text=text, data={"hash": stored}, attempts=result.attempts)

    def _landed(self, position: int, size: int, piece_etag: str) -> Tuple[Optional[bool], Optional[Result]]:
        """``(whether the object holds the piece at position, the stat)``; None when it cannot tell."""
        try:
            stat = self.objects.stat(self.bucket, self.key)
        except ConfigError:  # no mgr_url: nothing can tell
            return None, None
        if stat.code == 404:
            return False, stat
        body = stat.data if isinstance(stat.data, dict) else {}
        try:
            length = int(body.get("fsize"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None, stat
        if stat.code != 200:
            return None, stat
        if length < position + size:
            return False, stat
        if size == 0:
            return True, stat
        try:
            url = self.endpoints.object_url(self.bucket, self.key)
        except ConfigError:  # no download domain: the length decides (exact with one writer)
            return length == position + size, stat
        hasher = EtagHasher()
        read = self.http.get_body(url, hasher.update, start=position, end=position + size - 1)
        if not read.ok or hasher.size != size:
            return None, stat
        return hasher.etag() == piece_etag, stat


def _checked_piece(piece_size: int) -> int:
    if not 0 < int(piece_size) <= MAX_PIECE:
        raise InvalidArgument("invalid piece size %r: 1 byte to 2 GiB" % (piece_size,))
    return int(piece_size)


def _plan(size: int, piece_size: int) -> Iterator[Tuple[int, int]]:
    offset = 0
    while offset < size:
        length = min(piece_size, size - offset)
        yield offset, length
        offset += length


def _drain(reader: ChunkReader) -> None:
    while reader.read(MiB):
        pass


def _pieces(stream: BinaryIO, piece_size: int) -> Iterator[bytes]:
    """Pieces of exactly ``piece_size`` bytes (the last may be shorter, and is b"" for an empty stream).

    Raises:
        LocalFileError: the stream cannot be read.
    """
    first = True
    while True:
        chunks: List[bytes] = []
        got = 0
        while got < piece_size:
            try:
                data = stream.read(piece_size - got)
            except OSError as exc:
                raise LocalFileError("cannot read the data to append: %s" % (exc.strerror or exc)) from exc
            if not data:
                break
            if not isinstance(data, (bytes, bytearray)):
                raise InvalidArgument("append needs a binary stream (read() returned %s)" % type(data).__name__)
            chunks.append(bytes(data))
            got += len(data)
        if got or first:
            yield b"".join(chunks)
        if got < piece_size:
            return
        first = False
