"""The tools a build runs (docker build, mmdebstrap), each in its own process group, all stoppable at once.

After `stop()` no new process starts, and every running one gets SIGTERM (then SIGKILL after a grace period),
so Ctrl-C stops a build between steps and in the middle of one alike."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

GRACE_SECONDS = 10.0
POLL_SECONDS = 0.1  # how often a stop looks whether the groups it signalled are gone


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
        groups = [process.pid for process in running]  # each its own session, so its group ID is its PID
        for group in groups:
            _signal_group(group, signal.SIGTERM)
        if groups:
            threading.Thread(target=_kill_after_grace, args=(groups,), daemon=True).start()

    def running(self) -> int:
        with self._lock:
            return len(self._running)


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, sig)


def _group_exists(group: int) -> bool:
    try:
        os.killpg(group, 0)  # signal 0: only asks whether the group has a process (a zombie leader counts)
    except ProcessLookupError:
        return False
    return True


def _kill_after_grace(groups: list[int]) -> None:
    """SIGKILL every group still there GRACE_SECONDS after the SIGTERM. The group, not its leader, is what is
    watched: a leader may exit on SIGTERM while a child that ignores it runs on (and holds the output pipe run()
    reads to its end). A group ID stays reserved while any process of the group exists, so the group killed is the
    one signalled, short of one emptied and reused within POLL_SECONDS."""
    deadline = time.monotonic() + GRACE_SECONDS
    while (groups := [group for group in groups if _group_exists(group)]) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    for group in groups:
        _signal_group(group, signal.SIGKILL)
