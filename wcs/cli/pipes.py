"""Stdout whose reader went away (``wcscmd cat ... | head -c 10``): stop at once, say nothing, exit 141.

Python ignores SIGPIPE, so a write to a pipe nobody reads raises ``BrokenPipeError`` wherever it
happens: in the middle of a download, of a listing, of ``--help``. A Unix tool would be killed by
the signal; ``wcscmd`` does the equivalent: the error boundary recognises the closed stdout
(:func:`reader_gone`), prints no error line and returns 141 (128 + SIGPIPE), and :func:`silence`
points the descriptor at ``/dev/null`` so the interpreter's last flush of what is still buffered
does not print a traceback of its own.

:class:`GuardedStream` is how the closed stdout is recognised: the run's stdout (text and its
binary ``buffer``) notes any write that fails because the reader is gone. For writes that bypass it
(straight to the descriptor), a pipe whose reader is gone is recognised by ``poll`` (``POLLERR``).
"""

import errno
import os
import select
from typing import Any, Optional


def _is_closed_pipe_error(exc: BaseException) -> bool:
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE)


class GuardedStream:
    """A stream that remembers whether a write failed because its reader went away; else transparent."""

    def __init__(self, stream: Any, owner: Optional["GuardedStream"] = None) -> None:
        self._stream = stream
        self._owner = owner or self
        self._buffer: Optional[GuardedStream] = None
        self.reader_gone = False

    @property
    def stream(self) -> Any:
        """The stream it guards."""
        return self._stream

    def _failed(self, exc: OSError) -> None:
        if _is_closed_pipe_error(exc):
            self._owner.reader_gone = True

    def write(self, data: Any) -> Any:
        try:
            return self._stream.write(data)
        except OSError as exc:
            self._failed(exc)
            raise

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            self._failed(exc)
            raise

    @property
    def buffer(self) -> "GuardedStream":
        """The binary stream beneath a text stream, guarded the same way (AttributeError when none)."""
        if self._buffer is None:
            self._buffer = GuardedStream(self._stream.buffer, self._owner)
        return self._buffer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _pipe_reader_gone(stream: Any) -> bool:
    """True when ``stream`` is a pipe whose reading end is closed (``poll`` reports ``POLLERR``)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if not hasattr(select, "poll"):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    try:
        events = poller.poll(0)
    except OSError:
        return False
    return any(mask & select.POLLERR for _fd, mask in events)


def reader_gone(stdout: Any, exc: BaseException) -> bool:
    """Whether ``exc`` ended the command because the reader of ``stdout`` went away."""
    if getattr(stdout, "reader_gone", False):
        return True
    # A write that bypassed the guard (to the descriptor): a local-write failure while stdout is a dead pipe.
    return isinstance(exc, OSError) and _pipe_reader_gone(getattr(stdout, "stream", stdout))


def silence(stream: Any) -> None:
    """Point ``stream``'s descriptor at ``/dev/null``: what is still buffered then flushes without error."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, fd)
    except OSError:
        pass
    finally:
        os.close(devnull)
