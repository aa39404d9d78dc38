"""Which files of a tree take part: ``--exclude``, ``--include`` and ``--filter-from`` rules, first match wins.

A rule is ``+ PATTERN`` (include) or ``- PATTERN`` (exclude), matched against the file's path
relative to the tree's root, with ``/`` between folders whatever the OS (on the remote side: the
key without the prefix). The rules are tried in the order they were given; the first rule whose
pattern matches decides. A path no rule matches is included, unless an ``--include`` option was
given: then it is excluded (``--include '*.jpg'`` alone means "only the JPEGs"; as in rclone, an
``--include`` adds an implicit ``- **`` after all the rules, a ``+`` line of a filter file does not).

Patterns are globs:

* ``*`` any run of characters except ``/``; ``?`` one character except ``/``; ``[abc]``, ``[!abc]``
  a character class; ``**`` any run of characters, ``/`` included; ``\\`` escapes the next character.
* A pattern starting with ``/`` is anchored at the root (``/build/**``: only the top ``build``).
  Any other pattern matches the end of the path at a folder boundary: ``*.tmp`` matches ``a.tmp``
  and ``x/y/a.tmp``; ``cache/*.bin`` matches ``cache/a.bin`` and ``x/cache/a.bin``.
* A pattern ending with ``/`` matches everything below such a folder: ``.git/`` is ``.git/**``.

A ``--filter-from`` file holds one rule per line: ``+ PATTERN``, ``- PATTERN``; blank lines and
lines starting with ``#`` are ignored. Its rules take the place of the option in the order.
"""

import re
from typing import Iterable, List, NamedTuple, Optional, Pattern, Sequence, Tuple

from wcs.commons.errors import InvalidArgument, LocalFileError

INCLUDE = "+"
EXCLUDE = "-"


class Rule(NamedTuple):
    """One filter rule: ``sign`` is ``+`` or ``-``; ``pattern`` as given; ``regex`` what it compiles to."""

    sign: str
    pattern: str
    regex: Pattern[str]

    def __str__(self) -> str:
        return "%s %s" % (self.sign, self.pattern)


def glob_to_regex(pattern: str) -> str:
    """The regular expression (``re.fullmatch`` over a relative path) of one glob, per the module docstring.

    Raises:
        InvalidArgument: an empty pattern, or an unclosed ``[``.
    """
    if not pattern or pattern == "/":
        raise InvalidArgument("empty filter pattern")
    anchored = pattern.startswith("/")
    body = pattern[1:] if anchored else pattern
    if body.endswith("/"):
        body += "**"
    out: List[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
            continue
        if char == "*":
            if body.startswith("**", i):
                # "a/**/b" also matches "a/b": the folder run may be empty.
                if body.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                else:
                    out.append(".*")
                    i += 2
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = _class_end(body, i)
            if end < 0:
                raise InvalidArgument("filter pattern %r: unclosed '['" % pattern)
            inner = body[i + 1:end]
            negate = inner[:1] in ("!", "^")
            if negate:
                inner = inner[1:]
            inner = inner.replace("\\", "\\\\").replace("]", "\\]")
            out.append("[^/%s]" % inner if negate else "[%s]" % inner)
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    regex = "".join(out)
    return regex if anchored else "(?:.*/)?" + regex


def _class_end(text: str, start: int) -> int:
    """Index of the ``]`` closing the class that opens at ``start`` (a ``]`` first in the class is literal)."""
    i = start + 1
    if i < len(text) and text[i] in "!^":
        i += 1
    if i < len(text) and text[i] == "]":
        i += 1
    while i < len(text):
        if text[i] == "]":
            return i
        i += 1
    return -1


def make_rule(sign: str, pattern: str) -> Rule:
    """A compiled rule; ``sign`` ``+`` (include) or ``-`` (exclude).

    Raises:
        InvalidArgument: bad sign or pattern.
    """
    if sign not in (INCLUDE, EXCLUDE):
        raise InvalidArgument("filter rule sign must be '+' or '-', got %r" % (sign,))
    try:
        regex = re.compile(glob_to_regex(pattern), re.DOTALL)
    except re.error as exc:
        raise InvalidArgument("filter pattern %r: %s" % (pattern, exc)) from None
    return Rule(sign, pattern, regex)


def parse_rule_line(line: str, where: str = "") -> Optional[Rule]:
    """A rule of a ``--filter-from`` line (``+ PATTERN`` / ``- PATTERN``), None for a blank or ``#`` line.

    Raises:
        InvalidArgument: the line is neither.
    """
    text = line.rstrip("\r\n")
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if len(stripped) < 3 or stripped[0] not in (INCLUDE, EXCLUDE) or stripped[1] != " ":
        raise InvalidArgument("%sfilter line %r: expected '+ PATTERN' or '- PATTERN'"
                              % (where + ": " if where else "", text))
    return make_rule(stripped[0], stripped[2:].strip())


def read_filter_file(path: str) -> List[Rule]:
    """The rules of a ``--filter-from`` file, in order.

    Raises:
        LocalFileError: the file cannot be read.
        InvalidArgument: a line is not a rule (the message names the file and line).
    """
    try:
        with open(path, encoding="utf-8") as fp:
            lines = fp.readlines()
    except OSError as exc:
        raise LocalFileError("cannot read filter file %s: %s" % (path, exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise InvalidArgument("filter file %s is not UTF-8 text" % path) from None
    rules = []
    for number, line in enumerate(lines, 1):
        rule = parse_rule_line(line, "%s:%d" % (path, number))
        if rule is not None:
            rules.append(rule)
    return rules


class FilterRules:
    """An ordered list of rules; :meth:`included` says whether a relative path takes part.

    Build one with :meth:`from_args` (``("+"|"-", pattern)`` pairs and ``("file", path)`` entries,
    in command-line order) or from :class:`Rule` objects.
    """

    def __init__(self, rules: Iterable[Rule] = (), *, exclude_unmatched: bool = False) -> None:
        self.rules: Tuple[Rule, ...] = tuple(rules)
        self._default = not exclude_unmatched

    @classmethod
    def from_args(cls, entries: Sequence[Tuple[str, str]]) -> "FilterRules":
        """Rules from ``(sign, pattern)`` pairs, where sign ``file`` reads a ``--filter-from`` file there.

        A ``+`` pair is an ``--include`` option: paths no rule matches are then excluded.

        Raises:
            InvalidArgument, LocalFileError: a bad pattern or an unreadable filter file.
        """
        rules: List[Rule] = []
        for sign, value in entries:
            if sign == "file":
                rules.extend(read_filter_file(value))
            else:
                rules.append(make_rule(sign, value))
        return cls(rules, exclude_unmatched=any(sign == INCLUDE for sign, _ in entries))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def decide(self, path: str) -> Tuple[bool, Optional[Rule]]:
        """``(included, the rule that decided or None)`` for a relative ``/`` path."""
        for rule in self.rules:
            if rule.regex.fullmatch(path):
                return rule.sign == INCLUDE, rule
        return self._default, None

    def included(self, path: str) -> bool:
        return self.decide(path)[0]

    def describe(self) -> List[str]:
        """The rules in order, then the rule for a path none matches (like rclone's ``--dump filters``)."""
        lines = [str(rule) for rule in self.rules]
        lines.append("(no match: %s)" % ("include" if self._default else "exclude"))
        return lines
