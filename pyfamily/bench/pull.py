"""Pull, then first output: from `docker pull` of an image out of a registry on 127.0.0.1, into an engine that
lacks it, to the first line `python -c` prints (what a new node or a scaled-out replica waits for).

Each image is pushed once from the family's engine to Debian's `docker-registry` on a free 127.0.0.1 port. Then
each measurement starts a fresh second engine (the subjects share the base's layers, so none may find another's
layers there): a dockerd with its own data root, exec root and socket, in a network namespace of its own
(`unshare --net`): a dockerd changes the host's network devices (with `--bridge none` it deletes docker0, which
the family's engine needs), so it must not see them. A registry serving the same storage runs in that namespace on
its 127.0.0.1; the engine pulls from it and runs. Everything is stopped after, by its process, in bounded waits.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pyfamily.bench.measure import docker, stats
from pyfamily.bench.subjects import Subject
from pyfamily.errors import UserError

START_TIMEOUT = 30.0  # seconds for the registry and the second engine to answer
STOP_TIMEOUT = 20.0
FIRST_LINE = "first output"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if ready():
            return
        time.sleep(0.2)
    tail = "".join(c if c.isprintable() else " " for c in log.read_text(errors="replace")[-800:])
    raise UserError(f"bench: {what} did not answer within {START_TIMEOUT:g} s; its log ends: {tail}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def _started(
    command: Sequence[str], log: Path, what: str, ready: Callable[[], bool]
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        try:
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        except FileNotFoundError:
            raise UserError(f"bench: {command[0]} is not installed (scripts/dev/ensure-tools --test)") from None
    try:
        _wait(ready, process, what, log)
        yield process
    finally:
        _stop(process)


def _in(netns: int | None) -> list[str]:
    """The command prefix that runs a program in the network namespace of process netns (None: this one's)."""
    return [] if netns is None else ["nsenter", f"--net=/proc/{netns}/ns/net", "--"]


def _answers(url: str, netns: int | None) -> bool:
    probe = f"import urllib.request as u; u.urlopen({url!r}, timeout=1)"  # http://127.0.0.1 only
    return subprocess.run([*_in(netns), sys.executable, "-c", probe], capture_output=True, timeout=10).returncode == 0


@contextlib.contextmanager
def registry(root: Path, storage: Path, address: str, netns: int | None = None) -> Iterator[str]:
    """`docker-registry serve` on address (127.0.0.1:PORT) of netns, storage in storage: yields the address."""
    config = Path(tempfile.mkstemp(prefix="registry.", suffix=".yml", dir=root)[1])
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {storage}\nhttp:\n  addr: {address}\n"
    )
    command = [*_in(netns), "docker-registry", "serve", str(config)]
    log = config.with_suffix(".log")
    try:
        with _started(command, log, "docker-registry", lambda: _answers(f"http://{address}/v2/", netns)):
            yield address
    finally:
        config.unlink()
        log.unlink(missing_ok=True)


def _engine_answers(host: str) -> bool:
    done = subprocess.run(["docker", "-H", host, "version"], capture_output=True, timeout=10)
    return done.returncode == 0


@contextlib.contextmanager
def fresh_engine(root: Path) -> Iterator[tuple[str, int]]:
    """A second, empty dockerd in a network namespace of its own: yields its -H address and its process ID (whose
    namespace a registry joins); its data root is removed after."""
    folder = Path(tempfile.mkdtemp(prefix="engine.", dir=root))
    host = f"unix://{folder}/docker.sock"
    command = [
        "unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
        "dockerd", "--data-root", str(folder / "data"), "--exec-root", str(folder / "exec"), "-H", host,
        "--pidfile", str(folder / "docker.pid"), "--bridge", "none", "--iptables=false", "--ip6tables=false",
    ]  # fmt: skip
    try:
        with _started(command, folder / "dockerd.log", "the second dockerd", lambda: _engine_answers(host)) as process:
            yield host, process.pid
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pull_and_run(host: str, remote: str, python: str) -> tuple[float, float]:
    """Seconds to pull, and from the pull's start to the first line the interpreter prints."""
    started = time.monotonic()
    subprocess.run(["docker", "-H", host, "pull", "--quiet", remote], check=True, capture_output=True, timeout=600)
    pulled = time.monotonic() - started
    command = ["docker", "-H", host, "run", "--rm", "--network", "none", "--entrypoint", "", remote]
    with subprocess.Popen([*command, python, "-c", f"print({FIRST_LINE!r})"], stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        line = process.stdout.readline().decode(errors="replace").strip()
        first = time.monotonic() - started
        process.wait(60)
    if line != FIRST_LINE:
        raise UserError(f"bench: {remote} printed {line[:80]!r} instead of {FIRST_LINE!r}")
    return pulled, first


def largest_layer(ref: str) -> dict[str, Any]:
    """The image's biggest layer (uncompressed) and the step that made it: what a pull spends most on."""
    rows = docker("history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", ref)
    layers = [(int(size), step) for size, _, step in (line.partition("\t") for line in rows.splitlines()) if size]
    size, step = max(layers)
    printable = "".join(c if c.isprintable() else " " for c in step)  # a step's text, shown in a terminal
    return {"bytes": size, "share": size / max(1, sum(s for s, _ in layers)), "step": " ".join(printable.split())[:90]}


def first_output(subjects: Sequence[Subject], rounds: int, work: Path) -> None:
    """Pull-to-first-line seconds of each subject (fresh engine each time, subjects in turns, best and median)."""
    work.mkdir(parents=True, exist_ok=True)
    storage = work / "registry"
    try:
        with registry(work, storage, f"127.0.0.1:{_free_port()}") as address:
            names = [f"pyfamily-bench/subject{number}:latest" for number in range(len(subjects))]
            for subject, name in zip(subjects, names, strict=True):
                docker("tag", subject.ref, f"{address}/{name}")
                try:
                    docker("push", "--quiet", f"{address}/{name}", timeout=900)
                finally:
                    docker("rmi", f"{address}/{name}")  # the tag only: the image stays as the engine had it
        times: dict[str, list[tuple[float, float]]] = {s.label: [] for s in subjects}
        for _ in range(rounds):
            for subject, name in zip(subjects, names, strict=True):
                with fresh_engine(work) as (host, pid), registry(work, storage, "127.0.0.1:5000", pid) as inside:
                    times[subject.label].append(_pull_and_run(host, f"{inside}/{name}", subject.python))
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    for subject in subjects:
        pulls, firsts = zip(*times[subject.label], strict=True)
        subject.measures["pull_s"] = stats(list(pulls))
        subject.measures["pull_first_output_s"] = stats(list(firsts))
        subject.measures["largest_layer"] = largest_layer(subject.ref)
