"""``PutPolicy``: the upload-token policy, whitelisted to the fields the service documents.

The official class's behaviour: a field outside the whitelist is ignored (logged as a warning
here, where the official SDK prints), ``get_conf(key)`` answers ``"key:value"``, and
``dump_policy`` copies the config's policy settings as the official does (``deadline`` as text:
:meth:`~wcs.commons.auth.Auth.uploadtoken` turns it into the absolute time the wire carries).
"""

import logging
from typing import Any, Dict, Optional

from wcs.commons.settings import POLICY_FIELDS, PolicyDefaults

log = logging.getLogger(__name__)

FIELDS = frozenset({
    "scope", "deadline", "saveKey", "fsizeLimit", "overwrite", "returnUrl", "returnBody",
    "callbackUrl", "callbackBody", "persistentNotifyUrl", "persistentOps", "contentDetect",
    "detectNotifyURL", "detectNotifyRule", "separate", "instant", "hashAlgorithm",
})


class PutPolicy:
    """A put policy as a dict of whitelisted fields (``putpolicy``; ``policy`` is the whitelist)."""

    def __init__(self, fields: Optional[Dict[str, Any]] = None) -> None:
        self.putpolicy: Dict[str, Any] = {}
        self.policy = set(FIELDS)
        for key, value in (fields or {}).items():
            self.set_conf(key, value)

    def set_conf(self, key: str, value: Any) -> None:
        """Set a field; one outside the whitelist is ignored with a warning."""
        if key not in FIELDS:
            log.warning("ignoring invalid put policy field %r", key)
            return
        self.putpolicy[key] = value

    def get_conf(self, key: str) -> Optional[str]:
        """``"key:value"`` of a field that is set (the official form); None for a field outside the whitelist.

        Raises:
            KeyError: the field is not set.
        """
        if key not in FIELDS:
            log.warning("ignoring invalid put policy field %r", key)
            return None
        return "%s:%s" % (key, self.putpolicy[key])

    def dump_policy(self, cfg: Any) -> Dict[str, Any]:
        """Copy the policy settings of a :class:`~wcs.commons.config.Config` (or any object with those
        attributes, or a :class:`~wcs.commons.settings.PolicyDefaults`) in; returns the policy.

        ``deadline`` stays a lifetime in seconds; ``Auth.uploadtoken`` makes it absolute.
        """
        if isinstance(cfg, PolicyDefaults):
            for key, value in cfg.fields().items():
                self.set_conf(key, value)
            return self.putpolicy
        for key, kind in POLICY_FIELDS:
            value = getattr(cfg, key, None)
            if value:
                self.set_conf(key, kind(value))
        return self.putpolicy
