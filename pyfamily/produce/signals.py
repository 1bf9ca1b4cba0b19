"""Ctrl-C and SIGTERM during a run: the first stops starting anything and stops what runs; later ones say what the
run still waits for. Handlers are set only on the main thread (a run in a worker thread leaves signals alone)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from pyfamily.produce.processes import Processes
from pyfamily.util import Say


@contextlib.contextmanager
def stop_on_signals(processes: Processes, say: Say) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(number: int, frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if processes.stopping:
            say(f"{name}: still stopping; waiting for {processes.running()} running step(s) to end")
        else:
            say(f"{name}: stopping; nothing new starts, the running builds are being stopped")
            processes.stop(number)

    previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
