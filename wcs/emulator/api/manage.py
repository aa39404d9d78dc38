"""Resource management: ``/stat``, ``/delete``, ``/move``, ``/copy``, ``/setdeadline``, ``/list``,
``/bucket/list``, ``/bucket/stat``, ``/bucket/statistics`` and ``/wslive/list``.

Every call is signed with a management token over the raw target and body (:meth:`Context.mgr_body`).

[INFERRED] behaviour:

* ``/move`` and ``/copy`` always overwrite (docs); ``/setdeadline`` counts days from the call, 0 expires
  at once, -1 removes the expiry; ``relevance`` (default 1) extends it to the ts segments of an m3u8.
* ``/bucket/stat`` and ``/bucket/statistics`` answer per UTC day from the objects stored now
  (:mod:`~wcs.emulator.api.usage`). ``/wslive/list`` interprets its times as UTC.
* Stat and list items show the storage class, the object type and an Archive object's restore
  (:mod:`~wcs.emulator.api.objectview`); a copy is a normal Standard object, a move keeps both.
* ``/copy`` of an Archive object that is not restored is refused like its download (403).
"""

from datetime import datetime, timezone
from typing import Any, Dict

from werkzeug.wrappers import Request, Response

from wcs.emulator.api import objectview, usage
from wcs.emulator.api.context import Context
from wcs.emulator.api.wire import b64_text, bounded_int, decode_entry, int_arg, json_response
from wcs.emulator.errors import BadRequest, FileNotFound, InvalidObjectState, MissingParameter
from wcs.emulator.jobs import m3u8_segments
from wcs.emulator.state import DAY_MS, MAX_RETENTION_DAYS, ObjectInfo, now_ms, validate_key
from wcs.emulator.state.extras import NORMAL, Extra, file_id_of

_OK = {"code": 200, "message": "OK"}


def _stat_body(info: ObjectInfo, extra: Extra, now: int) -> Dict[str, Any]:
    body = {"result": True, "code": 200, "name": info.key, "message": "OK", "fsize": info.fsize,
            "hash": info.hash, "mimeType": info.mime_type, "putTime": info.put_time,
            "expirationDate": info.expiration_date}
    body.update(objectview.fields(extra, now))
    return body


class ManageApi:
    """The synchronous management endpoints."""

    endpoints = ("stat", "delete", "move", "copy", "setdeadline", "list", "bucket_list", "bucket_stat",
                 "bucket_statistics", "wslive_list")

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def stat(self, request: Request, entry: str) -> Response:
        self.ctx.mgr_body(request)
        bucket, key = decode_entry(entry)
        info = self.store.require(bucket, key)
        extra = self.store.extras.get(info)
        response = json_response(_stat_body(info, extra, now_ms()))
        response.headers.extend(objectview.append_headers(info, extra))
        return response

    def delete(self, request: Request, entry: str) -> Response:
        self.ctx.mgr_body(request)
        bucket, key = decode_entry(entry)
        self.store.require_bucket(bucket)
        if not self.store.delete(bucket, key):
            raise FileNotFound()
        return json_response(_OK)

    def _copy(self, request: Request, src: str, dst: str, move: bool) -> Response:
        self.ctx.mgr_body(request)
        src_bucket, src_key = decode_entry(src)
        dst_bucket, dst_key = decode_entry(dst)
        validate_key(dst_key)
        if not move and not self.store.extras.get(self.store.require(src_bucket, src_key)).readable(now_ms()):
            raise InvalidObjectState("the source is an Archive object that is not restored; restore it first")
        self.store.copy(src_bucket, src_key, dst_bucket, dst_key, overwrite=True, move=move)
        return json_response(_OK)

    def move(self, request: Request, src: str, dst: str) -> Response:
        return self._copy(request, src, dst, move=True)

    def copy(self, request: Request, src: str, dst: str) -> Response:
        return self._copy(request, src, dst, move=False)

    def setdeadline(self, request: Request) -> Response:
        _, form = self.ctx.mgr_body(request)
        bucket = b64_text(form.get("bucket"), "bucket")
        key = b64_text(form.get("key"), "key")
        days_text = form.get("deadline", form.get("deleteAfterDays"))
        if days_text is None:
            raise MissingParameter("deadline")
        days = bounded_int(days_text, "deadline", -1, MAX_RETENTION_DAYS,
                           "a whole number of days (-1 keeps forever)")
        self.store.require(bucket, key)
        segments = m3u8_segments(self.store, bucket, key) \
            if key.endswith(".m3u8") and form.get("relevance", "1") != "0" else []
        expires_at = None if days == -1 else now_ms() + days * DAY_MS
        for each in [key] + segments:  # the playlist is read before a deadline of 0 expires it
            self.store.set_expiry(bucket, each, expires_at)
        return json_response(_OK)

    def list(self, request: Request) -> Response:
        self.ctx.mgr_body(request)
        args = request.args
        bucket = args.get("bucket", "")
        if not bucket:
            raise MissingParameter("bucket")
        limit = int_arg(args, "limit", 1, 1000) or 1000
        mode = int_arg(args, "mode", 0, 1)
        prefix = b64_text(args["prefix"], "prefix") if args.get("prefix") else ""
        start_time = int_arg(args, "startTime", 0)
        end_time = int_arg(args, "endTime", 0)
        self.store.require_bucket(bucket)
        items, common, marker = self.store.list_objects(bucket, prefix, args.get("marker", ""), limit, mode,
                                                        start_time, end_time)
        extras = self.store.extras.of(items)
        now = now_ms()
        listed = []
        for i in items:
            item = {"key": i.key, "putTime": i.put_time, "hash": i.hash, "fsize": str(i.fsize),
                    "mimeType": i.mime_type, "expirationDate": i.expiration_date}
            item.update(objectview.fields(extras.get(file_id_of(i), NORMAL), now))
            listed.append(item)
        return json_response({"marker": marker, "commonPrefixes": common, "items": listed})

    def bucket_list(self, request: Request) -> Response:
        self.ctx.mgr_body(request)
        return json_response(dict(_OK, buckets=[{"name": name} for name in self.store.buckets()]))

    def bucket_stat(self, request: Request) -> Response:
        self.ctx.mgr_body(request)
        return json_response(dict(_OK, buckets=usage.bucket_stat(self.store, request.args)))

    def bucket_statistics(self, request: Request) -> Response:
        self.ctx.mgr_body(request)
        return json_response(dict(_OK, buckets=usage.bucket_statistics(self.store, request.args)))

    def wslive_list(self, request: Request) -> Response:
        self.ctx.mgr_body(request)
        args = request.args
        for name in ("channelname", "startTime", "endTime", "bucket"):
            if not args.get(name):
                raise MissingParameter(name)
        times = []
        for name in ("startTime", "endTime"):
            try:
                moment = datetime.strptime(args[name], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
            except ValueError:
                raise BadRequest("%s must be yyyyMMddHHmmss" % name) from None
            times.append(int(moment.timestamp() * 1000))
        start = int_arg(args, "start", 1) or 1
        limit = int_arg(args, "limit", 0)
        bucket = args["bucket"]
        self.store.require_bucket(bucket)
        found = [info for info in self.store.keys_under(bucket, args["channelname"])
                 if times[0] <= info.put_time <= times[1] + 999]
        page = found[start - 1:] if limit is None else found[start - 1:start - 1 + limit]
        return json_response(dict(_OK, total=len(found), items=[
            {"key": i.key, "fsize": i.fsize, "putTime": i.put_time, "hash": i.hash, "mimeType": i.mime_type}
            for i in page]))
