"""Asynchronous jobs over HTTP: ``POST /fmgr/<op>``, ``POST /fops`` (signed) and the status queries
``GET /fmgr/status`` and ``GET /status/get/prefop`` (no auth). The jobs themselves run in
:mod:`wcs.emulator.jobs`."""

from typing import Dict, List, Optional

from werkzeug.wrappers import Request, Response

from wcs.emulator.api.context import Context
from wcs.emulator.api.wire import b64_text, flag, json_response
from wcs.emulator.errors import BadRequest, InvalidObjectState, JobNotFound, MissingParameter
from wcs.emulator.jobs import FMGR_OPS
from wcs.emulator.state import now_ms


def _ops(text: str) -> List[str]:
    ops = [item for item in text.split(";") if item.strip()]
    if not ops:
        raise MissingParameter("fops")
    return ops


def _notify_url(form: Dict[str, str]) -> Optional[str]:
    return b64_text(form["notifyURL"], "notifyURL") if form.get("notifyURL") else None


class JobsApi:
    """``fmgr``, ``fops`` and ``status``."""

    endpoints = ("fmgr", "fops", "status")

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def fmgr(self, request: Request, op: str) -> Response:
        _, form = self.ctx.mgr_body(request)
        if op not in FMGR_OPS:
            raise BadRequest("unknown fmgr operation %r" % op)
        ops = _ops(form.get("fops", ""))
        job_id = self.ctx.jobs.submit_fmgr(op, ops, _notify_url(form), flag(form, "force"), flag(form, "separate"))
        return json_response({"persistentId": job_id})

    def fops(self, request: Request) -> Response:
        _, form = self.ctx.mgr_body(request)
        bucket = b64_text(form.get("bucket"), "bucket")
        key = b64_text(form.get("key"), "key")
        ops = _ops(b64_text(form.get("fops"), "fops"))
        notify = _notify_url(form)
        source = self.ctx.store.require(bucket, key)
        if not self.ctx.store.extras.get(source).readable(now_ms()):
            raise InvalidObjectState("the source is an Archive object that is not restored; restore it first")
        job_id = self.ctx.jobs.submit_fops(source, ops, notify, flag(form, "force"), flag(form, "separate"))
        return json_response({"persistentId": job_id})

    def status(self, request: Request) -> Response:
        job_id = request.args.get("persistentId", "")
        if not job_id:
            raise MissingParameter("persistentId")
        status = self.ctx.jobs.status(job_id)
        if status is None:
            raise JobNotFound()
        return json_response(status)
