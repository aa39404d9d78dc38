"""``PutPolicy``: the upload-token policy, whitelisted to the fields the service documents."""

from typing import Any, Dict, Optional

from wcs.commons.errors import InvalidArgument

FIELDS = frozenset({
    "scope", "deadline", "saveKey", "fsizeLimit", "overwrite", "returnUrl", "returnBody",
    "callbackUrl", "callbackBody", "persistentNotifyUrl", "persistentOps", "contentDetect",
    "detectNotifyURL", "detectNotifyRule", "separate", "instant", "hashAlgorithm",
})

# Config keys that become policy fields when set (non-empty / non-zero), with their wire type. The same
# list as the official SDK's, so tokens stay byte-identical: ``separate`` in the config is for fmgr/fops
# jobs, and reaches a policy only when set on it explicitly.
_FROM_CONFIG = (
    ("overwrite", int), ("returnUrl", str), ("returnBody", str), ("callbackUrl", str),
    ("callbackBody", str), ("persistentNotifyUrl", str), ("persistentOps", str),
    ("contentDetect", str), ("detectNotifyURL", str), ("detectNotifyRule", str),
    ("hashAlgorithm", str), ("deadline", int),
)


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
        """Copy the policy settings of a :class:`~wcs.commons.config.Config` in; returns the policy.

        ``deadline`` stays a lifetime in seconds; ``Auth.uploadtoken`` makes it absolute.
        """
        for key, kind in _FROM_CONFIG:
            value = getattr(cfg, key, None)
            if value:
                self.set_conf(key, kind(value))
        return self.putpolicy
