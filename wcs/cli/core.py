"""The one error boundary of ``wcscmd``: :func:`main` runs a command and turns any failure into one line.

Commands raise; ``main`` turns the exception into one ``wcscmd: error: ...`` line on stderr and an
exit status from :class:`wcs.cli.status.ExitStatus` (a traceback only with ``--debug``). The
standard streams and the environment come in as arguments (``sys.*`` and ``os.environ`` by default),
and nothing below ``main`` reads them from anywhere else: the run can be driven from a test, or
embedded, without swapping process-wide state.
"""

import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
import warnings
from typing import IO, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from wcs.cli import pipes
from wcs.cli.argtypes import UsageError
from wcs.cli.configure import run_configure
from wcs.cli.context import Context, MaskingFormatter
from wcs.cli.definition import PROG, build_parser, check_options, normalize_argv, overrides_from
from wcs.cli.messages import network_message
from wcs.cli.status import ExitStatus, status_for
from wcs.commons.errors import LocalFileError, NotRestored, ServiceError

_LOGGERS = ("wcs", "urllib3")


class _LineHandler(logging.StreamHandler):
    """Log lines on the run's stderr, each on a line of its own (a progress bar is taken off first)."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.stderr)
        self.ctx = ctx

    def emit(self, record: logging.LogRecord) -> None:
        live = self.ctx.live
        if live is not None:
            live.clear()
        super().emit(record)


def _attach_logging(debug: bool, ctx: Context) -> Tuple[logging.Handler, Dict[str, int]]:
    """Library warnings always reach stderr (one masked line each); its notes with ``-v``; everything
    with ``--debug``."""
    handler = _LineHandler(ctx)
    handler.setFormatter(MaskingFormatter(ctx.mask, PROG + (": %(levelname)s: %(name)s: %(message)s"
                                                            if debug else ": %(levelname)s: %(message)s")))
    level = logging.DEBUG if debug else logging.INFO if ctx.verbose else logging.WARNING
    handler.setLevel(level)
    # An emulator in the same process (tests, the demo) logs under wcs.emulator: not this command's news.
    handler.addFilter(lambda record: not record.name.startswith("wcs.emulator"))
    levels = {}
    for name in _LOGGERS if debug else _LOGGERS[:1]:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if level < logging.WARNING:
            levels[name] = logger.level
            logger.setLevel(level)
    return handler, levels


def _detach_logging(handler: logging.Handler, levels: Dict[str, int]) -> None:
    for name in _LOGGERS:
        logging.getLogger(name).removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


UNVERIFIED_TLS_NOTE = "TLS certificate verification is off (isverify = False)"


@contextlib.contextmanager
def _unverified_tls_note(ctx: Context) -> Iterator[None]:
    """Turn urllib3's ``InsecureRequestWarning`` (two lines, repeated per host) into one note line.

    Only for the CLI's run: the library leaves warnings to the application. The category is
    recognised by name so that commands which never make a request do not import urllib3.
    """
    lock = threading.Lock()
    noted: List[bool] = []

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if category.__name__ == "InsecureRequestWarning" and category.__module__.startswith("urllib3"):
            with lock:  # block uploads warn from several threads
                if not noted:
                    noted.append(True)
                    ctx.line(UNVERIFIED_TLS_NOTE, "warning")
            return
        previous(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():  # restores the filters and showwarning afterwards
        previous = warnings.showwarning
        warnings.showwarning = show
        # Reach show() even where the warning would be ignored or shown once per place.
        warnings.filterwarnings("always", message="Unverified HTTPS request")
        yield


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP (``signum``); ``again``: the second one."""

    def __init__(self, signum: int, again: bool = False) -> None:
        super().__init__(signum)
        self.signum = signum
        self.again = again


_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_SIGNAL_WORDS = {getattr(signal, "SIGHUP", -1): "hung up (SIGHUP)", signal.SIGTERM: "terminated (SIGTERM)"}


class _StopSignals:
    """SIGINT, SIGTERM and SIGHUP stop the command the way Ctrl-C does, and say so at once.

    The first signal raises :class:`Stopped` in the main thread: an upload cancels its queued blocks,
    those in flight stop within one 256 KiB slice or when their answer comes, and the error
    boundary prints how to resume. Meanwhile ``stopping: waiting for N transfers in flight`` is
    shown, so a slow link does not look hung. A second signal raises again wherever the main thread
    waits, so the command ends at once; blocks already recorded stay recorded (workers write the
    record right after each block). Once the error boundary has the interruption (``finishing``),
    more signals are ignored, so its last lines are always printed. Installed only in the main
    thread of the process, and the previous handlers are restored by :meth:`restore`.
    """

    def __init__(self) -> None:
        self.ctx: Optional[Context] = None
        self.seen: List[int] = []
        self.finishing = False
        self._previous: Dict[int, Any] = {}

    def install(self, ctx: Context) -> None:
        self.ctx = ctx
        if threading.current_thread() is threading.main_thread():
            for signum in _STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._stop)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _stop(self, signum: int, frame: Any) -> None:
        if self.finishing:
            return
        if self.seen:
            raise Stopped(signum, again=True)
        self.seen.append(signum)
        busy = self.ctx.in_flight() if self.ctx is not None else 0
        if busy and self.ctx is not None:
            again = "Ctrl-C" if signum == signal.SIGINT else "the signal"
            try:  # the handler may interrupt a write to stderr: never fail because of the message
                self.ctx.line("stopping: waiting for %d transfer%s in flight (%s again to quit now)"
                              % (busy, "" if busy == 1 else "s", again))
            except (RuntimeError, OSError, ValueError):
                pass
        raise Stopped(signum)


def _run(args: Any, ctx: Context, parser: Any) -> int:
    if getattr(args, "configure", False):
        return run_configure(ctx.config_file(), ctx.stdin, ctx.stderr, profile=_profile(ctx))
    if getattr(args, "dump_config", False):
        ctx.config().dump_config(ctx.stdout, sources=True)  # the one place the secret key is shown
        return ExitStatus.SUCCESS
    if getattr(args, "func", None) is None:
        parser.print_help(ctx.stderr)
        raise UsageError("no command given", PROG)
    return args.func(args, ctx)


def _profile(ctx: Context) -> Optional[str]:
    from wcs.commons.config import PROFILE_VARIABLE

    return ctx.profile or ctx.environ.get(PROFILE_VARIABLE) or None


def _wants_debug(argv: Sequence[str]) -> bool:
    # Before parsing, so that a failure of the parser itself is shown with its traceback too.
    return "--debug" in argv or any(a.startswith("--debug=") and a[8:].lower() in ("1", "true", "yes", "on")
                                    for a in argv)


def main(argv: Optional[Sequence[str]] = None, *, stdin: Optional[IO[str]] = None,
         stdout: Optional[IO[str]] = None, stderr: Optional[IO[str]] = None,
         environ: Optional[Mapping[str, str]] = None) -> int:
    """Run ``wcscmd`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Args:
        stdin, stdout, stderr: the streams of the run (default: ``sys.stdin`` etc. at call time).
        environ: the ``WCS_*`` variables and the like (default: ``os.environ``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    streams: Dict[str, Any] = {"stdin": sys.stdin if stdin is None else stdin,
                               "stdout": sys.stdout if stdout is None else stdout,
                               "stderr": sys.stderr if stderr is None else stderr,
                               "environ": os.environ if environ is None else environ}
    debug = _wants_debug(argv)
    ctx = Context(prog=PROG, config_path=None, overrides=(), quiet=False, **streams)
    logs = None
    stopper = _StopSignals()
    try:
        parser = build_parser(stdout=ctx.stdout)
        try:
            args = parser.parse_args(normalize_argv(argv))
        except SystemExit as exc:  # --help / --version print and "exit"
            ctx.stdout.flush()  # here, so that a reader gone (| head) is seen by this boundary
            if ctx.stdout.reader_gone:  # argparse ignores a failed write of the help: the guard saw it
                return _pipe_closed(streams)
            return int(exc.code or 0)
        check_options(args)
        debug = bool(getattr(args, "debug", False))
        ctx = Context(prog=PROG, config_path=getattr(args, "config", None), overrides=overrides_from(args),
                      quiet=bool(getattr(args, "quiet", False)), argv=argv, profile=getattr(args, "profile", None),
                      json_lines=bool(getattr(args, "json", False)), verbose=bool(getattr(args, "verbose", False)),
                      stats=float(getattr(args, "stats", 0.0)), command=getattr(args, "command", None), **streams)
        logs = _attach_logging(debug, ctx)
        stopper.install(ctx)
        with _unverified_tls_note(ctx):
            status = int(_run(args, ctx, parser))
            ctx.stdout.flush()  # here, so that a reader gone (| head) is seen by this boundary, not at exit
            if ctx.verbose and not ctx.said_verbose and ctx.command:
                from wcs.cli.printing import elapsed, verbose

                verbose(ctx, "%s: done in %.2f s" % (ctx.subject or ctx.command, elapsed(ctx)))
            return status
    except KeyboardInterrupt as exc:
        stopper.finishing = True
        ctx.line(_SIGNAL_WORDS.get(getattr(exc, "signum", signal.SIGINT), "interrupted"), "error")
        if ctx.hint:
            ctx.line(ctx.hint)
        return status_for(exc)
    except Exception as exc:  # the one boundary: any failure -> one line + status
        stopper.finishing = True
        if pipes.reader_gone(ctx.stdout, exc):
            return _pipe_closed(streams)
        status = status_for(exc)
        message = _message(exc, status, ctx, debug)
        if not ctx.emitted:
            _emit_failure(ctx, exc, status, message)
        if debug:
            ctx.stderr.write(ctx.mask("".join(traceback.format_exception(type(exc), exc, exc.__traceback__))))
        ctx.line(message, "error")
        if ctx.hint and status in _RESUMABLE:
            ctx.line(ctx.hint)
        return status
    finally:
        stopper.finishing = True
        if logs is not None:
            _detach_logging(*logs)
        ctx.close()
        stopper.restore()


def _pipe_closed(streams: Dict[str, Any]) -> int:
    """As a Unix tool killed by SIGPIPE: nothing more is said, and the status tells why."""
    if streams["stdout"] is sys.stdout:
        pipes.silence(sys.stdout)
    return ExitStatus.PIPE_CLOSED


# Failures of a call (not of the command line, the config or a resume record) that still print a JSON
# document, so a script reading stdout always gets one.
_DOCUMENTED = (ExitStatus.LOCAL_FILE, ExitStatus.NETWORK, ExitStatus.INTEGRITY, ExitStatus.SERVICE,
               ExitStatus.CHANGED, ExitStatus.ERROR)


def _emit_failure(ctx: Context, exc: BaseException, status: ExitStatus, message: str) -> None:
    from wcs.cli.context import result_document

    result = getattr(exc, "result", None)
    if isinstance(exc, ServiceError) and result is not None:
        ctx.emit(result_document(result))  # the service's own error answer
    elif status in _DOCUMENTED:
        # An answer that came but cannot be trusted (integrity), or a failure with none: the document
        # says so with "error", never passing for a success.
        document: Dict[str, Any] = result_document(result) if result is not None else \
            {"code": -1 if status == ExitStatus.NETWORK else None, "reqid": None, "body": None}
        document.update(error=message, status=int(status))
        ctx.emit(document)


# Failures after which running the same multiput again with --upload-id can succeed.
_RESUMABLE = (ExitStatus.SERVICE, ExitStatus.NETWORK, ExitStatus.INTEGRITY, ExitStatus.ERROR)


def _message(exc: BaseException, status: ExitStatus, ctx: Context, debug: bool) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, UsageError):
        return "%s (see '%s --help')" % (text, exc.prog)
    if status == ExitStatus.CONFIG:
        return "%s; %s" % (text, ctx.configure_hint())
    if status == ExitStatus.NETWORK and not debug:
        return network_message(exc)
    if status == ExitStatus.CHANGED:
        return "%s; nothing was kept: run the command again to get the new version" % text
    if status == ExitStatus.LOCAL_FILE and isinstance(exc, OSError) and exc.filename \
            and not isinstance(exc, LocalFileError):
        return "%s: %s" % (exc.filename, exc.strerror or text)
    if status == ExitStatus.ERROR and not isinstance(exc, ServiceError):
        return "unexpected %s: %s%s" % (type(exc).__name__, text,
                                        "" if debug else " (run with --debug for details)")
    if isinstance(exc, NotRestored):
        name = ctx.subject if ctx.subject and ctx.subject.startswith("wcs://") else "wcs://BUCKET/KEY"
        return ("%s is in Archive storage and not restored: run 'wcscmd restore %s DAYS', then this again once "
                "'wcscmd stat' shows restoreState restored (HTTP %s, reqid %s)"
                % (ctx.subject or "the object", name, exc.code, getattr(exc.result, "reqid", None)))
    if isinstance(exc, ServiceError):
        if ctx.advice:
            text = "%s; %s" % (text, ctx.advice)
        if ctx.subject:
            text = "%s: %s" % (ctx.subject, text)  # which object of a script's many calls failed
    return text
