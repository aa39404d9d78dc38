"""House rules of the service modules, checked on their source: no printing, no exiting, no eval."""

import ast
import pathlib

import pytest

import wcs.services

MODULES = sorted(pathlib.Path(wcs.services.__file__).parent.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_rules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), "%s has no module docstring" % path.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            assert name not in ("print", "exit", "eval", "exec", "_exit"), \
                "%s:%d calls %s()" % (path.name, node.lineno, name)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "getLogger":
            assert [getattr(a, "id", None) for a in node.args] == ["__name__"], \
                "%s:%d: loggers are named after their module" % (path.name, node.lineno)
