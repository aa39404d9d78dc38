"""The arguments of the vendor commands' rows in the command table (:mod:`wcs.cli.definition`): append,
info and zip (their functions are in :mod:`wcs.cli.commands.vendor`, loaded when one of them runs)."""

import argparse

from wcs.cli.argtypes import size


def piece_size(text: str) -> int:
    """``--piece-size``: bytes with a binary unit, 1 byte to 2 GiB."""
    value = size(text)
    if not 0 < value <= 2 * 1024 ** 3:
        raise argparse.ArgumentTypeError("expected 1 byte to 2G, got %r" % text)
    return value


def position(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError("expected the object's length (0 or more), got %r" % text)
    return value


APPEND_ARGUMENTS = (
    ("localfile", {"metavar": "FILE|-", "help": "the bytes to append ('-': stdin, read to its end)"}),
    ("--position", {"type": position, "metavar": "N", "dest": "position",
                    "help": "where the bytes go: the object's length (default: asked of stat)"}),
    ("--piece-size", {"type": piece_size, "metavar": "SIZE", "dest": "piece_size", "default": 4 * 1024 * 1024,
                      "help": "stdin and pipes are appended SIZE bytes at a time (default 4M)"}))
INFO_ARGUMENTS = tuple((flag, {"action": "store_const", "const": op, "dest": "op", "help": "?op=%s: %s" % (op, what)})
                       for op, flag, what in (("avinfo", "--av", "audio and video streams and format"),
                                              ("avinfo2", "--av2", "the short audio/video metadata"),
                                              ("imageInfo", "--image", "format, size and colour model"),
                                              ("exif", "--exif", "the EXIF tags of an image")))
ZIP_ARGUMENTS = (
    ("zip", {"metavar": "wcs://BUCKET/OUT.zip"}),
    ("sources", {"metavar": "wcs://BUCKET/OBJECT", "nargs": "*",
                 "help": "objects to put in the ZIP; one ending in / takes every object under it"}),
    ("--key-list", {"metavar": "wcs://BUCKET/LIST", "dest": "key_list",
                    "help": "an object listing more keys to zip, one per line"}))
