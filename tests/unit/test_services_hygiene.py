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


# Data must never become code: resume records, config files, answers and job specs are parsed, not run.
_CODE_FROM_DATA_CALLS = ("eval", "exec", "compile", "__import__")
_CODE_FROM_DATA_MODULES = ("pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "yaml", "jsonpickle")
ALL_MODULES = sorted(pathlib.Path(wcs.services.__file__).parent.parent.rglob("*.py"))


@pytest.mark.parametrize("path", ALL_MODULES, ids=lambda p: str(p.relative_to(p.parent.parent.parent)))
def test_no_code_from_data_anywhere_in_the_package(path):
    """No eval/exec/compile, no pickle/marshal/shelve/yaml anywhere under wcs/ (issue 7, point 5)."""
    source = path.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in _CODE_FROM_DATA_CALLS, "%s:%d calls %s()" % (path, node.lineno, node.func.id)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] + ([node.module] if isinstance(node, ast.ImportFrom)
                                                             and node.module else [])
            for name in names:
                assert name.split(".")[0] not in _CODE_FROM_DATA_MODULES, "%s:%d imports %s" % (path, node.lineno,
                                                                                                 name)
    for word in ("pickle", "marshal", "yaml.load", "eval(", "exec("):
        assert word not in source, "%s mentions %r" % (path, word)
