"""Whole trees between a local folder and a bucket prefix, or between two prefixes: ``sync``,
``cp -r``, ``mv -r``, ``put -r``, ``get -r``.

The pieces, each usable on its own:

* :mod:`.localtree` - the local folder as a stream of files in key order;
* :mod:`.filters` - include/exclude rules, first match wins;
* :mod:`.plan` - the streaming merge of two sorted listings and the decision rule;
* :mod:`.hashcache` - local etags cached by file identity (no re-reading of unchanged files);
* :mod:`.safepath` - keys to local paths, never outside the folder;
* :mod:`.records` - upload ids derived from the file, so a re-run resumes its multipart uploads;
* :mod:`.deletes` - deletions after a clean run, batched and verified (also ``rm``);
* :mod:`.jobbatch` - one batch of objects through one fmgr job, followed to its end;
* :mod:`.mover` - one file: compare, upload (form or resumable multipart), download;
* :mod:`.moves` - ``mv -r`` down: the objects downloaded, deleted at the end when unchanged;
* :mod:`.engine` - one run, over the services and the pool it is given; :mod:`.model` - options,
  observer, summary;
* :mod:`.copies` and :mod:`.remoterun` - between two prefixes: copies made by the service in
  batches and checked by a listing, and the run that plans and guards them.

The entry points are :meth:`Client.sync <wcs.services.client.Client.sync>`,
:meth:`~wcs.services.client.Client.upload_tree`, :meth:`~wcs.services.client.Client.download_tree`,
:meth:`~wcs.services.client.Client.copy_tree` and :meth:`~wcs.services.client.Client.move_tree`.
"""

from wcs.services.tree.filters import FilterRules
from wcs.services.tree.model import Remote, TreeObserver, TreeOptions, TreeSummary
from wcs.services.tree.plan import DOWNLOAD, UPLOAD, Action

__all__ = ["DOWNLOAD", "UPLOAD", "Action", "FilterRules", "Remote", "TreeObserver", "TreeOptions", "TreeSummary"]
