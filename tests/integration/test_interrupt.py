"""Ctrl-C and SIGTERM on the real CLI: nothing new starts, what runs stops, unfinished targets are
`interrupted`, the summary prints, the exit is 130 / 143, and the run's locks are free afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pyfamily.produce import lock

from . import support

pytestmark = pytest.mark.integration

REPOSITORY = "pyfamily-stop/python"


class SlowMirror:
    """A mirror on 127.0.0.1 that answers every tarball request with one byte every 0.2 s (for at most 120 s)."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.closing = threading.Event()
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not self.path.startswith("/slow/"):
                    self.send_error(404)
                    return
                mirror.requested.set()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-xz")
                self.send_header("Content-Length", str(20_000_000))
                self.end_headers()
                deadline = time.monotonic() + 120
                with contextlib.suppress(OSError):
                    while not mirror.closing.is_set() and time.monotonic() < deadline:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.2)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> SlowMirror:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def family_file(tmp_path: Path, base_ref: str, mirror: str) -> Path:
    path = tmp_path / "family.yaml"
    path.write_text(f"""
extends: {support.FIXTURE}
repository: {REPOSITORY}
base: {{debian: null, from: "{base_ref}", suite: trixie}}
sources: {{debian_archive: "{mirror}/debian", mirrors: ["{mirror}/slow"]}}
""")
    return path


def start_build(config: Path, cache: Path, work_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYFAMILY_CACHE": str(cache),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1",
        **(work_env or {}),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "invoke",
            "--search-root",
            str(support.ROOT),
            "build",
            "--config",
            str(config),
            "--target",
            "3.13",
            "--jobs",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=support.ROOT,
        start_new_session=True,
    )


def wait_for(condition: threading.Event | None, lines: list[str], text: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (condition is not None and condition.is_set()) or any(text in line for line in lines):
            return
        time.sleep(0.1)
    pytest.fail(f"waited {seconds} s for {text!r}; output so far:\n" + "".join(lines))


def collect(process: subprocess.Popen[str]) -> list[str]:
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        lines.extend(iter(process.stdout.readline, ""))

    threading.Thread(target=read, daemon=True).start()
    return lines


@pytest.fixture
def cleanup() -> Iterator[None]:
    yield
    support.untag(REPOSITORY)


def status_of(output: str, target: str) -> str:
    for line in output.splitlines():
        words = line.split()
        if words[:1] == [target] and len(words) > 1:
            return words[1]
    return ""


def interrupt(
    config: Path, cache: Path, when: threading.Event | None, text: str, signal_number: int, *, whole_group: bool
) -> tuple[int, str]:
    """Start a build, wait for `when` or `text` in its output, send the signal; its exit code and output."""
    process = start_build(config, cache)
    lines = collect(process)
    try:
        wait_for(when, lines, text, 300)
        time.sleep(2)
        if whole_group:  # what a terminal's Ctrl-C does: the whole foreground process group
            os.killpg(process.pid, signal_number)
        else:
            os.kill(process.pid, signal_number)
        code = process.wait(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    return code, "".join(lines)


def test_ctrl_c_while_a_source_downloads_stops_everything_and_exits_130(helper_image, tmp_path, cleanup):
    with SlowMirror() as mirror:
        config = family_file(tmp_path, helper_image, mirror.url)
        code, output = interrupt(
            config, tmp_path / "cache", mirror.requested, "never printed", signal.SIGINT, whole_group=True
        )
    assert code == 130, output
    assert status_of(output, "base") in ("built", "up")  # finished before the interrupt: kept
    assert status_of(output, "cpython-3.13") == "interrupted", output
    assert status_of(output, "3.13") == "interrupted", output
    assert "Traceback" not in output
    assert support.image_id(f"{REPOSITORY}:3.13") == "" and support.image_id(f"{REPOSITORY}:cpython-3.13.15-fast") == ""
    assert not list((tmp_path / "cache" / "sources").glob("*.part"))
    with lock.hold([support.ROOT / "build" / ".lock"], "test"):  # released: nothing of the run is still running
        pass


def test_sigterm_during_a_docker_build_stops_it_and_exits_143(family, tmp_path, cleanup):
    with SlowMirror() as mirror:  # the fixture family's tarball is in the source cache: the compile step starts
        config = family_file(tmp_path, family.ref("base"), mirror.url)
        code, output = interrupt(
            config, family.settings.cache_dir, None, "[cpython-3.13] building", signal.SIGTERM, whole_group=False
        )
    assert code == 143, output
    assert status_of(output, "cpython-3.13") == "interrupted", output
    assert status_of(output, "3.13") == "interrupted", output
    assert support.image_id(f"{REPOSITORY}:cpython-3.13.15-fast") == ""
    leftover = subprocess.run(
        ["pgrep", "-f", "--", f"--tag {REPOSITORY}:cpython"], capture_output=True, text=True, check=False
    )
    assert leftover.stdout.strip() == "", "a docker build of the run is still running"
