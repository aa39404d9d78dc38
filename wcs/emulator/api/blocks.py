"""Multipart upload: ``POST /mkblk/<size>[/<order>]``, ``/bput/<ctx>/<offset>``, ``/mkfile/<size>[/..]``.

[INFERRED] behaviour:

* A ``bput`` with an older ctx replaces the bytes after its offset (idempotent retries); a ctx that is
  forged or unknown, an offset not matching the ctx and a chunk past the block end are 701.
* A ctx is bound to the bucket of the token its block was made under, to that token's key when it
  names one, and to its ``UploadBatch``: a ``bput`` or ``mkfile`` under a token for another bucket or
  key, or naming another batch, is 701. A
  ``bput`` that fails midway leaves its block received only up to its offset.
* ``mkfile`` holds the locks of its blocks while it merges them; once merged they are gone, so a late
  ``bput`` on any of their ctx values is 701 and a stored object's bytes never change.
* ``mkfile`` path: ``/key/<b64>``, ``/x:<name>/<b64>``, ``/mimeType/<b64>``, ``/fname/<b64>``; the key is
  scope > ``Key`` header > ``/key/``. A block that is incomplete, or blocks not summing to the size, are 412.
  ``Deadline`` counts days from the call; the answer is ``{"hash", "key"}`` plus the pairs of
  ``returnBody``.
"""

import os
import time
from contextlib import ExitStack
from typing import Any, Callable, Dict, List, Optional, Tuple

from werkzeug.wrappers import Request, Response

from wcs.commons.util import BLOCK_SIZE
from wcs.emulator.api import policy as put_policy
from wcs.emulator.api.chunks import ChunkReceiver
from wcs.emulator.api.context import Context
from wcs.emulator.api.wire import b64_text, bounded_int, json_response, retention
from wcs.emulator.errors import (
    BadContext,
    BadRequest,
    BucketAccessDenied,
    FileExists,
    IncompleteBlocks,
    InvalidCtx,
)
from wcs.emulator.state import Block, guess_mime, validate_key
from wcs.emulator.verify import split_scope

MAX_CTX_LIST = 32 * 1024 * 1024
MAX_BLOCK_SIZE = 1 << 32
"""Largest ``mkblk`` block (4 GiB; SDKs use 4 MiB multiples, android caps blocks at 100 MiB)."""
MAX_BLOCK_ORDER = (1 << 31) - 1
MAX_FILE_SIZE = 1 << 53
"""Largest ``mkfile`` size: the largest integer every JSON parser keeps exactly."""

OnMkblk = Callable[[Optional[str], int, int], None]
"""Told ``(UploadBatch header, block order, block size)`` of every mkblk that succeeded."""


class BlocksApi:
    """``mkblk``, ``bput`` and ``mkfile``."""

    endpoints = ("mkblk", "bput", "mkfile")

    def __init__(self, ctx: Context, on_mkblk: Optional[OnMkblk] = None) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.chunks = ChunkReceiver(ctx.store.secret)
        self.on_mkblk = on_mkblk or (lambda batch, order, size: None)

    def _check_token(self, request: Request) -> Dict[str, Any]:
        policy = self.ctx.upload_checker(request)(request.headers.get("Authorization"))
        self.ctx.upload_bucket(policy)
        return policy

    @staticmethod
    def _check_owner(block: Block, policy: Dict[str, Any], request: Request) -> None:
        """701 unless ``block`` was made for the same bucket, under a token for the whole bucket or for the
        same key, and, when both name one, in the same ``UploadBatch``: a ctx cannot carry one caller's
        data into another caller's upload."""
        if block.scope is not None:
            made_bucket, made_key = split_scope({"scope": block.scope})
            bucket, key = split_scope(policy)
            if made_bucket != bucket or (made_key is not None and made_key != key):
                raise InvalidCtx("the ctx belongs to an upload under another token scope")
        batch = request.headers.get("UploadBatch")
        if batch and block.batch and batch != block.batch:
            raise InvalidCtx("the ctx belongs to another upload batch")

    def mkblk(self, request: Request, block_size: str, block_order: str = "0") -> Response:
        """``block_size``, ``block_order``: the digits of the path (see :mod:`wcs.emulator.routes`)."""
        policy = self._check_token(request)
        size = bounded_int(block_size, "block size", 1, MAX_BLOCK_SIZE)
        order = bounded_int(block_order, "block order", 0, MAX_BLOCK_ORDER)
        batch = request.headers.get("UploadBatch")
        block = self.store.blocks.new(batch, size, order, str(policy.get("scope")))
        with self.chunks.lock_for(block.id):
            try:
                got = self.chunks.receive(request, block, 0)
            except BadContext:
                self._abandon(block)
                raise BadRequest("first chunk is larger than the block size") from None
            except Exception:  # e.g. the client went away mid-chunk: no half-made block is left behind
                self._abandon(block)
                raise
            self.store.blocks.set_received(block.id, got.length, got.digests)
        self.on_mkblk(batch, order, size)
        return json_response({"ctx": self.chunks.ctx(block.id, got.length), "checksum": got.md5,
                              "crc32": got.crc32, "offset": got.length})

    def _abandon(self, block: Block) -> None:
        self.chunks.forget(block.id)
        self.store.blocks.drop([block.id])

    def bput(self, request: Request, ctx: str, offset: str) -> Response:
        policy = self._check_token(request)
        start = bounded_int(offset, "offset", 0, MAX_BLOCK_SIZE)
        block_id, ctx_offset = self.chunks.parse_ctx(ctx)
        if ctx_offset != start:
            raise BadContext("offset %d does not match the ctx (%d)" % (start, ctx_offset))
        with self.chunks.lock_for(block_id):
            block = self.store.blocks.get(block_id)
            if block is None:
                raise InvalidCtx("block unknown or already merged")
            self._check_owner(block, policy, request)
            try:
                on_disk = os.path.getsize(block.path)
            except OSError:
                raise InvalidCtx("block data missing") from None
            if on_disk < block.base + start or block.received < start:
                raise BadContext("ctx is ahead of the block data")
            try:
                got = self.chunks.receive(request, block, start)
            except BaseException:
                # The bytes after ``start`` may be half overwritten: they no longer count as received.
                if block.received > start:
                    whole = start // BLOCK_SIZE
                    self.store.blocks.set_received(block_id, start, block.digests[:whole * 40])
                self.chunks.forget(block_id)
                raise
            self.store.blocks.set_received(block_id, start + got.length, got.digests)
        end = start + got.length
        return json_response({"ctx": self.chunks.ctx(block_id, end), "checksum": got.md5, "crc32": got.crc32,
                              "offset": end})

    def _ctx_list(self, request: Request) -> List[Tuple[str, int]]:
        """``(block id, offset)`` of each ctx of an mkfile body, in order."""
        body = request.stream.read(MAX_CTX_LIST + 1)
        if len(body) > MAX_CTX_LIST:
            raise BadRequest("ctx list too long")
        return [self.chunks.parse_ctx(ctx) for ctx in (c.strip() for c in body.decode("ascii", "replace").split(","))
                if ctx]

    def _blocks_of(self, named: List[Tuple[str, int]], policy: Dict[str, Any], request: Request) -> List[Block]:
        """The blocks of the ctx list, in order; each must exist, be the caller's and be complete. Read
        under the blocks' locks, so no chunk is being written into any of them."""
        blocks = []
        for block_id, offset in named:
            block = self.store.blocks.get(block_id)
            if block is None:
                raise InvalidCtx("block unknown or already merged")
            self._check_owner(block, policy, request)
            if offset != block.size or block.received < block.size:
                raise IncompleteBlocks("block %d is incomplete (%d of %d bytes)" % (block.order, offset, block.size))
            blocks.append(block)
        return blocks

    def mkfile(self, request: Request, fsize: str, rest: str = "") -> Response:
        started = time.monotonic()
        policy = self._check_token(request)
        size = bounded_int(fsize, "file size", 0, MAX_FILE_SIZE)
        bucket, scope_key = split_scope(policy)
        segments = [s for s in rest.split("/") if s]
        params: Dict[str, str] = {}
        custom: Dict[str, str] = {}
        for i in range(0, len(segments) - 1, 2):
            name, value = segments[i], segments[i + 1]
            if name.startswith("x:"):
                custom[name] = b64_text(value, name)
            else:
                params[name] = value
        header_key = request.headers.get("Key")
        explicit = b64_text(header_key, "Key header") if header_key else None
        path_key = b64_text(params["key"], "/key/") if "key" in params else None
        if scope_key is not None and path_key and path_key != scope_key:
            raise BucketAccessDenied("key %r is outside the token scope" % path_key)
        key = put_policy.resolve_key(scope_key, explicit or path_key)
        if not key:
            raise BadRequest("no key: give it in the token scope or the Key header")
        validate_key(key)
        overwrite = bool(policy.get("overwrite", 0))
        if not overwrite and self.store.exists(bucket, key):
            raise FileExists()
        put_policy.check_size(policy, size)
        named = self._ctx_list(request)
        mime = guess_mime(key, request.headers.get("MimeType") or (
            b64_text(params["mimeType"], "/mimeType/") if "mimeType" in params else None))
        expires_at = retention(request.headers.get("Deadline"), "Deadline header")
        with ExitStack() as held:
            # A chunk still arriving for one of these blocks (a late retry of an older ctx) finishes
            # first, or fails; after the merge every ctx of them is 701: the object never changes.
            for block_id in sorted({block_id for block_id, _ in named}):
                held.enter_context(self.chunks.lock_for(block_id))
            blocks = self._blocks_of(named, policy, request)
            total = sum(block.size for block in blocks)
            if total != size:
                raise IncompleteBlocks("blocks hold %d bytes but the file size is %d" % (total, size))
            info = self.store.blocks.merge(blocks, bucket, key, size, mime, expires_at, overwrite=overwrite)
        fname = b64_text(params["fname"], "/fname/") if "fname" in params else key
        variables = put_policy.after_upload(self.ctx, policy, request, info, fname, custom, started)
        if policy.get("callbackUrl"):
            return put_policy.callback(self.ctx, policy, variables)
        reply: Dict[str, Any] = {"hash": info.hash, "key": info.key}
        if policy.get("returnBody"):
            for pair in put_policy.substitute(str(policy["returnBody"]), variables).split("&"):
                if pair:
                    name, _, value = pair.partition("=")
                    reply[name] = value
        return json_response(reply)
