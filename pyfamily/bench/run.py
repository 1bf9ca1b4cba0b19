"""The bench run: this family's X.Y (release and fast profiles) side by side with Debian's own pythonX.Y on one base.

`invoke bench` (`make bench`) builds what it needs, then measures in one run: image size, cold start (fresh
writable and fresh read-only container), warm start, a fixed mixed workload (workload.py), a pyperformance
subset, the CPython compile time per profile (and per step), a no-op rebuild and a refresh (`build --refresh`)
against a cold build. It prints one table and writes build/bench/bench.json and build/bench/bench.png. Never
part of `make test`: nothing here is an assertion.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyfamily import config, engine, plan, platforms, produce
from pyfamily.bench import measure, pull
from pyfamily.bench.measure import BENCHMARKS, DEBIAN_REPOSITORY, OUT, QUICK_BENCHMARKS, Report
from pyfamily.bench.output import chart
from pyfamily.bench.subjects import Subject, also_subject, jit_switch
from pyfamily.config import Config
from pyfamily.errors import UserError
from pyfamily.plan import Selection
from pyfamily.produce.backend import DockerCli
from pyfamily.produce.processes import Processes
from pyfamily.util import RECIPES, Say


@dataclass
class Options:
    config: str | None = None
    version: str = "3.13"
    quick: bool = False
    also: Sequence[str] = ()  # IMAGE or IMAGE=COMMAND (default command: python3)
    repeats: int = 0  # 0: 7, or 3 with --quick
    benchmarks: Sequence[str] = ()  # default: all of BENCHMARKS, or the first QUICK_BENCHMARKS with --quick
    no_cache: bool = False  # both profiles built from scratch (as `build --no-cache`), so both compiles are timed
    out: Path = OUT


# --- building ------------------------------------------------------------------------------------------------


def _build(
    family_config: Config, options: Options, profile: str, say: Say, *, refresh: bool = False, no_cache: bool = False
) -> dict[str, Any]:
    family = plan.expand(family_config, profile)
    selected = plan.select(family, Selection(versions=(options.version,), variants=("plain",), apps=False))
    ca_bundle = produce.resolve_ca_bundle(family.config)
    settings = produce.Settings(refresh=refresh, no_cache=no_cache, ca_bundle=ca_bundle)
    started = time.monotonic()
    report = produce.run(selected, settings, say=lambda line: say(f"  {line}"))
    report.check()
    seconds = time.monotonic() - started
    results = {r.target.name: r for r in report.results}
    runtime, cpython = results[options.version], results[f"cpython-{options.version}"]
    root = family.root()
    assert root is not None  # every family has a base
    shellless = results.get(f"{options.version}-distroless")
    return {
        "profile": profile,
        "image": runtime.image_id,
        "distroless": shellless.image_id if shellless else None,
        "base": results[root.name].image_id,
        "size": runtime.size,
        "wall_seconds": seconds,
        "statuses": {name: r.status.value for name, r in results.items()},
        "cpython_status": cpython.status.value,
        "cpython_seconds": cpython.seconds if cpython.status == produce.Status.BUILT else None,
        "cpython_phases": _phases(cpython.log) if cpython.status == produce.Status.BUILT else {},
    }


def _phases(log: Path | None) -> dict[str, int]:
    """Where the compile's minutes went, from its build log (the steps say how long they took)."""
    return measure.compile_phases(log.read_text(errors="replace")) if log is not None and log.is_file() else {}


def _release_present(family_config: Config, options: Options) -> bool:
    """Whether the release runtime is built and up to date, without building anything (for --quick)."""
    family = plan.expand(family_config, "release")
    target = family.targets.get(f"cpython-{options.version}")
    return target is not None and engine.image_or_none(target.ref) is not None


def _compile_times(out: Path, builds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """CPython compile seconds per profile: measured now when compiled now, else the last measurement kept."""
    path = out / "compile-times.json"
    known: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    for profile, info in builds.items():
        # Compiled now: its build log has the compile's phase lines. A stage BuildKit still held is "built" in
        # seconds with none of them, which is no compile time.
        if info.get("cpython_seconds") and info.get("cpython_phases"):
            known[profile] = {
                "seconds": info["cpython_seconds"],
                "selection_seconds": info["wall_seconds"],  # the whole selection, cold
                "phases": info.get("cpython_phases", {}),
                "measured": dt.date.today().isoformat(),
            }
    path.write_text(json.dumps(known, indent=2))
    return known


def _reference(family_config: Config, options: Options, say: Say) -> str:
    """Debian's own pythonX.Y on this family's base, built before anything else: a minor the base's Debian suite
    does not package is refused in seconds, not after a release compile. (With --no-cache the profile builds make
    base again from the same recipe; the reference keeps the base it was built on.)"""
    family = plan.expand(family_config, "fast")
    plan.select(family, Selection(versions=(options.version,), variants=("plain",), apps=False))  # one of ours?
    root = family.root()
    assert root is not None  # every family has a base
    say("building base")
    settings = produce.Settings(ca_bundle=produce.resolve_ca_bundle(family.config))
    selected = plan.select(family, Selection(names=(root.name,), apps=False))
    produce.run(selected, settings, say=lambda line: say(f"  {line}")).check()
    return _debian_image(root.ref, options.version, options.out, say)


def _debian_image(base_image: str, minor: str, out: Path, say: Say) -> str:
    """Debian's own pythonX.Y, apt-installed on this family's base (built here, cached by the engine)."""
    ref = f"{DEBIAN_REPOSITORY}:{minor}"
    say(f"building {ref}: apt-install python{minor} on this family's base")
    request = engine.BuildRequest(
        "debian-python",
        RECIPES / "debian-python",
        (ref,),
        (platforms.host(),),
        build_args={"BASE": base_image, "MINOR": minor},
        log=out / "debian-python.log",
    )
    try:
        DockerCli().build(request, Processes(), lambda line: None)
    except engine.BuildFailed as exc:
        raise UserError(
            f"bench: building {ref} (apt-install python{minor} on {base_image}): {exc}. The bench compares --version"
            f" {minor} with Debian's own python{minor} from the Debian suite of this family's base, so that suite"
            " must package it; nothing was compiled"
        ) from None
    return ref


def _subjects(
    minor: str, profiles: list[str], builds: dict[str, dict[str, Any]], debian: str
) -> tuple[list[Subject], Subject]:
    """The built images under test in the table's order, and Debian's (the reference): the first profile's with its
    JIT both ways when it has one built in, and the shell-less one (its CPython is the thin image's, byte for byte:
    pyperformance runs once)."""
    python, first = f"python{minor}", profiles[0]
    subjects = [Subject(f"{minor} {p}", builds[p]["image"], python) for p in profiles]
    jit = _jit_switch(subjects[0])
    if jit:
        switch = " ".join(f"{name}={value}" for name, value in jit.items())
        subjects.insert(1, Subject(f"{minor} {first} {switch}", builds[first]["image"], python, env=jit))
    reference = Subject(f"debian {python}", debian, python)
    subjects.append(reference)
    if builds[first]["distroless"]:
        subjects.append(Subject(f"{minor}-distroless {first}", builds[first]["distroless"], python, pyperf=False))
    return subjects, reference


def _jit_switch(subject: Subject) -> dict[str, str]:
    """The environment that turns the image's JIT the other way round from its default, if it has one built in."""
    code = "import sysconfig; print(sysconfig.get_config_var('CONFIG_ARGS') or '')"
    return jit_switch(measure.run_in(subject, subject.python, "-c", code))


# --- the run -------------------------------------------------------------------------------------------------


def _measure(
    family_config: Config,
    subjects: list[Subject],
    pulled: list[Subject],
    names: list[str],
    repeats: int,
    options: Options,
    notes: list[str],
    say: Say,
) -> dict[str, Any]:
    """Every measurement of the subjects, each taken in turns; returns the app smokes."""
    out = options.out
    say(f"start-up times, {repeats} fresh containers each")
    measure.startups(subjects, repeats)
    say(f"fixed mixed workload, {repeats} fresh containers each, {measure.MIXED_ROUNDS} rounds in each")
    measure.mixed(subjects, repeats)
    lib = measure.pyperf_lib(out, say)
    say(f"pyperformance subset ({len(names)} benchmarks, pyperf --fast)")
    measure.pyperf(subjects, lib, names, out, say)
    apps = measure.app_smokes(family_config, 3 if options.quick else 5, say)
    say("pull, then first output: each image from a registry on 127.0.0.1 into a fresh second engine")
    try:
        pull.first_output(pulled, 3, out / "pull")
    except (UserError, OSError, subprocess.SubprocessError) as exc:
        notes.append(f"pull, then first output: not measured ({exc})")
    return apps


def run(options: Options, say: Say = print) -> Report:
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    repeats = options.repeats or (3 if options.quick else 7)
    names = list(options.benchmarks) or list(BENCHMARKS)[: QUICK_BENCHMARKS if options.quick else None]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise UserError(f"--benchmark: unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    extras = [also_subject(extra) for extra in options.also]  # refused before anything is built
    # One subject is one image, interpreter and environment, however it was spelled (`IMAGE` is `IMAGE=python3`).
    kinds = [(s.ref, s.python, sorted(s.env.items())) for s in extras]
    if any(kinds.count(kind) > 1 for kind in kinds):
        labels = ", ".join(s.label for s in extras)
        raise UserError(f"bench: --also names the same subject twice ({labels}): give each once")
    # The family file is read once: every build of the run (each profile, the no-op and the refresh) and the app
    # smokes measure the family as it was when the run started, even if the file is edited meanwhile.
    family_config = config.load(options.config)
    debian = _reference(family_config, options, say)
    notes: list[str] = []
    builds: dict[str, dict[str, Any]] = {}
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    profiles = ["release", "fast"]
    if options.quick and not _release_present(family_config, options):
        profiles = ["fast"]
        notes.append("--quick: release not built, so not measured (run `invoke bench` once without --quick)")
    for profile in profiles:
        say(f"building {options.version} ({profile})")
        builds[profile] = _build(family_config, options, profile, say, no_cache=options.no_cache)
    # A second build of the same selection: everything is up to date, so this is the no-op cost.
    say("no-op rebuild (fast)")
    builds["fast-noop"] = _build(family_config, options, "fast", say)
    # What the scheduled job does: ask Debian and PyPI, rebuild only what has updates, never recompile CPython.
    say("refresh (fast)")
    builds["fast-refresh"] = _build(family_config, options, "fast", say, refresh=True)
    compile_times = _compile_times(out, builds)

    subjects, reference = _subjects(options.version, profiles, builds, debian)
    subjects.extend(extras)
    for subject in subjects:
        subject.size = int(json.loads(measure.docker("image", "inspect", subject.ref))[0]["Size"])
        subject.measures.update(measure.footprint(subject.ref))

    # pulled: the first profile's thin image, Debian's, and the shell-less one when it was built
    pulled = [subjects[0], reference, *(s for s in subjects if not s.pyperf)]
    apps = _measure(family_config, subjects, pulled, names, repeats, options, notes, say)

    report = Report(
        cores=os.cpu_count() or 0,
        subjects=subjects,
        builds={**builds, "compile_times": compile_times, "app_smokes": apps},
        notes=notes,
        started=started,
        options={"version": options.version, "quick": options.quick, "repeats": repeats, "benchmarks": names},
    )
    (out / "bench.json").write_text(json.dumps(report.as_json(), indent=2))
    try:
        chart(report, out / "bench.png")
    except ImportError:
        report.notes.append("no chart: matplotlib is not installed (pip install matplotlib)")
    return report
