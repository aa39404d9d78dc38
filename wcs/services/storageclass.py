"""Storage classes and Archive restore: ``POST /converttype/<entry>/<class>`` (reference 6.11) and
``POST /restore/<entry>/days/<n>`` (6.12), signed like every management call, and how a download
refused for an Archive object that is not restored is told apart.

Classes are named three ways: ``/converttype`` takes ``Standard``, ``IA`` or ``Archive``; ``stat`` and
listings answer ``Standard``, ``InfrequentAccess`` or ``Archive`` (the names of ``/bucket/stat``'s
``storageType``). :func:`wire_class` accepts any of them, in any case, and sends the converttype name.

The answers keep the codes the reference writes, odd ones included: converttype 403 ``Invalid Object
State`` (already that class, or Archive not restored) and 403 ``File Not Found``; restore 401 ``Invalid
Object State`` (a Standard object), 403 ``Unsupported Operation`` (not Archive), 409 ``Restore Is
InProgress``, 404. They come back as Results; only caller mistakes raise.

A download of an Archive object that is not restored is refused; the reference gives no code for it,
the emulator answers converttype's 403 ``Invalid Object State``. :func:`mark_not_restored` gives such a
refusal its type, :class:`~wcs.commons.errors.NotRestored`, which ``raise_for_status`` raises.
"""

from typing import Dict, Optional

from wcs.commons.errors import InvalidArgument, NotRestored
from wcs.commons.http import Result
from wcs.commons.result import ObjectInfo
from wcs.commons.util import entry
from wcs.services.base import Service

# Any spelling -> the name /converttype takes.
_WIRE_NAMES: Dict[str, str] = {"standard": "Standard", "ia": "IA", "infrequentaccess": "IA",
                               "infrequent_access": "IA", "archive": "Archive"}
CLASSES = ("Standard", "IA", "Archive")
"""The classes ``/converttype`` takes (``InfrequentAccess`` is accepted for ``IA``)."""
LISTED_NAMES = {"Standard": "Standard", "IA": "InfrequentAccess", "Archive": "Archive"}
"""A converttype class -> the name ``stat`` and listings show it under."""
REFUSAL = "invalid object state"
"""The service's message for an object in a state that forbids the call (here: Archive, not restored)."""


def wire_class(name: str) -> str:
    """``Standard``, ``IA`` or ``Archive`` for any of the names a class goes by (``InfrequentAccess``, any case).

    Raises:
        InvalidArgument: another name.
    """
    wire = _WIRE_NAMES.get(str(name).strip().lower())
    if wire is None:
        raise InvalidArgument("unknown storage class %r: Standard, IA (InfrequentAccess) or Archive" % (name,))
    return wire


def same_class(listed: Optional[str], wire: str) -> bool:
    """Whether an object shown with class ``listed`` already is of the converttype class ``wire``."""
    return bool(listed) and _WIRE_NAMES.get(str(listed).lower()) == wire


def restore_days(days: object) -> int:
    """``days`` as a whole number >= 1.

    Raises:
        InvalidArgument: anything else (the service would answer 400).
    """
    try:
        value = int(str(days).strip())
    except ValueError:
        value = 0
    if value < 1 or isinstance(days, bool):
        raise InvalidArgument("invalid number of days %r: a whole number >= 1" % (days,))
    return value


class StorageClassService(Service):
    """``converttype`` and ``restore`` of one object."""

    def convert_type(self, bucket: str, key: str, storage_class: str) -> Result:
        """Move ``bucket:key`` to another storage class (``Standard``, ``IA``, ``Archive``).

        Raises:
            InvalidArgument: an unknown class.
        """
        return self.mgr_post("/converttype/%s/%s" % (entry(bucket, key), wire_class(storage_class)))

    def restore(self, bucket: str, key: str, days: object) -> Result:
        """Make the Archive object ``bucket:key`` readable for ``days`` days once the restore is done.

        Raises:
            InvalidArgument: ``days`` is not a whole number >= 1.
        """
        return self.mgr_post("/restore/%s/days/%d" % (entry(bucket, key), restore_days(days)))


def is_not_restored(result: Result, info: Optional[ObjectInfo] = None) -> bool:
    """Whether ``result`` is a download refused because the object is Archive and not restored: the
    service's 403 ``Invalid Object State``, or a 403 for an object ``stat`` showed as needing a restore."""
    if result.code != 403:
        return False
    if info is not None and info.needs_restore:
        return True
    return result.message.lower().startswith(REFUSAL)


def mark_not_restored(result: Result, what: str, info: Optional[ObjectInfo] = None) -> Result:
    """``result``, carrying :class:`~wcs.commons.errors.NotRestored` (raised by ``raise_for_status``)
    when it is such a refusal; ``what`` names the object in its message."""
    if not is_not_restored(result, info):
        return result
    error = NotRestored("%s is in Archive storage and not restored: restore it (Client.restore), then download "
                        "it once stat shows it restored (HTTP %d: %s, reqid %s)"
                        % (what, result.code, result.message, result.reqid), result)
    return result.with_error(error)
