"""Resource management: ``/stat``, ``/delete``, ``/move``, ``/copy``, ``/setdeadline``, ``/list``,
``/bucket/list``, ``/bucket/stat``, ``/bucket/statistics``, ``/prefetch`` and ``/wslive/list``.

Every call is signed with a management token over the raw target and body (:meth:`Context.mgr_body`).

[INFERRED] behaviour:

* ``/move`` and ``/copy`` always overwrite (docs); ``/setdeadline`` counts days from the call, 0 expires
  at once, -1 removes the expiry; ``relevance`` (default 1) extends it to the ts segments of an m3u8.
* ``/bucket/stat`` reports, for every day of the range, the bucket's current size (an approximation:
  no history is kept). ``/wslive/list`` interprets its times as UTC.
"""

from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict

from werkzeug.wrappers import Request, Response

from wcs.emulator.api.context import Context
from wcs.emulator.api.wire import b64_text, bounded_int, decode_entry, int_arg, json_response
from wcs.emulator.errors import BadRequest, FileNotFound, MirrorNotBound, MissingParameter
from wcs.emulator.jobs import m3u8_segments
from wcs.emulator.state import DAY_MS, MAX_RETENTION_DAYS, ObjectInfo, now_ms, validate_key

_OK = {"code": 200, "message": "OK"}


def _stat_body(info: ObjectInfo) -> Dict[str, Any]:
    return {"result": True, "code": 200, "name": info.key, "message": "OK", "fsize": info.fsize,
            "hash": info.hash, "mimeType": info.mime_type, "putTime": info.put_time,
            "expirationDate": info.expiration_date, "storageClass": "Standard"}


def _date_arg(args: Any, name: str) -> date:
    try:
        return datetime.strptime(args.get(name, ""), "%Y-%m-%d").date()
    except ValueError:
        raise BadRequest("%s must be yyyy-mm-dd" % name) from None


class ManageApi:
    """The synchronous management endpoints."""

    endpoints = ("stat", "delete", "move", "copy", "setdeadline", "list", "bucket_list", "bucket_stat",
                 "bucket_statistics", "prefetch", "wslive_list")

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def stat(self, request: Request, entry: str) -> Response:
        self.ctx.mgr_body(request)
        bucket, key = decode_entry(entry)
        return json_response(_stat_body(self.store.require(bucket, key)))

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
        return json_response({
            "marker": marker, "commonPrefixes": common,
            "items": [{"key": i.key, "putTime": i.put_time, "hash": i.hash, "fsize": str(i.fsize),
                       "mimeType": i.mime_type, "expirationDate": i.expiration_date,
                       "storageClass": "Standard"} for i in items]})

    def bucket_list(self, request: Request) -> Response:
        self.ctx.mgr_body(request)
        return json_response(dict(_OK, buckets=[{"name": name} for name in self.store.buckets()]))

    def bucket_stat(self, request: Request) -> Response:
        self.ctx.mgr_body(request)
        args = request.args
        names = [n for n in b64_text(args.get("name"), "name").split("|") if n]
        start, end = _date_arg(args, "startdate"), _date_arg(args, "enddate")
        if end < start:
            raise BadRequest("enddate is before startdate")
        if (end - start).days > 184:
            raise BadRequest("the date range must not exceed 6 months")
        storage_type = args.get("storageType", "")
        if storage_type not in ("", "Standard", "InfrequentAccess", "Archive"):
            raise BadRequest("storageType must be Standard, InfrequentAccess or Archive")
        result = []
        for name in names:
            self.store.require_bucket(name)
            # Everything the emulator stores is Standard; no history is kept, so every day shows the
            # current size.
            size = self.store.bucket_size(name) if storage_type in ("", "Standard") else 0
            days = (end - start).days + 1
            result.append({"name": name, "detail": [
                {"data_time": (start + timedelta(days=i)).isoformat(), "storage": "%.3f" % (size / 1048576.0)}
                for i in range(days)]})
        return json_response(dict(_OK, buckets=result))

    def bucket_statistics(self, request: Request) -> Response:
        self.ctx.mgr_body(request)
        return json_response(dict(_OK, buckets=[]))

    def prefetch(self, request: Request, param: str) -> Response:
        self.ctx.mgr_body(request)
        bucket = b64_text(param, "param").split(":", 1)[0]
        self.store.require_bucket(bucket)
        raise MirrorNotBound()

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
