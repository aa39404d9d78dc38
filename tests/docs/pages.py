"""The README and ``docs/`` as data: their code blocks with the marker that says how each is checked,
their generated sections, their links.

A block's marker is an HTML comment on the line before its opening fence (invisible once rendered):
``<!-- check: run -->``, ``<!-- check: venv -->`` or ``<!-- check: skip: REASON -->``.
"""

import os
import re
from typing import Iterator, List, NamedTuple, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")

MARKER = re.compile(r"^<!-- check: (run|venv|skip: .+\S) -->$")
FENCE = re.compile(r"^```(\S*)")
GENERATED = re.compile(r"^<!-- generated: (\S+)[^\n]*-->\n(.*?)^<!-- end generated -->$", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


class Block(NamedTuple):
    page: str  # relative to the repository root
    line: int  # of the opening fence, 1-based
    lang: str
    check: Optional[str]  # "run", "venv", "skip: REASON", or None when unmarked
    text: str

    @property
    def where(self) -> str:
        return "%s:%d" % (self.page, self.line)


def pages() -> List[str]:
    """The README first, then docs/*.md in name order, as paths relative to the root."""
    names = sorted(name for name in os.listdir(DOCS) if name.endswith(".md"))
    return ["README.md"] + ["docs/" + name for name in names]


def read(page: str) -> str:
    with open(os.path.join(ROOT, page), encoding="utf-8") as fp:
        return fp.read()


def blocks(page: str) -> Iterator[Block]:
    lines = read(page).splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start = i
        i += 1
        while not lines[i].startswith("```"):
            i += 1
        marker = MARKER.match(lines[start - 1]) if start else None
        yield Block(page, start + 1, fence.group(1), marker.group(1) if marker else None,
                    "\n".join(lines[start + 1:i]) + "\n")
        i += 1


def commands(block: Block) -> List[str]:
    """The shell lines of a block (comment lines and blank lines left out)."""
    return [line for line in block.text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def section(page: str, heading: str) -> str:
    """The text under ``heading`` (a whole heading line), up to the next heading of the same or a higher level."""
    text = read(page)
    level = len(heading) - len(heading.lstrip("#"))
    body = text.split("\n" + heading + "\n", 1)[1]
    match = re.search(r"^#{1,%d} " % level, body, re.M)
    return body[:match.start()] if match else body


def generated(text: str) -> dict:
    """``{name: body}`` of the generated sections of a page."""
    return {match.group(1): match.group(2) for match in GENERATED.finditer(text)}


def anchors(text: str) -> List[str]:
    """GitHub's anchors for the headings of a page."""
    found = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.append(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def links(page: str) -> Iterator[str]:
    """The relative link targets of a page (``file``, ``file#anchor`` or ``#anchor``)."""
    text = re.sub(r"^```.*?^```", "", read(page), flags=re.M | re.S)
    for target in LINK.findall(text):
        if not re.match(r"^[a-z]+:", target):
            yield target
