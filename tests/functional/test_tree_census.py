"""The total of a tree run's progress (issue 22, item 7): an observer with ``on_total`` gets, once, the files and
bytes the run goes through, counted beside the run with the run's own filters; others get no second walk."""

import os
import threading

from wcs.services.tree import FilterRules, Remote, TreeObserver

FILES = {"index.html": 100, "css/site.css": 20, "img/a.png": 3000, "img/b.png": 4000, "notes.tmp": 7, "": 0}


def make_tree(root):
    for rel, size in FILES.items():
        if rel:
            path = os.path.join(str(root), *rel.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fp:
                fp.write(b"x" * size)
    return str(root)


class Totals(TreeObserver):
    def __init__(self):
        self.totals = []
        self.done = 0

    def on_total(self, files, size):
        self.totals.append((files, size))

    def on_done(self, action, error):
        self.done += 1


def test_an_upload_is_counted_with_its_filters(client, bucket, tmp_path):
    src = make_tree(tmp_path / "site")
    observer = Totals()
    rules = FilterRules.from_args([("-", "*.tmp")])
    summary = client.sync(src, Remote(bucket, "www"), observer=observer, filters=rules, hash_cache=None)
    assert summary.ok and summary.transferred_files == 4
    assert observer.totals == [(4, 100 + 20 + 3000 + 4000)]


def test_a_download_is_counted_from_a_listing_of_the_prefix(client, bucket, tmp_path):
    src = make_tree(tmp_path / "site")
    assert client.upload_tree(src, bucket, "www", hash_cache=None).ok
    observer = Totals()
    summary = client.download_tree(bucket, "www", str(tmp_path / "back"), observer=observer, hash_cache=None,
                                   filters=[("-", "img/**")])
    assert summary.ok and summary.transferred_files == 3
    assert observer.totals == [(3, 100 + 20 + 7)]


def test_observers_without_on_total_cost_no_second_walk(client, bucket, tmp_path, monkeypatch):
    from wcs.services.tree import census

    started = []
    monkeypatch.setattr(census.Census, "__init__", lambda self, *a, **k: started.append(a))
    src = make_tree(tmp_path / "site")
    assert client.sync(src, Remote(bucket), observer=TreeObserver(), hash_cache=None).ok
    assert client.sync(src, Remote(bucket), observer=Totals(), hash_cache=None, dry_run=True).ok
    assert started == []
    assert not [t for t in threading.enumerate() if t.name == "wcs-census"]
