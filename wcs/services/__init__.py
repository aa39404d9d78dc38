"""WCS services: the engine below the :class:`wcs.services.client.Client` facade, and the official modules.

Three layers, one way: the engine modules (one per product area: ``bucket``, ``jobs``, ``upload``,
``multipart``, ``download``, ``tree/``...) get what they need as arguments (an ``HttpClient``, an
``Auth``, the frozen settings, a :class:`~wcs.services.scheduler.Scheduler`, other services) and
never import the facade; the facade (``client`` and its ``client_*`` method groups) builds them
from a Config; the official module paths (``filemanager``, ``fmgr``, ``wslive``, ``mgrbase``,
``simpleupload``, ...) are adapters at the edge over the facade, imported by nothing here
(``tests/unit/test_services_structure.py`` keeps it so). Nothing is imported here, so ``import
wcs.services`` stays cheap.
"""
