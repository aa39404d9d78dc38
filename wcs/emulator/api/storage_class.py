"""Storage classes and the restore of Archive objects: ``POST /converttype/<entry>/<class>`` (reference
6.11) and ``POST /restore/<entry>/days/<n>`` (6.12), both signed like every management call.

Codes as the reference writes them: converttype answers 403 ``Invalid Object State`` for the class the
object already has and for an Archive object that is not restored, 403 ``File Not Found`` for a missing
object; restore answers 401 ``Invalid Object State`` for a Standard object, 403 ``Unsupported Operation``
for an IA one, 409 ``Restore Is InProgress`` while restoring, 404 ``File Not Found``, 400 for ``n`` that
is not a whole number >= 1. Success is ``{"code": 200, "message": "ok"}``.

[INFERRED] choices (also in ``docs/emulator.md``):

* A restore is in progress for ``Settings.restore_delay`` seconds (``--restore-delay``,
  ``WCS_EMULATOR_RESTORE_DELAY``, 3 s by default), then the object is readable for ``n`` days counted
  from the end of the restore; a day lasts ``Settings.restore_day_seconds`` (86400 s by default,
  ``--restore-day-seconds``). Then it is an Archive object that is not restored again.
* Restoring an object that is restored (not in progress) is accepted and makes it readable for ``n``
  days from now, at once.
* Converting a restored Archive object to Standard or IA makes it readable for good; converting an
  object to Archive leaves it not restored. The lifetime of a restore is not carried across classes.
* A bucket that does not exist is 404 ``Bucket Not Found`` on both; a class name other than
  ``Standard``, ``IA`` (or ``InfrequentAccess``), ``Archive`` is 400.
"""

from werkzeug.wrappers import Request, Response

from wcs.emulator.api.context import Context
from wcs.emulator.api.objectview import CLASS_OF_NAME
from wcs.emulator.api.wire import bounded_int, decode_entry, json_response
from wcs.emulator.errors import (
    AlreadyStandard,
    BadRequest,
    ConvertFileNotFound,
    FileNotFound,
    InvalidObjectState,
    RestoreInProgress,
    UnsupportedOperation,
)
from wcs.emulator.state import MAX_RETENTION_DAYS, now_ms
from wcs.emulator.state.extras import ARCHIVE, STANDARD

_OK = {"code": 200, "message": "ok"}


class StorageClassApi:
    """``converttype`` and ``restore``."""

    endpoints = ("converttype", "restore")

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def converttype(self, request: Request, entry: str, storage_class: str) -> Response:
        self.ctx.mgr_body(request)
        bucket, key = decode_entry(entry)
        target = CLASS_OF_NAME.get(storage_class)
        if target is None:
            raise BadRequest("storage class must be Standard, IA or Archive, not %r" % storage_class[:40])
        self.store.require_bucket(bucket)
        with self.store.lock:  # the version checked is the version changed
            info = self.store.get(bucket, key)
            if info is None:
                raise ConvertFileNotFound()
            extra = self.store.extras.get(info)
            now = now_ms()
            if extra.storage_class == target:
                raise InvalidObjectState("the object already is %s" % storage_class)
            if not extra.readable(now):
                raise InvalidObjectState("the object is Archive and not restored; restore it first")
            self.store.extras.update(info, extra._replace(storage_class=target, restore_ready=None,
                                                          restore_until=None))
        return json_response(_OK)

    def restore(self, request: Request, entry: str, days: str) -> Response:
        self.ctx.mgr_body(request)
        bucket, key = decode_entry(entry)
        count = bounded_int(days, "days", 1, MAX_RETENTION_DAYS, "a whole number of days >= 1")
        settings = self.ctx.settings
        self.store.require_bucket(bucket)
        with self.store.lock:
            info = self.store.get(bucket, key)
            if info is None:
                raise FileNotFound()
            extra = self.store.extras.get(info)
            if extra.storage_class == STANDARD:
                raise AlreadyStandard("the object is Standard: it needs no restore")
            if extra.storage_class != ARCHIVE:
                raise UnsupportedOperation("only Archive objects are restored")
            now = now_ms()
            state = extra.restore_state(now)
            if state == "restoring":
                raise RestoreInProgress()
            ready = now if state == "restored" else now + int(settings.restore_delay * 1000)
            until = ready + int(count * settings.restore_day_seconds * 1000)
            self.store.extras.update(info, extra._replace(restore_ready=ready, restore_until=until))
        return json_response(_OK)
