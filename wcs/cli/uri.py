"""Parsing of ``wcs://BUCKET[/KEY]`` arguments.

The key is everything after the first ``/`` following the bucket, so it may contain ``/`` (and any
other character: spaces, ``%``, ``?``, ``#``, ``+``, unicode are taken literally, never
percent-decoded — a shell argument is already the key the user means), up to 1000 UTF-8 bytes. Problems raise
:class:`~wcs.commons.errors.InvalidArgument` with a one-line message naming the argument.
"""

from typing import Optional, Tuple

from wcs.commons.errors import InvalidArgument

SCHEME = "wcs://"
MAX_KEY_BYTES = 1000
"""The longest object key WCS accepts, in UTF-8 bytes."""


def show(bucket: str, key: str = "") -> str:
    """``wcs://bucket/key`` (``wcs://bucket`` without a key): how messages name an object or bucket."""
    return "%s%s/%s" % (SCHEME, bucket, key) if key else SCHEME + bucket


def is_wcs_uri(text: str) -> bool:
    """True when ``text`` starts with the ``wcs://`` scheme (case-insensitive)."""
    return text[: len(SCHEME)].lower() == SCHEME


def split_uri(text: str) -> Tuple[str, str]:
    """``wcs://bucket/some/key`` -> ``("bucket", "some/key")``; the key may be empty.

    Raises:
        InvalidArgument: no ``wcs://`` scheme, or no bucket name.
    """
    if not is_wcs_uri(text):
        raise InvalidArgument("expected wcs://BUCKET[/KEY], got %r" % (text,))
    rest = text[len(SCHEME):]
    bucket, _, key = rest.partition("/")
    if not bucket.strip():
        raise InvalidArgument("missing bucket name in %r (expected wcs://BUCKET[/KEY])" % (text,))
    if bucket != bucket.strip() or ":" in bucket or not bucket.isprintable():
        # ':' separates bucket and key in the wire's entry URI; spaces and control characters are never
        # part of a name.
        raise InvalidArgument("invalid bucket name %r in %r" % (bucket, text))
    return bucket, key


def parse_bucket(text: str) -> str:
    """``wcs://bucket`` (a trailing ``/`` is tolerated) -> ``"bucket"``.

    Raises:
        InvalidArgument: not a bucket URI, or a key was given where only a bucket is meant.
    """
    bucket, key = split_uri(text)
    if key:
        raise InvalidArgument("expected wcs://BUCKET without a key, got %r" % (text,))
    return bucket


def parse_object(text: str, *, allow_empty_key: bool = False) -> Tuple[str, str]:
    """``wcs://bucket/key`` -> ``(bucket, key)``.

    Args:
        allow_empty_key: accept ``wcs://bucket`` / ``wcs://bucket/`` and return an empty key (for
            commands that fill the key in themselves, such as ``put`` naming it after the file).

    Raises:
        InvalidArgument: malformed URI, or an empty key where one is required.
    """
    bucket, key = split_uri(text)
    if not key and not allow_empty_key:
        raise InvalidArgument("missing object key in %r (expected wcs://BUCKET/KEY)" % (text,))
    size = len(key.encode("utf-8", "surrogateescape"))
    if size > MAX_KEY_BYTES:
        raise InvalidArgument("object key of %s... is %d bytes long; WCS keys have at most %d bytes (UTF-8)"
                              % (text[:40], size, MAX_KEY_BYTES))
    return bucket, key


def remote_and_local(first: str, second: Optional[str]) -> Tuple[str, Optional[str]]:
    """The two arguments of ``put``/``get``/``multiput`` as ``(remote, local)``: the official order
    (remote first) or, when only the second is a ``wcs://`` URI, the other one (source first)."""
    if second and is_wcs_uri(second) and not is_wcs_uri(first) and not first.lower().startswith(("http://",
                                                                                                  "https://")):
        return second, first
    return first, second
