"""Bringing whole buckets of other stores into WCS: the service fetches, this machine only directs.

The pieces, each usable on its own:

* :mod:`.source` - the other store through fsspec (S3 via s3fs, GCS, HTTP origins...), listed in key
  order, its objects signed so the service can fetch them;
* :mod:`.listfile` - ``--files-from`` lists: the paths a run is limited to (and an HTTP origin's keys);
* :mod:`.fetches` - batches of ``fetch`` ops in fmgr jobs, followed to their end, checked item by item;
* :mod:`.journal` - what each source object became (sqlite), so a re-run does only what is left;
* :mod:`.engine` - one run over the services it is given; :mod:`.model` - options and summary.

The entry points are :meth:`Client.sync <wcs.services.client.Client.sync>` with an fsspec source and
:meth:`Client.migrate <wcs.services.client.Client.migrate>`. Nothing is imported here.
"""
