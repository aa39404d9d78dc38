"""How ``wcs/services`` is layered, checked on its source: the engine below the facade, the official
modules at the edge, and no import cycle (every import counts: function-local ones and those under
``TYPE_CHECKING`` too, so a cycle cannot hide behind either; :mod:`tests.helpers.imports`). The whole
``wcs`` package has no cycle either: ``test_package_structure.py``."""

import os
import subprocess
import sys

import wcs.services
from tests.helpers.imports import cycles, graph, modules

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


MODULES = modules(wcs.services)
GRAPH = graph(wcs.services)


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


def test_no_import_cycle_in_the_services():
    assert cycles(GRAPH) == []


def test_importing_the_client_loads_neither_the_official_layer_nor_the_engines_of_its_extras():
    code = "import sys, wcs.services.client; print('\\n'.join(sorted(sys.modules)))"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(ROOT), os.environ.get("PYTHONPATH", "")]))
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                env=env).stdout.split())
    assert SERVICES + ".client" in loaded
    assert sorted(loaded & OFFICIAL) == []
    # The tree engine (its etag cache needs sqlite3) comes with the first tree call.
    assert SERVICES + ".tree.engine" not in loaded and "sqlite3" not in loaded
    # So do the engines of the many-object and vendor methods (start-up time of every program).
    lazy = {SERVICES + "." + name for name in ("removal", "tree.deletes", "placement", "usage", "append", "bulk",
                                               "media", "mirror", "fmgrops", "jsonspool")}
    assert sorted(loaded & lazy) == []
