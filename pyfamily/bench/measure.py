"""Measuring images side by side: start-up timings in fresh containers, pyperformance benchmarks, app smokes."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyfamily import engine, plan
from pyfamily.bench import workload
from pyfamily.bench.subjects import Subject
from pyfamily.config import Config
from pyfamily.errors import UserError
from pyfamily.util import WORK_DIR, Say, file_name

OUT = WORK_DIR / "bench"
DEBIAN_REPOSITORY = "pyfamily-bench/debian-python"
IMPORTS = "import json, ssl, sqlite3, asyncio, email.parser, http.client, decimal"
PYPERF_PACKAGES = ("pyperformance==1.14.0", "pyperf==2.10.0")
# name: (pyperformance benchmark folder, extra arguments); the quick set first.
BENCHMARKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "python_startup": ("bm_python_startup", ()),
    "json_loads": ("bm_json_loads", ()),
    "regex_v8": ("bm_regex_v8", ()),
    "float": ("bm_float", ()),
    "pickle": ("bm_pickle", ("pickle",)),
    "json_dumps": ("bm_json_dumps", ()),
    "unpickle": ("bm_pickle", ("unpickle",)),
    "async_tree": ("bm_async_tree", ("none",)),
    "sqlite_synth": ("bm_sqlite_synth", ()),
    "richards": ("bm_richards", ()),
    "nbody": ("bm_nbody", ()),
    "deltablue": ("bm_deltablue", ()),
}
QUICK_BENCHMARKS = 5


@dataclass
class Report:
    cores: int
    subjects: list[Subject]
    builds: dict[str, dict[str, Any]]
    notes: list[str]
    started: str
    options: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "cores": self.cores,
            "options": self.options,
            "builds": self.builds,
            "notes": self.notes,
            "subjects": [
                {"label": s.label, "ref": s.ref, "python": s.python, "env": s.env, "size": s.size, **s.measures}
                for s in self.subjects
            ],
        }


# --- measuring -----------------------------------------------------------------------------------------------


def docker(*args: str, timeout: float = 600) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise UserError(f"bench: docker {' '.join(args[:6])}... failed: {done.stderr.strip()[-500:]}")
    return done.stdout


# Times COMMAND inside the container, in ms, so container start and stop are not counted: a Python program, not a
# shell loop, since the shell-less images have no shell. argv: warm-up runs, the interpreter, the code it runs.
TIMER = """import subprocess, sys, time
warm, python, code = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for _ in range(warm):
    subprocess.run([python, "-c", code], check=True)
started = time.perf_counter_ns()
subprocess.run([python, "-c", code], check=True)
print((time.perf_counter_ns() - started) // 1000)
"""


def run_in(subject: Subject, *command: str, flags: Sequence[str] = (), timeout: float = 600) -> str:
    """COMMAND in a fresh container of the subject's image: no network, its entrypoint bypassed, the subject's
    environment set (PYTHON_JIT=1 is the same image with its JIT on)."""
    return docker(
        "run", "--rm", "--network", "none", *flags, *subject.env_flags(), "--entrypoint", "", subject.ref, *command,
        timeout=timeout,
    )  # fmt: skip


def start_ms(subject: Subject, *, read_only: bool, warm: bool) -> float:
    flags = ["--read-only", "--tmpfs", "/tmp"] if read_only else []
    command = [subject.python, "-c", TIMER, "2" if warm else "0", subject.python, IMPORTS]
    return int(run_in(subject, *command, flags=flags).split()[-1]) / 1000


def footprint(ref: str) -> dict[str, int]:
    """The unpacked size of the image's files and how many Debian packages it records (dpkg's status file, or a
    status.d record each in a shell-less image), read from its flattened filesystem (`docker export`)."""
    container = docker("create", ref, "none").strip()
    try:
        with subprocess.Popen(["docker", "export", container], stdout=subprocess.PIPE) as export:
            assert export.stdout is not None
            found = _tree_footprint(export.stdout)
    finally:
        docker("rm", "-f", container)
    return found


def _tree_footprint(stream: Any) -> dict[str, int]:
    size, packages = 0, 0
    with tarfile.open(fileobj=stream, mode="r|") as tree:
        for member in tree:
            size += member.size if member.isfile() else 0
            name = member.name.removeprefix("./")
            if name == "var/lib/dpkg/status":
                handle = tree.extractfile(member)
                text = handle.read().decode(errors="replace") if handle else ""
                packages += sum(1 for line in text.splitlines() if line.startswith("Package: "))
            elif name.startswith("var/lib/dpkg/status.d/") and member.isfile() and not name.endswith(".md5sums"):
                packages += 1
    return {"unpacked_bytes": size, "debian_packages": packages}


def stats(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


STARTS = (("cold_writable_ms", False, False), ("cold_read_only_ms", True, False), ("warm_ms", False, True))


def startups(subjects: Sequence[Subject], repeats: int) -> None:
    """Every start-up timing of every subject, taken in turns (one container of each, then again), so a machine
    that slows down or speeds up during the run weighs on every subject alike."""
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeats):
        for key, read_only, warm in STARTS:
            for subject in subjects:
                times.setdefault((subject.label, key), []).append(start_ms(subject, read_only=read_only, warm=warm))
    for subject in subjects:
        for key, _, _ in STARTS:
            subject.measures[key] = stats(times[(subject.label, key)])


# build-python.sh and pack-stdlib.py say how long each step took; BuildKit's log prefixes the lines.
PHASE = re.compile(r"(?:build-python|pack-stdlib): phase ([A-Za-z][\w ,-]*?) took (\d+) s")


def compile_phases(log: str) -> dict[str, int]:
    """Seconds per step of a CPython compile (configure, PGO-instrumented build, training, ...), in order."""
    return {m.group(1): int(m.group(2)) for m in PHASE.finditer(log)}


MIXED_ROUNDS = 5  # rounds of the workload in each container; the best is kept (the first warms the caches)


def mixed(subjects: Sequence[Subject], containers: int) -> None:
    """The fixed mixed workload (workload.py) in fresh containers, one of each subject in turn: best of N."""
    found: dict[str, list[tuple[float, str]]] = {s.label: [] for s in subjects}
    for _ in range(containers):
        for subject in subjects:
            output = run_in(subject, subject.python, "-c", workload.SOURCE, str(MIXED_ROUNDS))
            try:
                found[subject.label].append(workload.parse(output))
            except ValueError as exc:
                raise UserError(f"bench: {subject.ref}: {exc}") from None
    for subject in subjects:
        best, checksums = zip(*found[subject.label], strict=True)
        subject.measures["mixed_ms"] = workload.summary(best, checksums)


def pyperf_lib(out: Path, say: Say) -> Path:
    """pyperformance's benchmarks and pyperf, from PyPI, unpacked once on the host; mounted read-only."""
    lib = out / "pyperf-lib"
    marker = lib / ".complete"
    if marker.is_file() and marker.read_text() == " ".join(PYPERF_PACKAGES):
        return lib
    shutil.rmtree(lib, ignore_errors=True)
    wheels = out / "wheels"
    say(f"fetching {', '.join(PYPERF_PACKAGES)} from PyPI")
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:", "-d", str(wheels)]
    subprocess.run([*pip, *PYPERF_PACKAGES], check=True)
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(lib)
    marker.write_text(" ".join(PYPERF_PACKAGES))
    return lib


def pyperf(subjects: Sequence[Subject], lib: Path, names: Sequence[str], out: Path, say: Say) -> None:
    """Each benchmark on every subject in turn (benchmark by benchmark, not subject by subject), so a machine
    whose speed drifts during the run weighs on every subject alike."""
    # A label may hold an image reference: its ':' would split docker's -v SOURCE:TARGET. Numbered, so two labels
    # that differ only there do not share a folder.
    folders = {s.label: out / "pyperf" / f"{n}-{file_name(s.label)}" for n, s in enumerate(subjects, 1)}
    for results in folders.values():
        shutil.rmtree(results, ignore_errors=True)
        results.mkdir(parents=True)
        os.chmod(results, 0o777)
    data = "/bench/lib/pyperformance/data-files/benchmarks"
    for name in names:
        folder, extra = BENCHMARKS[name]
        for subject in (s for s in subjects if s.pyperf):
            results = folders[subject.label]
            say(f"  {name}: {subject.label}")
            inherited = ",".join(["PYTHONPATH", "PYTHONDONTWRITEBYTECODE", *subject.env])  # pyperf's workers too
            run_in(
                subject, subject.python, f"{data}/{folder}/run_benchmark.py",
                "--fast", "--quiet", "--inherit-environ", inherited, "-o", f"/bench/out/{name}.json", *extra,
                flags=["-e", "PYTHONPATH=/bench/lib", "-e", "PYTHONDONTWRITEBYTECODE=1",
                       "-v", f"{lib}:/bench/lib:ro", "-v", f"{results}:/bench/out"],
                timeout=1800,
            )  # fmt: skip
            values = pyperf_values(results / f"{name}.json")
            subject.measures.setdefault("pyperf_ms", {})[name] = stats([v * 1000 for v in values])  # ms per loop


def pyperf_values(path: Path) -> list[float]:
    document = json.loads(path.read_text())
    return [v for run in document["benchmarks"][0]["runs"] for v in run.get("values", [])]


def app_smokes(family_config: Config, runs: int, say: Say) -> dict[str, Any]:
    """Fresh read-only smoke runs of the app images already built (none are built here)."""
    family = plan.expand(family_config, None)
    found: dict[str, Any] = {}
    for name, app in family.config.apps.items():
        target = family.targets.get(name)
        if target is None or not app.smoke or engine.image_or_none(target.ref) is None:
            continue  # not built here: not measured
        ref = target.ref
        say(f"app {name}: smoke, fresh read-only container")
        times = []
        for _ in range(runs):
            started = time.monotonic()
            flags = ["--network", "none", "--read-only", "--tmpfs", "/tmp", "--entrypoint", ""]
            docker("run", "--rm", *flags, ref, *app.smoke)
            times.append((time.monotonic() - started) * 1000)
        found[name] = stats(times)
    return found
