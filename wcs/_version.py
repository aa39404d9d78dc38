"""The version of the package, in a module that imports nothing (setup.py reads it too)."""

__version__ = "0.1.0"
