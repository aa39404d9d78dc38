"""The README and docs/ stay true without running anything slow: every code block says how it is checked,
generated tables match their source, links resolve, install lines are the ones the venv test runs."""

import os
import re

import pytest

from tests.docs import generate, pages
from wcs.cli.status import ExitStatus

PAGES = pages.pages()


@pytest.mark.parametrize("page", PAGES)
def test_every_shell_and_python_block_says_how_it_is_checked(page):
    unmarked = [block.where for block in pages.blocks(page) if block.lang in ("sh", "python") and not block.check]
    assert unmarked == [], "add <!-- check: run|venv|skip: REASON --> before these blocks"
    for block in pages.blocks(page):
        assert block.lang in ("sh", "python") or block.check is None, "%s: only sh and python blocks run" % block.where


@pytest.mark.parametrize("page", PAGES)
def test_generated_sections_match_their_source(page):
    text = pages.read(page)
    assert generate.regenerated(text) == text, "run: python3 -m tests.docs.generate"


def test_exit_status_table_is_the_enum_in_the_words_of_help():
    table = pages.generated(pages.read("docs/wcscmd.md"))["exit-status"]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", table, re.M)
    assert [(int(code), meaning) for code, meaning in rows] == [(int(s), s.description) for s in ExitStatus]


@pytest.mark.parametrize("page", PAGES)
def test_links_point_to_files_and_headings_that_exist(page):
    here = os.path.dirname(os.path.join(pages.ROOT, page))
    broken = []
    for target in pages.links(page):
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(here, path)) if path else os.path.join(pages.ROOT, page)
        if not os.path.exists(full):
            broken.append(target)
        elif anchor and anchor not in pages.anchors(pages.read(os.path.relpath(full, pages.ROOT))):
            broken.append(target)
    assert broken == []


def test_every_pip_install_named_in_the_docs_is_run_by_the_venv_test():
    run = set()
    for page in PAGES:
        for block in pages.blocks(page):
            if block.check == "venv":
                for line in pages.commands(block):
                    run.update(part.strip() for part in line.split("#", 1)[0].split("&&"))
    named = set()
    for page in PAGES:
        named.update(re.findall(r"python3 -m pip install [^`\n#&]*[^`\n#& ]", pages.read(page)))
    assert named and {line for line in named if line not in run} == set()


def test_the_readme_is_a_landing_page():
    text = pages.read("README.md")
    assert len(text.splitlines()) <= 200
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[0] == "Quick start"
    linked = {target.split("#")[0] for target in pages.links("README.md")}
    assert {page for page in PAGES if page.startswith("docs/")} <= linked
