"""Helpers imported by tests of more than one folder (fixtures stay in the conftest.py files).

- ``browser``: headless Chromium driven by Selenium, and the vendor's browser SDK installed with npm.
- ``cli_runner``: run ``wcscmd`` and the other tools in-process, in an isolated environment.
- ``emulator_api``: raw signed requests to an emulator (``Api``) and the blocks it received.
- ``files``: test files with known content (``write_file``, ``MiB``), a folder of given files (``make_tree``),
  the etag of bytes (``etag_of``).
- ``imports``: the import graph of a package and its cycles (structure tests).
- ``official_sdk``: cached virtualenvs holding the official SDK, or only our dependencies.
- ``s3origin``: moto's S3 server on 127.0.0.1, its requests and bytes counted per caller (migrations).
- ``servers``: a throwaway loopback HTTP server, and a handler serving given files (``FilesHandler``).
- ``terminal``: the rows a terminal shows after a program wrote to it (``screen``).
- ``waiting``: ``wait_until(predicate, timeout)`` instead of sleeping for a guessed time.
"""
