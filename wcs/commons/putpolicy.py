"""``PutPolicy``: the upload-token policy, whitelisted to the fields the service documents."""

from typing import Any, Dict, Optional

from wcs.commons.errors import InvalidArgument
from wcs.commons.settings import POLICY_FIELDS, PolicyDefaults

FIELDS = frozenset({
    "scope", "deadline", "saveKey", "fsizeLimit", "overwrite", "returnUrl", "returnBody",
    "callbackUrl", "callbackBody", "persistentNotifyUrl", "persistentOps", "contentDetect",
    "detectNotifyURL", "detectNotifyRule", "separate", "instant", "hashAlgorithm",
})

class PutPolicy:
    """A put policy as a dict of whitelisted fields (``putpolicy``)."""

    def __init__(self, fields: Optional[Dict[str, Any]] = None) -> None:
        self.putpolicy: Dict[str, Any] = {}
        for key, value in (fields or {}).items():
            self.set_conf(key, value)

    def set_conf(self, key: str, value: Any) -> None:
        if key not in FIELDS:
            raise InvalidArgument("invalid put policy field %r" % key)
        self.putpolicy[key] = value

    def get_conf(self, key: str) -> Any:
        if key not in FIELDS:
            raise InvalidArgument("invalid put policy field %r" % key)
        return self.putpolicy.get(key)

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
