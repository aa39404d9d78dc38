"""The import graph of a package, read from its source, and the cycles in it.

Every ``import`` statement counts, wherever it stands: at the top, inside a function (a lazy import)
or under ``if TYPE_CHECKING:``, so a cycle cannot hide behind either. ``from P import N`` is an edge to
the module ``P.N`` when there is one, else to ``P``; the parent packages every import runs first
(``wcs``, ``wcs.services``...) are not edges, or every package whose ``__init__`` re-exports its
modules would be a cycle with each of them.
"""

import ast
import os
from types import ModuleType
from typing import Dict, Iterable, List, Set


def modules(package: ModuleType) -> Dict[str, str]:
    """``{dotted module name: path}`` of every ``.py`` file of the (imported) ``package``, its
    sub-packages included (a package's ``__init__`` under the package's name)."""
    top = os.path.dirname(package.__file__ or "")
    found = {}
    for folder, _dirs, files in os.walk(top):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                module = ".".join([package.__name__] + os.path.relpath(path, top)[:-3].split(os.sep))
                found[module[:-len(".__init__")] if module.endswith(".__init__") else module] = path
    return found


def _resolve(name: str, known: Iterable[str]) -> str:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def imports(module: str, path: str, known: Dict[str, str]) -> Set[str]:
    """The modules of ``known`` that ``module`` (the file at ``path``) imports, wherever the statement is."""
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
            names.update(base + "." + alias.name if base + "." + alias.name in known else base
                         for alias in node.names)
    resolved = {_resolve(name, known) for name in names}
    return {name for name in resolved if name and name != module}


def graph(package: ModuleType) -> Dict[str, Set[str]]:
    """``{module: the modules of the package it imports}`` for every module of ``package``."""
    known = modules(package)
    return {module: imports(module, path, known) for module, path in known.items()}


def cycles(edges: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
