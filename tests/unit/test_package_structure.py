"""No import cycle anywhere in the ``wcs`` package, checked on its source.

Every import statement counts (:mod:`tests.helpers.imports`): one at the top, one inside a function and
one under ``TYPE_CHECKING`` alike. A lazy import kept for start-up time (``import wcs.services.client``
does not load the tree engine: ``client_trees`` imports it in the call that needs it) is allowed only
one way, so it can never close a cycle and this test passes with it. How ``wcs/services`` is layered
inside: ``test_services_structure.py``.
"""

import ast
import types

import wcs
from tests.helpers.imports import cycles, graph, modules

GRAPH = graph(wcs)


def _package(root, name, files):
    """A package ``name`` written under ``root`` (``{module: source}``), as :func:`graph` reads it."""
    folder = root / name
    folder.mkdir()
    for module, source in files.items():
        (folder / (module + ".py")).write_text(source, encoding="utf-8")
    package = types.ModuleType(name)
    package.__file__ = str(folder / "__init__.py")
    return package


def test_cycles_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_a_cycle_through_a_function_local_or_a_type_checking_import_is_found(tmp_path):
    package = _package(tmp_path, "pkg", {
        "__init__": "",
        "a": "from pkg import b\n",
        "b": "def f():\n    from pkg.c import g\n    return g\n",
        "c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n\ndef g():\n    pass\n",
        "d": "import pkg.a\n",
    })
    found = graph(package)
    assert found == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c"}, "pkg.c": {"pkg.a"}, "pkg.d": {"pkg.a"}}
    assert cycles(found) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_the_graph_holds_the_lazy_imports_of_the_package():
    # Read from inside a function: the tree engine comes with the first tree call.
    assert "wcs.services.tree.engine" in GRAPH["wcs.services.client_trees"]
    assert {"wcs.cli", "wcs.commons", "wcs.emulator", "wcs.fs", "wcs.services"} <= set(GRAPH)


def test_no_import_cycle_in_wcs():
    assert cycles(GRAPH) == []


def _third_party(path):
    """The top-level names of the packages a source file imports, wherever the statement is."""
    with open(path, encoding="utf-8") as fp:
        tree = ast.parse(fp.read(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def test_only_the_http_layer_imports_requests():
    # wcs/commons/http.py's promise: transport failures and answers leave it typed, so nothing else
    # needs the HTTP library's types (the emulator's test servers do not use it either).
    users = sorted(module for module, path in modules(wcs).items()
                   if _third_party(path) & {"requests", "urllib3", "requests_toolbelt"})
    assert users == ["wcs.commons.http"]
