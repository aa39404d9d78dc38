"""The ``cmd_*`` functions of ``wcscmd``, one per command, grouped by what they act on.

Each takes the parsed arguments and the invocation's :class:`~wcs.cli.context.Context`, prints its
one JSON document through the context and returns an exit status, or raises for the error boundary
(:mod:`wcs.cli.core`). They reach WCS only through :class:`wcs.services.client.Client`, which the
context creates on first use, so that parsing and ``--help`` never load the SDK.

* :mod:`.copymove`: cp, mv of one object or file, every direction (source, then destination);
* :mod:`.trees`: sync, cp -r, mv -r, put -r, get -r (folders and prefixes);
* :mod:`.remove`: rm (keys, globs, prefixes);
* :mod:`.browse`: ls, du (streamed lines or JSON Lines);
* :mod:`.objects`: del, setdeadline, stat;
* :mod:`.downloads`: get, cat (an object or URL to a local file or stdout);
* :mod:`.uploads`: put, multiput (a local file or stdin to an object), crc64;
* :mod:`.listing`: list, listall, listbucket, bucketstat;
* :mod:`.jobs`: deletePrefix, fops, fopsStatus, fmgrStatus (asynchronous jobs);
* :mod:`.records`: records (multipart resume records left by failed uploads);
* :mod:`.shell`: completion (the shell completion script);
* :mod:`.upload_options`: what ``--mime-type`` and ``--no-clobber`` mean for put and multiput.

The command table (:mod:`wcs.cli.definition`) names each function with :func:`on_call`: a command's
module is imported when that command runs, so a run loads one of them, not all fourteen.
"""

import importlib
from typing import Any, Callable


def on_call(module: str, name: str) -> Callable[..., Any]:
    """``on_call("browse", "cmd_ls")``: a function that calls ``wcs.cli.commands.browse.cmd_ls``, importing
    that module at its first call."""

    def call(*args: Any) -> Any:
        return getattr(importlib.import_module("wcs.cli.commands." + module), name)(*args)

    call.__name__ = call.__qualname__ = name
    return call
