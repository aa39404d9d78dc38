"""How ``stat``, ``list`` and downloads describe an object beyond the fields every object has: its storage
class, whether it is appendable, and the restore of an Archive object.

Every name the reference leaves open is chosen here, once:

* ``storageClass`` (reference 6.1, 6.6) shows ``Standard``, ``InfrequentAccess`` or ``Archive`` (the
  names of ``/bucket/stat``'s ``storageType``); ``/converttype`` takes ``Standard``, ``IA``, ``Archive``.
* reference: unknown, chosen: ``objectType`` (``Normal`` / ``Appendable``) in stat and list bodies, for
  every object. The reference only names the headers below.
* reference: unknown, chosen: for Archive objects, ``restoreState`` (``none``, ``restoring``,
  ``restored``) and ``restoreExpirationDate`` (formatted like ``expirationDate``, empty unless
  restored) in stat and list bodies.
* Appendable objects carry ``x-wcs-object-type: Appendable`` and ``x-wcs-next-append-position: <size>``
  on stat and download answers (reference 5, 6.1), and on downloads also ``x-next-append-position``, the
  name the download page writes (reference 9).
"""

from typing import Any, Dict

from wcs.emulator.state import ObjectInfo, format_expiration
from wcs.emulator.state.extras import ARCHIVE, IA, STANDARD, Extra

CLASS_NAMES = {STANDARD: "Standard", IA: "InfrequentAccess", ARCHIVE: "Archive"}
"""Stored class -> the ``storageClass`` shown (and the ``storageType`` of ``/bucket/stat``)."""
CLASS_OF_NAME = {STANDARD: STANDARD, IA: IA, "InfrequentAccess": IA, ARCHIVE: ARCHIVE}
"""A class as ``/converttype`` (and, leniently, ``storageClass``) names it -> the stored class."""
OBJECT_TYPE_FIELD = "objectType"
OBJECT_TYPES = {False: "Normal", True: "Appendable"}
RESTORE_STATE_FIELD = "restoreState"
RESTORE_UNTIL_FIELD = "restoreExpirationDate"


def fields(extra: Extra, now: int) -> Dict[str, Any]:
    """The fields of a stat body or list item that come from ``extra``."""
    result: Dict[str, Any] = {"storageClass": CLASS_NAMES.get(extra.storage_class, extra.storage_class),
                              OBJECT_TYPE_FIELD: OBJECT_TYPES[extra.appendable]}
    if extra.storage_class == ARCHIVE:
        state = extra.restore_state(now)
        result[RESTORE_STATE_FIELD] = state
        result[RESTORE_UNTIL_FIELD] = format_expiration(extra.restore_until) if state == "restored" else ""
    return result


def append_headers(info: ObjectInfo, extra: Extra, download: bool = False) -> Dict[str, str]:
    """The headers of an appendable object (none for a normal one)."""
    if not extra.appendable:
        return {}
    headers = {"x-wcs-object-type": "Appendable", "x-wcs-next-append-position": str(info.fsize)}
    if download:
        headers["x-next-append-position"] = str(info.fsize)
    return headers
