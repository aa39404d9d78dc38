"""Values kept on disk until a run ends: the paths a sync deletes last, the copies it checks, the deletions
of a plan. Each value is one JSON line of an anonymous temporary file, read back in the order it was
put, so memory stays flat however many there are; the file goes with :meth:`JsonSpool.close` (or with
the process).
"""

import json
import tempfile
from typing import IO, Any, Iterator, Optional


class JsonSpool:
    """JSON values in the order they were put; :attr:`count` of them. The file is made by the first
    :meth:`put` (named ``prefix...`` while it exists)."""

    def __init__(self, prefix: str = "wcs-spool-") -> None:
        self._prefix = prefix
        self._fp: Optional[IO[str]] = None
        self.count = 0

    def put(self, value: Any) -> None:
        if self._fp is None:
            self._fp = tempfile.TemporaryFile("w+", encoding="utf-8", prefix=self._prefix)
        self._fp.write(json.dumps(value) + "\n")
        self.count += 1

    def values(self) -> Iterator[Any]:
        """The values put so far, in order (putting more while reading is not allowed)."""
        if self._fp is None:
            return
        self._fp.flush()
        self._fp.seek(0)
        for line in self._fp:
            yield json.loads(line)

    def close(self) -> None:
        if self._fp is not None:
            self._fp.close()
            self._fp = None
