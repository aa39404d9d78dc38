"""Fault injection: make chosen endpoints fail at a given rate, reproducibly.

A spec is a comma list of ``ENDPOINT:KIND:RATE`` rules, e.g. ``mkblk:500:0.3,download:reset:0.1``.

* ENDPOINT: ``upload`` (form upload), ``mkblk``, ``bput``, ``mkfile``, ``mgr`` (every management, fmgr,
  fops, list and status call), ``download``, or ``*`` for all.
* KIND: ``500`` / ``503`` answer the JSON error at once; ``reset`` reads a little of the request body and
  drops the TCP connection (RST) without answering; ``slow`` waits 0.2-1.0 s, then serves normally;
  ``corrupt`` inverts one byte of the content on the wire and then serves normally: of what is
  received for ``upload`` (the last byte of the file part), ``mkblk`` and ``bput`` (the middle byte of
  the chunk) - the object or block then holds the wrong byte and the answer's ``hash`` / ``crc32``
  describe it, as for a corruption a client must catch - and of what is sent for ``download`` (the
  first byte; the ``ETag`` stays the stored hash). It never applies to ``mgr`` or ``mkfile``;
  ``cut`` (``download`` only) sends the headers and about half of the body, then drops the connection
  (RST): the client sees a body shorter than announced, as when a link dies mid-transfer.
* RATE: probability in [0, 1].

Faults are decided before a handler runs, so a failed request never changed state and is safe to retry
(``corrupt`` aside: it changes the stored bytes, which is its point).
Decisions come from one ``random.Random(seed)`` shared by all rules, so the same seed and the same
sequence of requests give the same faults.
"""

import random
import threading
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Union

ENDPOINTS = ("upload", "mkblk", "bput", "mkfile", "mgr", "download", "*")
KINDS = ("500", "503", "reset", "slow", "corrupt", "cut")
CORRUPTIBLE = ("upload", "mkblk", "bput", "download")
"""Endpoints whose content ``corrupt`` can damage; elsewhere a ``corrupt`` draw injects nothing."""


@dataclass(frozen=True)
class FaultRule:
    endpoint: str
    kind: str
    rate: float

    def matches(self, endpoint: str) -> bool:
        return self.endpoint == "*" or self.endpoint == endpoint


def parse_faults(spec: Union[str, Iterable, None]) -> List[FaultRule]:
    """Parse a ``--faults`` SPEC (or pass through already parsed rules / ``(endpoint, kind, rate)`` tuples).

    Raises:
        ValueError: a rule is malformed.
    """
    if spec is None:
        return []
    if isinstance(spec, str):
        items: Sequence = [part.strip() for part in spec.split(",") if part.strip()]
    else:
        items = list(spec)
    rules = []
    for item in items:
        if isinstance(item, FaultRule):
            rule = item
        else:
            parts = item.split(":") if isinstance(item, str) else list(item)
            if len(parts) != 3:
                raise ValueError("fault rule %r is not ENDPOINT:KIND:RATE" % (item,))
            endpoint, kind, rate = (str(parts[0]).strip(), str(parts[1]).strip(), parts[2])
            try:
                rate = float(rate)
            except ValueError:
                raise ValueError("fault rule %r: RATE must be a number" % (item,)) from None
            rule = FaultRule(endpoint, kind, rate)
        if rule.endpoint not in ENDPOINTS:
            raise ValueError("fault rule %r: ENDPOINT must be one of %s" % (item, ", ".join(ENDPOINTS)))
        if rule.kind not in KINDS:
            raise ValueError("fault rule %r: KIND must be one of %s" % (item, ", ".join(KINDS)))
        if not 0.0 <= rule.rate <= 1.0:
            raise ValueError("fault rule %r: RATE must lie in 0..1" % (item,))
        rules.append(rule)
    return rules


class FaultInjector:
    """Thread-safe, seeded decision of which request gets which fault."""

    def __init__(self, spec: Union[str, Iterable, None] = None, seed: Optional[int] = None) -> None:
        self._lock = threading.Lock()
        self.configure(spec, seed)

    def configure(self, spec: Union[str, Iterable, None], seed: Optional[int] = None) -> None:
        rules = parse_faults(spec)
        with self._lock:
            self.rules = rules
            self._rng = random.Random(seed)

    def pick(self, endpoint: str) -> Optional[str]:
        """The fault KIND to inject into a request to ``endpoint``, or None.

        Each matching rule draws once, in spec order; the first hit wins.
        """
        with self._lock:
            for rule in self.rules:
                if rule.matches(endpoint) and self._rng.random() < rule.rate:
                    return rule.kind
        return None

    def slow_delay(self) -> float:
        with self._lock:
            return 0.2 + 0.8 * self._rng.random()
