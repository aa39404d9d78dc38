"""How ``wcs/services`` is layered, checked on its source: the engine below the facade, the official
modules at the edge, and no import cycle anywhere (every import counts: function-local ones and
those under ``TYPE_CHECKING`` too, so a cycle cannot hide behind either)."""

import ast
import os
import subprocess
import sys

import wcs.services

ROOT = os.path.dirname(os.path.dirname(wcs.services.__file__))
SERVICES = "wcs.services"

# The facade: the official Client, split over a few modules that only it uses.
FACADE = {SERVICES + "." + name for name in ("client", "client_base", "client_downloads", "client_jobs",
                                             "client_objects", "client_trees",
                                             "client_migrate", "client_vendor")}
# The official module paths: adapters over the facade and the engine, imported by neither.
OFFICIAL = {SERVICES + "." + name for name in ("adapters", "mgrbase", "filemanager", "fmgr", "wslive",
                                               "simpleupload", "streamupload", "multipartupload",
                                               "simple_multipartupload", "persistentfop",
                                               "uploadprogressrecorder")}


def _modules():
    found = {}
    base = os.path.dirname(ROOT)
    for folder, _dirs, files in os.walk(os.path.dirname(wcs.services.__file__)):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                module = os.path.relpath(path, base)[:-3].replace(os.sep, ".")
                found[module[:-len(".__init__")] if module.endswith(".__init__") else module] = path
    return found


MODULES = _modules()


def _imports(module, path):
    """The wcs.services modules ``module`` imports, wherever the import statement is."""
    with open(path, encoding="utf-8") as fp:
        tree = ast.parse(fp.read(), path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package
                for _ in range(node.level - 1):
                    parent = parent.rpartition(".")[0]
                base = parent + ("." + base if base else "")
            names.add(base)
            names.update(base + "." + alias.name for alias in node.names)
    resolved = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            resolved.add(name)
    return resolved


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def test_the_layers_are_what_the_test_knows():
    assert FACADE <= set(MODULES) and OFFICIAL <= set(MODULES)


def test_only_the_facade_and_the_official_adapters_import_client_adapters_or_mgrbase():
    edge = {SERVICES + ".client", SERVICES + ".adapters", SERVICES + ".mgrbase"}
    offenders = sorted((module, sorted(GRAPH[module] & edge)) for module in GRAPH
                       if module not in FACADE | OFFICIAL and GRAPH[module] & edge)
    assert offenders == []


def test_the_engine_imports_neither_the_facade_nor_the_official_modules():
    offenders = sorted((module, sorted(GRAPH[module] & (FACADE | OFFICIAL))) for module in GRAPH
                       if module not in FACADE | OFFICIAL and GRAPH[module] & (FACADE | OFFICIAL))
    assert offenders == []


def test_the_facade_does_not_import_the_official_modules():
    offenders = sorted((module, sorted(GRAPH[module] & OFFICIAL)) for module in FACADE if GRAPH[module] & OFFICIAL)
    assert offenders == []


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycles_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_the_services():
    assert cycles(GRAPH) == []


def test_importing_the_client_loads_neither_the_official_layer_nor_the_tree_engine():
    code = "import sys, wcs.services.client; print('\\n'.join(sorted(sys.modules)))"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(ROOT), os.environ.get("PYTHONPATH", "")]))
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                env=env).stdout.split())
    assert SERVICES + ".client" in loaded
    assert sorted(loaded & OFFICIAL) == []
    # The tree engine (its etag cache needs sqlite3) comes with the first tree call.
    assert SERVICES + ".tree.engine" not in loaded and "sqlite3" not in loaded
