"""Build-runner logic that needs no engine: CA bundle choice, the run locks, stopping processes, the summary."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pyfamily import config, plan, produce
from pyfamily.errors import BuildError, Interrupted, UserError
from pyfamily.produce import lock
from pyfamily.produce import processes as processes_module
from pyfamily.produce.processes import Processes, Stopped
from pyfamily.produce.status import Result, Status

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def family():
    return config.load(ROOT / "images.yaml")


def test_ca_bundle_precedence(family, tmp_path, monkeypatch):
    flag, env = tmp_path / "flag.pem", tmp_path / "env.pem"
    flag.write_text("x")
    env.write_text("y")
    monkeypatch.setenv(produce.CA_BUNDLE_ENV, str(env))
    assert produce.resolve_ca_bundle(family, str(flag)) == flag
    assert produce.resolve_ca_bundle(family) == env
    assert produce.resolve_ca_bundle(family, "none") is None
    monkeypatch.delenv(produce.CA_BUNDLE_ENV)
    expected = produce.HOST_CA_BUNDLE if produce.HOST_CA_BUNDLE.is_file() else None
    assert produce.resolve_ca_bundle(family) == expected
    with pytest.raises(UserError, match="does not exist"):
        produce.resolve_ca_bundle(family, str(tmp_path / "missing.pem"))


def test_locks_cover_the_work_folder_and_the_engine_repository(tmp_path):
    first = lock.lock_files(tmp_path / "work", tmp_path / "cache", "ENGINE:1", "owner/python")
    assert first[0] == tmp_path / "work" / ".lock"
    with lock.hold(first, "build"):
        # another family file (another repository) from the same checkout: the work folder is shared
        other_repository = lock.lock_files(tmp_path / "work", tmp_path / "cache2", "ENGINE:1", "owner/other")
        with (
            pytest.raises(UserError, match=r"Another pyfamily run holds .*work/\.lock: pid \d+ of .* \(build: "),
            lock.hold(other_repository, "verify"),
        ):
            pass
        # another checkout on the same engine and repository: the engine lock is shared
        other_checkout = lock.lock_files(tmp_path / "work2", tmp_path / "cache", "ENGINE:1", "owner/python")
        with pytest.raises(UserError, match="Another pyfamily run holds"), lock.hold(other_checkout, "publish"):
            pass
        # another engine, another checkout: nothing shared
        with lock.hold(lock.lock_files(tmp_path / "work3", tmp_path / "cache", "ENGINE:2", "owner/python"), "build"):
            pass
    with lock.hold(first, "build"):  # released on exit
        pass


def test_lock_held_by_another_process_names_it(tmp_path):
    path = tmp_path / "work" / ".lock"
    path.parent.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"""
import sys, time
sys.argv = ["invoke", "build", "--version", "3.13"]
from pyfamily.produce import lock
from pathlib import Path
with lock.hold([Path({str(path)!r})], "build"):
    print("held", flush=True)
    time.sleep(30)
""",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(UserError, match=rf"pid {holder.pid} .*`invoke build --version 3\.13`"),
            lock.hold([path], "build"),
        ):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)
    with lock.hold([path], "build"):  # a killed holder releases the lock
        pass


def test_stopping_processes_ends_what_runs_and_refuses_new_ones(tmp_path):
    processes = Processes()
    outcome: list[object] = []

    def long_step() -> None:
        try:
            outcome.append(processes.run(["sh", "-c", "sleep 30 & wait"], tmp_path / "log"))
        except Stopped:
            outcome.append("stopped")

    worker = threading.Thread(target=long_step)
    worker.start()
    deadline = time.monotonic() + 10
    while processes.running() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    processes.stop(2)
    worker.join(timeout=15)
    assert outcome == ["stopped"] and time.monotonic() - started < 5
    assert processes.signal_number == 2
    with pytest.raises(Stopped):
        processes.run(["true"], tmp_path / "log")
    assert "$ sh -c sleep 30 & wait" in (tmp_path / "log").read_text()


def _dead(pid: int) -> bool:
    """Gone, or a zombie (killed; its parent, the leader, exited, so init reaps it when it will)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}


def test_stop_kills_the_whole_group_when_its_leader_exited_on_sigterm(tmp_path, monkeypatch):
    # The leader (sh) dies of SIGTERM; its child ignores SIGTERM (an ignored signal stays ignored across exec), and
    # holds the output pipe that run() reads to its end. The group must be killed after the grace period anyway.
    monkeypatch.setattr(processes_module, "GRACE_SECONDS", 1.0)
    pid_file = tmp_path / "child.pid"
    script = f"sh -c 'trap \"\" TERM; echo $$ > {pid_file}; exec sleep 120' & wait"
    processes = Processes()
    outcome: list[object] = []

    def step() -> None:
        try:
            outcome.append(processes.run(["sh", "-c", script], tmp_path / "log"))
        except Stopped:
            outcome.append("stopped")

    worker = threading.Thread(target=step, daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    try:
        processes.stop(15)
        worker.join(timeout=1.0 + 10)  # the grace period, and a generous bound for the rest
        assert not worker.is_alive(), "run() still waits for the child that ignored SIGTERM"
        assert outcome == ["stopped"]
        assert _dead(child)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def test_summary_and_check_name_what_failed_and_its_log(family, tmp_path):
    targets = plan.expand(family)
    log = tmp_path / "cpython-3.13.log"
    log.write_text("exit 2")
    results = [
        Result(targets["base"], Status.BUILT, 12.0, "sha256:" + "1" * 64, 80_600_000),
        Result(targets["cpython-3.13"], Status.FAILED, 3.0, detail=f"exit 2; see {log}", log=log),
        Result(targets["3.13"], Status.SKIPPED, detail="needs cpython-3.13, which did not build"),
    ]
    table = produce.summary(results)
    assert "80.6 MB" in table and "111111111111" in table and "needs cpython-3.13" in table
    with pytest.raises(BuildError) as caught:
        produce.check(results)
    assert "2 of 3 targets did not build" in str(caught.value)
    assert f"cpython-3.13: failed (log {log})" in str(caught.value)
    interrupted = [*results, Result(targets["all"], Status.INTERRUPTED)]
    with pytest.raises(Interrupted) as stopped:
        produce.Report(interrupted, signal_number=15).check()
    assert stopped.value.exit_code == 143
    with pytest.raises(Interrupted) as stopped:
        produce.check(interrupted)
    assert stopped.value.exit_code == 130
    produce.check(results[:1])


def test_statuses_are_an_enum():
    assert {s for s in Status if s.good} == {Status.BUILT, Status.UP_TO_DATE, Status.PULLED}
    assert not Status.BUILDING.finished and Status.SKIPPED.finished
    assert Status("up to date") is Status.UP_TO_DATE
