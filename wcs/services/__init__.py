"""WCS services: the engine below the :class:`wcs.services.client.Client` facade, and the official modules.

Three layers, imported one way (``tests/unit/test_services_structure.py`` keeps it so, and finds no
import cycle):

* the engine: services that get what they need as arguments (an ``HttpClient``, an ``Auth``, the
  frozen settings, the client's :class:`~wcs.services.scheduler.Scheduler`, other services) and
  never import the facade. ``base`` (what services share), ``bucket`` and ``listing`` (objects,
  buckets, streamed listings), ``jobs`` (fmgr and fops jobs, following one), ``fmgrops`` (op strings of
  bulk retention, ZIP, m3u8), ``liverecordings``; what the vendor's other SDKs do: ``append`` (append
  upload), ``mirror`` (prefetch), ``media`` (``?op=imageInfo``...), ``storageclass`` (classes, restore),
  ``bulk`` (one call per object of a prefix); uploads:
  ``formupload`` (one form request), ``uploads`` (blocks, and the one form-or-blocks rule) over
  ``pipeline`` (the one block pipeline) fed by ``sources`` (a file, a stream, bytes in memory),
  with ``blocksteps`` (mkblk/bput/mkfile), ``blockplan``, ``bodies`` (request bodies), ``resume``,
  ``recordfolder``, ``groupcommit``; downloads: ``download``, ``ranged``, ``sinks``; ``events``
  (subscribers), ``scheduler``; ``tree/`` (sync, put -r, get -r, and between two prefixes);
  ``placement`` (cp and mv of one object or file), ``removal`` (rm), ``usage`` (du);
  ``migrate/`` (other stores into WCS: server-side fetches, the journal); ``plans`` (the plan
  file format), ``planrun``, ``planactions`` and ``planmodel`` (carrying a plan out),
  ``batchfile`` (batch lines as plan actions);
* the facade: ``client`` (the official ``Client``) and its method groups ``client_base``,
  ``client_downloads``, ``client_jobs``, ``client_objects``, ``client_trees``, ``client_migrate``,
  ``client_vendor``, which build the engine's services from a Config;
* the official module paths (``filemanager``, ``fmgr``, ``wslive``, ``mgrbase``, ``adapters``,
  ``simpleupload``, ``streamupload``, ``multipartupload``, ``simple_multipartupload``,
  ``persistentfop``, ``uploadprogressrecorder``): adapters at the edge over the facade and the
  engine, imported by neither (``import wcs.services.client`` does not load them).

Nothing is imported here, so ``import wcs.services`` stays cheap.
"""
