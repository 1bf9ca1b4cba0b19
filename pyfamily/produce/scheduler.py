"""The scheduler: walk the plan's dependency graph, build each target once everything it needs is good, side by
side up to --jobs, skip what is up to date, and stop cleanly on Ctrl-C or SIGTERM.

A failure skips only what depends on it. The first SIGINT/SIGTERM stops starting anything, stops what runs
(docker build, mmdebstrap, downloads), marks every unfinished target `interrupted`; the locks are released only
once every worker has returned."""

from __future__ import annotations

import datetime as dt
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

import docker.errors
import jinja2
from docker.models.images import Image

from pyfamily import engine, oci, platforms
from pyfamily.errors import Interrupted, UserError
from pyfamily.kinds import recipe_of
from pyfamily.kinds.freshness import AptLists
from pyfamily.model import Target
from pyfamily.plan import Plan, dated_tag, image_refs
from pyfamily.produce import inputs, lock
from pyfamily.produce.backend import BACKENDS, Backend, BuildFailed, BuildRequest, attestations
from pyfamily.produce.dated import add_dated_tag
from pyfamily.produce.processes import Processes, Stopped
from pyfamily.produce.sbom import Scanner
from pyfamily.produce.settings import Settings, clock
from pyfamily.produce.signals import stop_on_signals
from pyfamily.produce.status import Result, Status, check, duration, summary
from pyfamily.produce.step import Services, Step
from pyfamily.redaction import redact_text
from pyfamily.render import CA_SECRET_ID, render
from pyfamily.util import Say, git_source


def pin_times(directory: Path, epoch: int) -> None:
    """Every file of a build context gets the time `epoch`: COPY keeps a file's time, and a checkout's or a
    render's is the clock's (a tarball linked in from the cache dir gets it too: its time is not read)."""
    for path in [directory, *directory.rglob("*")]:
        os.utime(path, (epoch, epoch), follow_symlinks=False)


@dataclass
class Report:
    results: list[Result]
    signal_number: int | None = None  # the signal that interrupted the run, if one did

    def summary(self) -> str:
        return summary(self.results)

    def check(self) -> None:
        check(self.results, self.signal_number)


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
    with lock.held(plan.family, settings.work_dir, settings.cache_dir, "build"), stop_on_signals(processes, say):
        results = _Scheduler(plan, settings, backend, processes, say).run()
    return Report(results, processes.signal_number if processes.stopping else None)


class _Scheduler:
    def __init__(self, plan: Plan, settings: Settings, backend: Backend, processes: Processes, say: Say) -> None:
        self.plan, self.family, self.settings = plan, plan.family, settings
        self.backend, self.processes, self.say = backend, processes, say
        apt_lists = AptLists(settings.work_dir / "apt-lists")  # fetched by the first refresh question
        self.services = Services(processes, backend, apt_lists, say)
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
        self, target: Target, existing: Image | None, parts: inputs.Inputs, key: str, step: Step
    ) -> tuple[str | None, tuple[str, ...]]:
        """Why `target` must be built (None: the existing image is up to date), and for which platforms: its inputs
        changed; or it lacks a platform of the run (then every platform it has is built again too: BuildKit's cache
        holds them); or, on a refresh, Debian or PyPI published something newer for it."""
        chosen = self.plan.platforms_of(target.name)
        if self.settings.no_cache:
            return "from scratch (--no-cache)", chosen
        why = inputs.why_rebuild(existing, parts, key)
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
        where = self.settings.handover.layer_cache
        if where is None:
            return None
        tag = platforms.scoped_tag(target.name, self.family.config.platforms, chosen)
        insecure = ",registry.insecure=true" if self.settings.handover.layer_cache_insecure else ""
        return f"type=registry,ref={where}:{tag}{insecure}"

    def _produce(self, result: Result) -> None:
        family, target, settings = self.family, result.target, self.settings
        take_parent = settings.handover.take_parent
        if take_parent is not None and target.name in self.plan.needed_only:
            result.image_id = take_parent(target, self.plan.platforms_of(target.name))
            result.status, result.detail = Status.PULLED, "a parent, pulled (--parents-from)"
            return
        recipe = recipe_of(target)
        context = render(family, target, settings.work_dir / "contexts" / target.name)
        step = Step.of(
            family,
            target,
            context.directory,
            self.plan.platforms_of(target.name),
            settings=settings,
            services=self.services,
        )
        prepared = recipe.prepare(step) if recipe.prepare else {}
        if self.processes.stopping:
            raise Stopped
        epoch = settings.epoch if settings.epoch is not None else inputs.epoch(family, target, prepared)
        created = dt.datetime.fromtimestamp(epoch, dt.UTC)
        pin_times(context.directory, epoch)
        labels = inputs.labels(family, target, created, settings.revision, settings.source or git_source())
        parts = inputs.gather(family, target, context.directory, prepared, labels, settings.cache_dir)
        key = parts.key(recipe.kept_across_refresh)
        existing = inputs.built_image(target)
        why, chosen = self._why_build(target, existing, parts, key, step)
        if why is None and existing is not None:
            for tag in target.tags:  # moving tags follow the image; its dated tag stays the day it was built
                existing.tag(target.repository, tag)
            add_dated_tag(family.config.tags, target, existing, clock().date())  # unless it has one (a run cut short)
            result.status, result.image_id, result.size = Status.UP_TO_DATE, str(existing.id), existing.attrs["Size"]
            result.detail = "no Debian or PyPI updates" if settings.refresh and recipe.freshness else ""
            return
        result.detail = why or ""
        self.say(f"[{target.name}] building {target.ref} ({result.detail})")
        secrets = {CA_SECRET_ID: settings.ca_bundle} if settings.ca_bundle else {}
        assert result.log is not None
        labels.update(inputs.input_labels(parts, key))
        labels[platforms.LABEL] = platforms.label_value(chosen)
        request = BuildRequest(
            target.name,
            context.directory,
            image_refs(target),
            chosen,
            dockerfile=context.dockerfile,
            labels=labels,
            attestations=attestations(self.scanner.ref(self.say)),
            layer_cache=self._layer_cache(target, chosen),
            secrets=secrets,
            no_cache=settings.refresh or settings.no_cache,
            epoch=epoch,
            log=result.log,
        )
        self._build(result, request)

    def _build(self, result: Result, request: BuildRequest) -> None:
        """Build the request, then note what its children will name it by and give it its dated tag."""
        target, tags = result.target, self.family.config.tags
        built = self.backend.build(request, self.processes, self.say)
        image = engine.client().images.get(target.ref)
        if built is not None:  # what a child's inputs name it by, without a `docker save` (oci.content)
            oci.remember_content(self.settings.cache_dir, str(image.id), built)
        today = clock().date()  # the day this digest first appears here, unless it has a dated tag of another day
        dated = add_dated_tag(tags, target, image, today)
        if dated and dated != dated_tag(tags, target, today):
            self.say(f"[{target.name}] an earlier build of today has the first dated tag; this one is {dated}")
        result.status, result.image_id, result.size = Status.BUILT, str(image.id), image.attrs["Size"]
