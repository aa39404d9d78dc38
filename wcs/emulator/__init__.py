"""wcs-emulator: a local, offline twin of Wangsu / CDNetworks Cloud Storage (WCS) for tests and tools.

Upload (``/file/upload``, ``/mkblk``, ``/bput``, ``/mkfile``), management (``/stat``, ``/delete``, ``/move``,
``/copy``, ``/setdeadline``, ``/list``, ``/bucket/*``, ``/fmgr/*``, ``/fops``, status queries,
``/wslive/list``, ``/converttype``, ``/restore``, ``/prefetch``), append upload (``/append``) and downloads
(``GET|HEAD /<bucket>/<key>``, with ``?op=imageInfo`` ...) share one origin, with tokens checked exactly
as the service checks them (protocol reference ``wcs-api-v1.md``). Install with the ``[emulator]`` extra
(werkzeug; Pillow for image information). The SDK never imports this package. ``docs/emulator.md`` in the
repository has the full list of choices.

Defaults:

* key pair: access key :data:`DEFAULT_ACCESS_KEY` (``wcs-emulator-access-key``), secret key
  :data:`DEFAULT_SECRET_KEY` (``wcs-emulator-secret-key``);
* port :data:`DEFAULT_PORT` (8930) for the command line, 0 (a free port) for :class:`Emulator`;
* data dir of the command line: ``$XDG_DATA_HOME/wcs-emulator``, i.e. ``~/.local/share/wcs-emulator``;
  :class:`Emulator` without ``data_dir`` uses a temporary directory removed on stop.

Python use::

    from wcs.emulator import Emulator

    with Emulator(data_dir="/tmp/wcs-data", buckets=["photos"]) as emu:
        emu.write_config("/tmp/wcs.cfg")      # a .wcscfg (mode 0600) pointing at emu.url
        ...                                  # emu.url, emu.access_key, emu.counters, emu.set_faults(...)

Behaviour the reference marks [INFERRED] or leaves open, as the emulator implements it:

* Errors are ``{"code": N, "message": "...", "error": "..."}`` with HTTP status N and a reason phrase even for
  579/631/701. 631 = missing bucket on the upload path, 404 on management, 406 = key exists without
  ``overwrite``, 701 = bad ctx / offset / chunk past the block end, 412 = ``mkfile`` blocks incomplete or not
  summing to the file size, 400 = malformed request, 401 = every token problem (also ``fsizeLimit``).
* Form upload success without ``returnBody``: URL-safe Base64 (padded) of ``hash=<etag>``, ``text/plain``;
  with ``returnBody``: Base64 of ``<returnBody>&hash=<etag>``; ``returnUrl`` answers 303.
* ``ctx`` is ``<block id>-<offset>-<HMAC>`` (path-safe, keyed by a secret kept in the data dir, so it
  survives restarts); a ``bput`` retried with an older ctx replaces the bytes after that offset.
* ``list``: ``fsize`` is a JSON string, ``putTime`` a number (ms), markers are URL-safe Base64 of the last
  entry; ``expirationDate`` is UTC ISO 8601 (``2030-01-02T03:04:05Z``) or empty.
* Retention days (form ``deadline``, ``Deadline`` header, ``setdeadline``) count from the call; expired
  objects vanish from stat, list and download at once and are deleted lazily.
* Outbound calls (``callbackUrl``, ``notifyURL``, ``persistentNotifyUrl``, fmgr ``fetch``) go only to loopback
  hosts (127.0.0.0/8, ::1, localhost); any other host fails without a packet sent (callback -> 579 after
  the object is stored, fetch -> failed item, notification -> status 5). Retries are shortened to 3
  attempts within about a second (the service: 3 + 5 a minute apart).
* More choices are listed in the modules of :mod:`wcs.emulator.api` (one per endpoint family),
  :mod:`wcs.emulator.jobs`, :mod:`wcs.emulator.faults` and ``docs/emulator.md``.
"""

from wcs.emulator.server import DEFAULT_ACCESS_KEY, DEFAULT_PORT, DEFAULT_SECRET_KEY, Emulator, Limits
from wcs.emulator.settings import Settings

__all__ = ["Emulator", "Limits", "Settings", "DEFAULT_ACCESS_KEY", "DEFAULT_SECRET_KEY", "DEFAULT_PORT"]
