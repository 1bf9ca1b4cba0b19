"""Console progress for fetch(): one line rewritten in place on a TTY, a few lines in a CI log.

URLs are shown through pyfamily.redaction, so a mirror's `user:token@` part or query string never appears.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Protocol, TextIO, runtime_checkable
from urllib.parse import urlsplit

from pyfamily.redaction import redact_url

MIB = 1024 * 1024

Progress = Callable[[str, int, int | None], None]
"""progress(url, bytes_done, total_or_None): called about every MiB, and last with total == bytes_done."""


@runtime_checkable
class ReportsSkips(Protocol):
    """A progress callback that also wants to know when a URL is given up for the next one, and why."""

    def skipped(self, url: str, reason: str) -> None: ...


def console_progress(stream: TextIO | None = None) -> Progress:
    """A progress callback for fetch() writing to stream (sys.stderr by default).

    On a TTY one line is rewritten in place; otherwise a line is printed about every 25% (every 10 MiB
    when the size is unknown) so that CI logs stay short. A URL that is skipped gets a line saying why.
    """
    out = stream if stream is not None else sys.stderr
    return _ConsoleProgress(out, _isatty(out))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty(), or already closed
        return False


class _ConsoleProgress:
    def __init__(self, stream: TextIO, tty: bool) -> None:
        self._stream = stream
        self._tty = tty
        self._url: str | None = None
        self._step = -1
        self._finished = False
        self._line_open = False

    def __call__(self, url: str, done: int, total: int | None) -> None:
        if url != self._url:
            self._start(url)
        if self._finished:
            return
        self._finished = total is not None and done >= total
        line = progress_line(url, done, total)
        if self._tty:
            self._write("\r" + line + "\x1b[K" + ("\n" if self._finished else ""))
            self._line_open = not self._finished
        else:
            step = done * 4 // total if total else done // (10 * MIB)
            if step > self._step or self._finished:
                self._step = step
                self._write(line + "\n")

    def skipped(self, url: str, reason: str) -> None:
        self._close_line()
        self._url = None
        self._write(f"skipped {redact_url(url)}: {reason}\n")

    def _start(self, url: str) -> None:
        self._close_line()  # the previous URL failed halfway: keep its last state visible
        self._url, self._step, self._finished = url, -1, False

    def _close_line(self) -> None:
        if self._line_open:
            self._write("\n")
            self._line_open = False

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


def progress_line(url: str, done: int, total: int | None) -> str:
    """The line for a download, e.g. "downloading Python-3.13.15.tar.xz from www.python.org: 1.0/22.0 MiB (4%)"."""
    try:
        parts = urlsplit(url)
        name, host = parts.path.rsplit("/", 1)[-1], parts.hostname
    except ValueError:
        name, host = "", None
    where = host or redact_url(url)
    size = f"{done / MIB:.1f}/{total / MIB:.1f} MiB ({done * 100 // total}%)" if total else f"{done / MIB:.1f} MiB"
    return f"downloading {name or 'the source tarball'} from {where}: {size}"
