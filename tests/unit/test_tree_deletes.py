"""The rules every sync applies before deleting, judged by a run's summary, and how a run calls its
observer (shared by the tree runs and migrations; no I/O)."""

import logging

import pytest

from wcs.services.tree.deletes import deletions_refused
from wcs.services.tree.model import Hooks, TreeSummary


def _refused(summary, **given):
    errors = []
    facts = dict(stopped=False, listed=True, source_count=5, count=2, max_delete=None)
    facts.update(given)
    refused = deletions_refused(summary, lambda where, message: errors.append((where, message)), **facts)
    return refused, errors


def test_a_clean_run_deletes():
    summary = TreeSummary("upload", "src", "dst")
    assert _refused(summary) == (False, [])
    assert summary.delete_status == "not requested"


@pytest.mark.parametrize("given, failed, errors", [
    ({"stopped": True}, 0, []),
    ({"listed": False}, 0, []),
    ({}, 2, []),
    ({}, 0, ["listing failed"]),
])
def test_a_run_with_any_problem_deletes_nothing_and_says_so_without_a_new_error(given, failed, errors):
    summary = TreeSummary("upload", "src", "dst", failed=failed, errors=list(errors))
    assert _refused(summary, **given) == (True, [])
    assert summary.delete_status == "not done: %d error(s) in the run; nothing deleted" % max(failed + len(errors), 1)


def test_an_empty_source_and_too_many_deletions_are_refused_as_errors():
    summary = TreeSummary("upload", "src", "dst")
    assert _refused(summary, source_count=0) == (
        True, [("src", "refusing to delete 2 file(s): the source has no files")])
    assert summary.delete_status == "refused: the source has no files; nothing deleted"
    summary = TreeSummary("upload", "src", "dst")
    assert _refused(summary, count=3, max_delete=2) == (
        True, [("dst", "3 files to delete, more than the maximum of 2; nothing deleted")])
    assert summary.delete_status.startswith("aborted: 3 deletions exceed the maximum of 2")


def test_hooks_skip_what_the_observer_lacks_and_log_what_fails(caplog):
    seen = []

    class Observer:
        def on_done(self, action, error):
            seen.append((action, error))

        def on_error(self, where, message):
            raise RuntimeError("a bug in the observer")

    hooks = Hooks(Observer(), logging.getLogger("wcs.test"), "tree observer")
    hooks("on_done", "a", None)
    hooks("on_action", "a")  # not defined: skipped
    with caplog.at_level(logging.ERROR, logger="wcs.test"):
        hooks("on_error", "a", "boom")  # raises inside: logged, not passed on
    assert seen == [("a", None)]
    assert [r.getMessage() for r in caplog.records] == ["tree observer on_error failed"]
