"""The scheduler: walk the plan's dependency graph, build each target once everything it needs is good, side by
side up to --jobs, skip what is up to date, and stop cleanly on Ctrl-C or SIGTERM.

A failure skips only what depends on it. The first SIGINT/SIGTERM stops starting anything, stops what runs
(docker build, mmdebstrap, downloads), marks every unfinished target `interrupted`; the locks are released only
once every worker has returned."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from types import FrameType

import docker.errors
import jinja2
from docker.models.images import Image

from pyfamily import engine, platforms
from pyfamily.build import cache, lock
from pyfamily.build.backend import BACKENDS, Backend, BuildFailed, BuildRequest, attestations
from pyfamily.build.dated import add_dated_tag
from pyfamily.build.processes import Processes, Stopped
from pyfamily.build.sbom import Scanner
from pyfamily.build.status import Result, Status, check, duration, summary
from pyfamily.errors import Interrupted, UserError
from pyfamily.kinds import recipe_of
from pyfamily.kinds.freshness import AptLists, Probe
from pyfamily.kinds.recipe import ROOT
from pyfamily.model import Family, Target
from pyfamily.plan import Plan, dated_tag, image_refs
from pyfamily.redaction import redact_text
from pyfamily.render import CA_SECRET_ID, render

CACHE_ENV = "PYFAMILY_CACHE"
Say = Callable[[str], None]


def default_cache_dir() -> Path:
    """Where source tarballs and locks are kept: $PYFAMILY_CACHE, else ~/.cache/pyfamily."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "pyfamily")


def clock() -> dt.datetime:
    """The build time (UTC): the created label, and the day of a fresh image's dated tag."""
    return dt.datetime.now(dt.UTC)


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def git_revision() -> str:
    return _git("rev-parse", "HEAD") or "unknown"


def git_source() -> str:
    """Where the recipes live: the checkout's origin remote (without credentials), else the local path."""
    return redact_text(_git("remote", "get-url", "origin")) or f"file://{ROOT}"


@dataclass(frozen=True)
class Settings:
    jobs: int = 2
    offline: bool = False
    ca_bundle: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    work_dir: Path = ROOT / "build"
    docker_cli: str | None = None
    revision: str = "unknown"
    source: str = ""  # the org.opencontainers.image.source label; default: git_source()
    refresh: bool = False  # ask Debian and PyPI for updates; rebuild (without cache) what has some
    backend: str = "docker"
    # --parents-from: takes a target the plan needs but was not asked for into the local engine, for these platforms,
    # instead of building it (pyfamily.publish.stage.pull); returns its image ID. None: such targets are built.
    take_parent: Callable[[Target, tuple[str, ...]], str] | None = field(default=None, compare=False)
    # --layer-cache: BuildKit's layer cache of each target in a registry (HOST[:PORT]/<repository>-cache), so a
    # fresh machine (a CI job) reuses what an earlier run compiled; None: the engine's own cache only.
    layer_cache: str | None = None
    layer_cache_insecure: bool = False  # a plain-HTTP registry

    @property
    def logs(self) -> Path:
        return self.work_dir / "logs"


@dataclass
class Report:
    results: list[Result]
    signal_number: int | None = None  # the signal that interrupted the run, if one did

    def summary(self) -> str:
        return summary(self.results)

    def check(self) -> None:
        check(self.results, self.signal_number)


def held_locks(family: Family, settings: Settings, purpose: str) -> contextlib.AbstractContextManager[None]:
    """The locks a run over this family's images holds: see pyfamily.build.lock."""
    files = lock.lock_files(settings.work_dir, settings.cache_dir, engine.identity(), family.config.repository)
    return lock.hold(files, purpose)


def run(plan: Plan, settings: Settings, say: Say = print) -> Report:
    """Build every target of the plan in dependency order; failures stop only their dependents."""
    refusals = [why for target in plan.targets if (why := recipe_of(target).refuses(plan.family, target))]
    if refusals:
        raise UserError("Nothing was built: " + " ".join(refusals))
    engine.client()
    engine.require_image_store()
    backend = BACKENDS[settings.backend](settings.docker_cli)
    settings.logs.mkdir(parents=True, exist_ok=True)
    processes = Processes()
    with held_locks(plan.family, settings, "build"), _stop_on_signals(processes, say):
        results = _Scheduler(plan, settings, backend, processes, say).run()
    return Report(results, processes.signal_number if processes.stopping else None)


@contextlib.contextmanager
def _stop_on_signals(processes: Processes, say: Say) -> Iterator[None]:
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


@dataclass
class _Step:
    """What a recipe's prepare step gets (pyfamily.kinds.recipe.Preparation)."""

    family: Family
    target: Target
    context: Path
    cache_dir: Path
    log_dir: Path
    offline: bool
    refresh: bool
    platforms: tuple[str, ...]
    ca_bundle: Path | None
    apt_lists: AptLists
    processes: Processes
    backend: Backend
    report: Say

    def say(self, line: str) -> None:
        self.report(line)

    def should_stop(self) -> bool:
        return self.processes.stopping

    def probe(self) -> Probe:
        return Probe(self.family, self.target, self.context, self.ca_bundle, self.apt_lists)

    def run(self, command: Sequence[str], log: Path) -> int:
        return self.processes.run(command, log)

    def build(self, request: BuildRequest) -> None:
        self.backend.build(request, self.processes, self.report)


class _Scheduler:
    def __init__(self, plan: Plan, settings: Settings, backend: Backend, processes: Processes, say: Say) -> None:
        self.plan, self.family, self.settings = plan, plan.family, settings
        self.backend, self.processes, self.say = backend, processes, say
        self.apt_lists = AptLists(settings.work_dir / "apt-lists")  # fetched by the first refresh question
        self.scanner = Scanner(plan.family, backend, processes, settings.logs)  # made when the first build needs it

    def run(self) -> list[Result]:
        graph = self.plan.graph()
        sorter = TopologicalSorter(graph)
        sorter.prepare()
        results = {t.name: Result(t) for t in self.plan.targets}
        running: dict[Future[None], str] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.settings.jobs)) as pool:
            while sorter.is_active() and not self.processes.stopping:
                for name in sorter.get_ready():
                    blocked = [need for need in graph[name] if not results[need].status.good]
                    if blocked:
                        results[name].status = Status.SKIPPED
                        results[name].detail = f"needs {blocked[0]}, which did not build"
                        sorter.done(name)
                    else:
                        running[pool.submit(self._build_one, results[name])] = name
                if running:
                    done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        sorter.done(running.pop(future))
                        future.result()
        for result in results.values():  # the pool has joined every worker: nothing of this run still runs
            if not result.status.finished:
                result.status, result.detail = Status.INTERRUPTED, "not started: the run was interrupted"
        return list(results.values())

    def _build_one(self, result: Result) -> None:
        started = time.monotonic()
        result.status = Status.BUILDING
        result.log = self.settings.logs / f"{result.target.name}.log"
        result.log.write_text("")
        try:
            self._produce(result)
        except (Stopped, Interrupted):
            result.status, result.detail = Status.INTERRUPTED, "stopped by the interrupt"
        except BuildFailed as exc:
            result.status = Status.INTERRUPTED if self.processes.stopping else Status.FAILED
            result.detail = str(exc)
        except UserError as exc:
            result.status, result.detail = Status.FAILED, redact_text(str(exc))
        except (LookupError, OSError, docker.errors.DockerException, jinja2.TemplateError) as exc:  # this target only
            result.status, result.detail = Status.FAILED, redact_text(f"{type(exc).__name__}: {exc}")
        result.seconds = time.monotonic() - started
        verb = result.status.value if result.status.good else result.status.value.upper()
        detail = (f": {result.detail}" if not result.status.good else f" ({result.detail})") if result.detail else ""
        self.say(f"[{result.target.name}] {verb} in {duration(result.seconds)}{detail}")

    def _why_build(
        self, target: Target, existing: Image | None, inputs: cache.Inputs, key: str, step: _Step
    ) -> tuple[str | None, tuple[str, ...]]:
        """Why `target` must be built (None: the existing image is up to date), and for which platforms: its inputs
        changed; or it lacks a platform of the run (then every platform it has is built again too: BuildKit's cache
        holds them); or, on a refresh, Debian or PyPI published something newer for it."""
        chosen = self.plan.platforms_of(target.name)
        why = cache.why_rebuild(existing, inputs, key)
        if existing is None or why is not None:
            return why, chosen
        lacking = platforms.missing(chosen, existing.labels)
        if lacking:
            return f"not built for {', '.join(lacking)}", platforms.union(
                self.family.config.platforms, chosen, platforms.built_for(existing.labels)
            )
        freshness = recipe_of(target).freshness
        if self.settings.refresh and freshness:
            self.say(f"[{target.name}] up to date with its recipe; asking Debian and PyPI for updates")
            probe = step.probe()
            return ", ".join(reason for check in freshness for reason in check(probe)) or None, chosen
        return None, chosen

    def _layer_cache(self, target: Target, chosen: tuple[str, ...]) -> str | None:
        """The type=registry cache of `target` for these platforms (one tag per platform set), if one is used."""
        where = self.settings.layer_cache
        if where is None:
            return None
        tag = platforms.scoped_tag(target.name, self.family.config.platforms, chosen)
        insecure = ",registry.insecure=true" if self.settings.layer_cache_insecure else ""
        return f"type=registry,ref={where}:{tag}{insecure}"

    def _produce(self, result: Result) -> None:
        family, target, settings = self.family, result.target, self.settings
        if settings.take_parent is not None and target.name in self.plan.needed_only:
            result.image_id = settings.take_parent(target, self.plan.platforms_of(target.name))
            result.status, result.detail = Status.PULLED, "a parent, pulled (--parents-from)"
            return
        recipe = recipe_of(target)
        context = render(family, target, settings.work_dir / "contexts" / target.name)
        step = _Step(
            family,
            target,
            context.directory,
            settings.cache_dir,
            settings.logs,
            settings.offline,
            settings.refresh,
            self.plan.platforms_of(target.name),
            settings.ca_bundle,
            self.apt_lists,
            self.processes,
            self.backend,
            self.say,
        )
        prepared = recipe.prepare(step) if recipe.prepare else {}
        if self.processes.stopping:
            raise Stopped
        built = clock()
        labels = cache.labels(family, target, built, settings.revision, settings.source or git_source())
        inputs = cache.inputs(family, target, context.directory, prepared, labels)
        key = inputs.key(recipe.kept_across_refresh)
        existing = cache.built_image(target)
        why, chosen = self._why_build(target, existing, inputs, key, step)
        if why is None and existing is not None:
            for tag in target.tags:  # moving tags follow the image; its dated tag stays the day it was built
                existing.tag(target.repository, tag)
            add_dated_tag(family.config.tags, target, existing, built.date())  # unless it has one (a run cut short)
            result.status, result.image_id, result.size = Status.UP_TO_DATE, str(existing.id), existing.attrs["Size"]
            result.detail = "no Debian or PyPI updates" if settings.refresh and recipe.freshness else ""
            return
        result.detail = why or ""
        self.say(f"[{target.name}] building {target.ref} ({result.detail})")
        tags = image_refs(target)
        secrets = {CA_SECRET_ID: settings.ca_bundle} if settings.ca_bundle else {}
        assert result.log is not None
        labels.update(cache.input_labels(inputs, key))
        labels[platforms.LABEL] = platforms.label_value(chosen)
        request = BuildRequest(
            target.name,
            context.directory,
            tags,
            chosen,
            dockerfile=context.dockerfile,
            labels=labels,
            attestations=attestations(self.scanner.ref(self.say)),
            layer_cache=self._layer_cache(target, chosen),
            secrets=secrets,
            no_cache=settings.refresh,
            log=result.log,
        )
        self.backend.build(request, self.processes, self.say)
        image = engine.client().images.get(target.ref)
        dated = add_dated_tag(family.config.tags, target, image, built.date())
        if dated and dated != dated_tag(family.config.tags, target, built.date()):
            self.say(f"[{target.name}] an earlier build of today has the first dated tag; this one is {dated}")
        result.status, result.image_id, result.size = Status.BUILT, str(image.id), image.attrs["Size"]
