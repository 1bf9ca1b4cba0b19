"""The tools a build runs (docker build, mmdebstrap), each in its own process group, all stoppable at once.

After `stop()` no new process starts, and every running one gets SIGTERM (then SIGKILL after a grace period),
so Ctrl-C stops a build between steps and in the middle of one alike."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

GRACE_SECONDS = 10.0


class Stopped(Exception):
    """The run is stopping: nothing new may start."""


class Processes:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[str]] = set()
        self._stopping = threading.Event()
        self.signal_number: int | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(
        self,
        command: Sequence[str],
        log: Path,
        *,
        env: dict[str, str] | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> int:
        """Run `command` with its output appended to `log` (and each line passed to `on_line`); its exit code."""
        with log.open("a") as out:
            out.write("$ " + " ".join(command) + "\n")
            out.flush()
            with self._lock:
                if self.stopping:
                    raise Stopped
                process = subprocess.Popen(
                    command,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                )
                self._running.add(process)
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    out.write(line)
                    if on_line is not None:
                        on_line(line)
            finally:
                code = process.wait()
                with self._lock:
                    self._running.discard(process)
        if self.stopping:
            raise Stopped
        return code

    def stop(self, signal_number: int | None = None) -> None:
        """Start nothing more, and terminate what runs (its whole process group); returns at once, so a signal
        handler may call it. What ignores SIGTERM is killed after GRACE_SECONDS."""
        with self._lock:
            if not self.stopping:
                self.signal_number = signal_number
            self._stopping.set()
            running = list(self._running)
        for process in running:
            _signal_group(process, signal.SIGTERM)
        if running:
            threading.Thread(target=_kill_after_grace, args=(running,), daemon=True).start()

    def running(self) -> int:
        with self._lock:
            return len(self._running)


def _signal_group(process: subprocess.Popen[str], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _kill_after_grace(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        try:
            process.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
