"""The answers of ``/bucket/stat`` (reference 6.8) and ``/bucket/statistics`` (6.9), per UTC day, from the
objects the emulator stores now (:class:`~wcs.emulator.state.usage.Usage`: no history is kept).

* ``/bucket/stat``: ``storage`` of a day = the size in MB (3 decimals) of the live objects uploaded by the
  end of that day, of the ``storageType`` asked for (all classes when omitted); a day after today shows
  today's figure. ``isListDetails`` is accepted and changes nothing.
* reference: unknown, chosen: ``/bucket/statistics`` takes ``type`` from :data:`STATISTICS` and answers
  ``{"code": 200, "message": "OK", "buckets": [{"name": b, "detail": [{"data_time": "yyyy-mm-dd", <type>:
  <number>}, ...]}]}``, one entry per day of the range; another ``type`` is a 400 naming the known ones.
"""

from datetime import date, datetime, timedelta
from typing import Any, Callable, Dict, List

from wcs.emulator.api.objectview import CLASS_OF_NAME
from wcs.emulator.api.wire import b64_text
from wcs.emulator.errors import BadRequest
from wcs.emulator.state import Store
from wcs.emulator.state.usage import DayUsage

MAX_RANGE_DAYS = 184
"""The reference's "span <= 6 months"."""
STORAGE_TYPES = ("Standard", "InfrequentAccess", "Archive")
STATISTICS: Dict[str, Callable[[DayUsage], int]] = {
    "uploadRequest": lambda day: day.objects,
    "uploadTraffic": lambda day: day.bytes,
}
"""``/bucket/statistics`` type -> its number for one day: the objects uploaded that day (the live ones),
and their bytes."""
_EPOCH = date(1970, 1, 1)


def _date_arg(args: Any, name: str) -> date:
    try:
        return datetime.strptime(args.get(name, ""), "%Y-%m-%d").date()
    except ValueError:
        raise BadRequest("%s must be yyyy-mm-dd" % name) from None


def _range(args: Any) -> List[date]:
    start, end = _date_arg(args, "startdate"), _date_arg(args, "enddate")
    if end < start:
        raise BadRequest("enddate is before startdate")
    if (end - start).days > MAX_RANGE_DAYS:
        raise BadRequest("the date range must not exceed 6 months")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _buckets(store: Store, args: Any) -> List[str]:
    names = [n for n in b64_text(args.get("name"), "name").split("|") if n]
    for name in names:
        store.require_bucket(name)
    return names


def bucket_stat(store: Store, args: Any) -> List[Dict[str, Any]]:
    """The ``buckets`` of a ``/bucket/stat`` answer."""
    names = _buckets(store, args)
    days = _range(args)
    storage_type = args.get("storageType", "")
    if storage_type not in ("",) + STORAGE_TYPES:
        raise BadRequest("storageType must be Standard, InfrequentAccess or Archive")
    result = []
    for name in names:
        by_day = store.usage.by_day(name, CLASS_OF_NAME[storage_type] if storage_type else None)
        first = (days[0] - _EPOCH).days
        total = sum(used.bytes for day, used in by_day.items() if day < first)
        detail = []
        for day in days:
            total += by_day[(day - _EPOCH).days].bytes if (day - _EPOCH).days in by_day else 0
            detail.append({"data_time": day.isoformat(), "storage": "%.3f" % (total / 1048576.0)})
        result.append({"name": name, "detail": detail})
    return result


def bucket_statistics(store: Store, args: Any) -> List[Dict[str, Any]]:
    """The ``buckets`` of a ``/bucket/statistics`` answer."""
    names = _buckets(store, args)
    kind = args.get("type", "")
    if kind not in STATISTICS:
        raise BadRequest("type must be one of %s" % ", ".join(sorted(STATISTICS)))
    value = STATISTICS[kind]
    days = _range(args)
    result = []
    for name in names:
        by_day = store.usage.by_day(name)
        none = DayUsage(0, 0)
        result.append({"name": name, "detail": [
            {"data_time": day.isoformat(), kind: value(by_day.get((day - _EPOCH).days, none))} for day in days]})
    return result
