"""``wcscmd batch FILE``: a file of ``cp``/``mv``/``rm``/``fetch`` lines, turned into plan actions.

One command a line, words split as a shell does (quote names with spaces), ``#`` comments and
blank lines left out (s5cmd's ``run`` file, in this tool's argument order, source then destination):

* ``cp SRC DST``: a local file to ``wcs://B/K`` (upload), ``wcs://B/K`` to a local path (download),
  ``wcs://`` to ``wcs://`` (server-side copy), an ``http(s)://`` or other fsspec URL to ``wcs://``
  (fetched by the service when it can reach the URL);
* ``mv SRC DST``: the same, then the source is removed once the copy is checked (``wcs://`` to
  ``wcs://`` is a server-side move);
* ``rm wcs://B/K``: delete an object;
* ``fetch URL wcs://B/K``: the service fetches URL.

A destination ending in ``/`` (``wcs://b/dir/``, ``./dir/``) gets the source's last path segment.
The lines run in parallel (as s5cmd's), so a line must not depend on another one; ``rm`` lines run
after all the others, and only when none of them failed (the rule of every plan).
The actions carry no facts beyond the names (nothing was listed), so ``apply`` checks none: a line
is what its writer means, now. Memory stays flat: lines are read one at a time.
"""

import os
import posixpath
import shlex
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

from wcs.commons.errors import InvalidArgument
from wcs.commons.fsutil import open_text
from wcs.services import plans

COMMANDS = ("cp", "mv", "rm", "fetch")


def _place(word: str) -> Tuple[str, Dict[str, Any]]:
    """``(kind, facts)`` naming ``word``: a WCS object, a local path or a URL of another store."""
    if word[:6].lower() == "wcs://":
        bucket, _, key = word[6:].partition("/")
        if not bucket:
            raise InvalidArgument("missing bucket name in %r" % word)
        return "wcs", {"bucket": bucket, "key": key}
    scheme, sep, _rest = word.partition("://")
    if sep and scheme.isidentifier():
        return "url", {"url": word}
    return "local", {"path": os.path.abspath(word)}


def _last_segment(kind: str, facts: Dict[str, Any]) -> str:
    if kind == "wcs":
        return posixpath.basename(facts["key"].rstrip("/"))
    if kind == "url":
        return posixpath.basename(unquote(urlsplit(facts["url"]).path).rstrip("/"))
    return os.path.basename(facts["path"].rstrip(os.sep))


def _complete(word: str, kind: str, facts: Dict[str, Any], source: Tuple[str, Dict[str, Any]]) -> Dict[str, Any]:
    """A destination ending in ``/`` gets the source's name."""
    if not word.endswith("/"):
        return facts
    name = _last_segment(*source)
    if not name:
        raise InvalidArgument("%r: the source has no name to give an object in %r" % (word, word))
    if kind == "wcs":
        return dict(facts, key=facts["key"] + name)
    return dict(facts, path=os.path.join(facts["path"], name))


_OPS = {("local", "wcs"): "upload", ("wcs", "local"): "download", ("wcs", "wcs"): "copy", ("url", "wcs"): "fetch"}


def parse_line(line: str) -> Optional[Dict[str, Any]]:
    """The plan action of one batch line; None for a blank line or a comment.

    Raises:
        InvalidArgument: an unknown command, a wrong number of arguments, a pair it cannot copy.
    """
    try:
        words = shlex.split(line, comments=True)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
    if not words:
        return None
    command, args = words[0], words[1:]
    if command not in COMMANDS:
        raise InvalidArgument("unknown command %r (one of %s)" % (command, ", ".join(COMMANDS)))
    if command == "rm":
        if len(args) != 1:
            raise InvalidArgument("rm takes one wcs://BUCKET/KEY")
        kind, facts = _place(args[0])
        if kind != "wcs" or not facts["key"]:
            raise InvalidArgument("rm takes a wcs://BUCKET/KEY, got %r" % args[0])
        return plans.action("delete", facts["key"], "batch", None, facts)
    if len(args) != 2:
        raise InvalidArgument("%s takes SOURCE and DESTINATION" % command)
    source = _place(args[0])
    kind, facts = _place(args[1])
    destination = _complete(args[1], kind, facts, source)
    pair = (source[0], kind)
    op = _OPS.get(pair)
    if command == "fetch" and pair != ("url", "wcs"):
        raise InvalidArgument("fetch takes a URL and a wcs://BUCKET/KEY")
    if op is None:
        raise InvalidArgument("%s cannot copy %s to %s" % (command, args[0], args[1]))
    if kind == "wcs" and not destination["key"]:
        raise InvalidArgument("%r names no object key" % args[1])
    if command == "mv":
        if op == "fetch":
            raise InvalidArgument("mv cannot remove the source of a fetch (%s): use cp or fetch" % args[0])
        op = "move"
    rel = destination.get("key") or os.path.basename(destination.get("path", ""))
    return plans.action(op, rel, "batch", source[1], destination)


def read_batch(path: str) -> Iterator[Dict[str, Any]]:
    """The actions of a batch file, in order (parsed as they are read).

    Raises:
        InvalidArgument: a malformed line, named by its number (before any action of it is yielded).
        LocalFileError: the file cannot be read.
    """
    with open_text(path, "the batch file") as fp:
        for number, line in enumerate(fp, 1):
            try:
                action = parse_line(line)
            except InvalidArgument as exc:
                raise InvalidArgument("%s line %d: %s" % (path, number, exc)) from None
            if action is not None:
                yield action


def check_batch(path: str) -> List[str]:
    """Every malformed line of the file (empty when it is all good): checked before anything runs."""
    problems = []
    with open_text(path, "the batch file") as fp:
        try:
            for number, line in enumerate(fp, 1):
                try:
                    parse_line(line)
                except InvalidArgument as exc:
                    problems.append("%s line %d: %s" % (path, number, exc))
        except UnicodeDecodeError:
            problems.append("%s is not UTF-8 text" % path)
    return problems
