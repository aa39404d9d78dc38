"""The official ``wcs.services.persistentfop.PersistentFop(auth, url)``, over :class:`~wcs.services.jobs.FopsService`.

An adapter at the edge; nothing in the engine imports it.
"""

from typing import Any, List, Mapping, Optional

from wcs.commons.http import Result
from wcs.commons.util import entry
from wcs.services.jobs import FopsService, build_op
from wcs.services.mgrbase import MgrBase


class PersistentFop(MgrBase):
    """Persistent processing jobs (the official class); see :class:`wcs.services.jobs.FopsService`."""

    def _service(self, signed: bool = True) -> FopsService:
        return FopsService(self.client.http, self.auth if signed else None, self.client.cfg.endpoints)

    def _build_op(self, cmd: str, first_arg: Optional[str], **kwargs: Any) -> str:
        return build_op(cmd, first_arg, kwargs)

    def _pipe_cmd(self, *cmds: str) -> str:
        return "|".join(cmds)

    def _op_save(self, op: str, bucket: str, key: str) -> str:
        return self._pipe_cmd(op, "saveas/" + entry(bucket, key))

    def build_ops(self, ops: Mapping[str, Any], bucket: str, key: str) -> List[str]:
        """``cmd/arg|saveas/<entry>`` of every ``cmd: arg`` pair, each saved as ``bucket:key``."""
        return [self._op_save(self._build_op(op, params), bucket, key) for op, params in ops.items()]

    def execute(self, fops: str, bucket: str, key: str, force: Any = 0, separate: Any = 0,
                notifyurl: Optional[str] = None) -> Result:
        """Run ``fops`` on ``bucket:key``; answers ``{"persistentId": ...}``."""
        return self._service().execute(fops, bucket, key, force=1 if force == 1 else 0,
                                       separate=1 if separate == 1 else 0, notifyurl=notifyurl)

    def fops_status(self, persistentId: str) -> Result:
        """State of a processing job (unsigned)."""
        return self._service(signed=False).status(persistentId)
