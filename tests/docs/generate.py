"""Rewrites the generated tables of the docs from the modules that hold their truth.

``python3 -m tests.docs.generate`` replaces the body of every ``<!-- generated: NAME ... -->`` ...
``<!-- end generated -->`` section of the README and ``docs/`` with :data:`RENDERERS` [NAME]();
``tests/docs/test_pages.py`` fails while a page differs from what this would write.
"""

import os
import sys
from typing import Callable, Dict, List

from tests.docs import pages
from wcs.cli import outputs, status


def _code(text: str) -> str:
    return "`%s`" % text.replace("|", "\\|")


def _status_table(help_text: str) -> str:
    rows = ["| code | meaning |", "|---|---|"]
    for line in help_text.split("Exit status:", 1)[1].strip("\n").splitlines():
        code, meaning = line.split(None, 1)
        rows.append("| %s | %s |" % (code, meaning.replace("|", "\\|")))
    return "\n".join(rows) + "\n"


def exit_status() -> str:
    """Every :class:`~wcs.cli.status.ExitStatus`, in the words of ``wcscmd --help``."""
    return _status_table(status.EXIT_STATUS_HELP)


def file_tool_exit_status() -> str:
    """The statuses of ``wcs_etag_cal`` and ``wcs_crc64_cal``, in the words of their ``--help``."""
    return _status_table(status.FILE_TOOL_EXIT_STATUS_HELP)


def stdout_documents() -> str:
    """:data:`wcs.cli.outputs.DOCUMENTS` as a table."""
    rows = ["| command | stdout |", "|---|---|"]
    for document in outputs.DOCUMENTS:
        printed = [_code(document.shape)] if document.shape else []
        if document.note:
            printed.append(document.note.replace("|", "\\|"))
        rows.append("| %s | %s |" % (", ".join(_code(form) for form in document.forms), "; ".join(printed)))
    return "\n".join(rows) + "\n"


RENDERERS: Dict[str, Callable[[], str]] = {
    "exit-status": exit_status,
    "file-tool-exit-status": file_tool_exit_status,
    "outputs": stdout_documents,
}


def regenerated(text: str) -> str:
    """``text`` with the body of each generated section rendered anew."""
    def render(match):
        whole = match.group(0)
        head = whole.split("\n", 1)[0]
        return "%s\n%s<!-- end generated -->" % (head, RENDERERS[match.group(1)]())

    return pages.GENERATED.sub(render, text)


def main() -> int:
    changed: List[str] = []
    for page in pages.pages():
        text = pages.read(page)
        new = regenerated(text)
        if new != text:
            with open(os.path.join(pages.ROOT, page), "w", encoding="utf-8") as fp:
                fp.write(new)
            changed.append(page)
    print("rewrote: %s" % (", ".join(changed) or "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
