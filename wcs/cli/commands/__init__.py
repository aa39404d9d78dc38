"""The ``cmd_*`` functions of ``wcscmd``, one per command, grouped by what they act on.

Each takes the parsed arguments and the invocation's :class:`~wcs.cli.context.Context`, prints its
one JSON document through the context and returns an exit status, or raises for the error boundary
(:mod:`wcs.cli.core`). They reach WCS only through :class:`wcs.services.client.Client`, which the
context creates on first use, so that parsing and ``--help`` never load the SDK.

* :mod:`.objects`: del, mv, cp, setdeadline, stat;
* :mod:`.transfers`: get, put, multiput, crc64 (local files in or out);
* :mod:`.listing`: list, listall, listbucket, bucketstat;
* :mod:`.jobs`: deletePrefix, fops, fopsStatus, fmgrStatus (asynchronous jobs);
* :mod:`.records`: records (multipart resume records left by failed uploads);
* :mod:`.shell`: completion (the shell completion script);
* :mod:`.upload_options`: what ``--mime-type`` and ``--no-clobber`` mean for put and multiput.
"""
