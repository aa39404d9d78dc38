"""WCS services, one module per product area; :class:`wcs.services.client.Client` is the facade.

``upload`` (form and stream upload), ``multipart`` (block upload) with ``resume`` (JSON resume records)
and ``streams`` (request-body views), ``bucket`` (object and bucket management), ``fmgr`` (asynchronous
resource jobs), ``fops`` (persistent processing), ``wslive`` (live-recording lists), ``download``
(verified downloads). Each service class gets the ``HttpClient``, ``Auth`` and ``Config`` injected
(:mod:`wcs.services.base`). Nothing is imported here, so ``import wcs.services`` stays cheap.
"""
