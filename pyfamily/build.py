"""Build: run a plan on the engine, independent targets side by side, skipping what is already up to date."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from pyfamily import engine, render, sources
from pyfamily.config import Config
from pyfamily.errors import BuildError, Interrupted, UserError
from pyfamily.plan import Kind, Plan, Target

INPUTS_LABEL = "org.pyfamily.inputs"  # digest of everything that went into an image; equal means up to date
CA_BUNDLE_ENV = "PYFAMILY_CA_BUNDLE"
CACHE_ENV = "PYFAMILY_CACHE"
MIRRORS_ENV = "PYFAMILY_SOURCE_MIRRORS"
SOURCE_URL = "https://github.com/snakepacker/python"

Say = Callable[[str], None]


def default_cache_dir() -> Path:
    """Where source tarballs and locks are kept: $PYFAMILY_CACHE, else ~/.cache/pyfamily."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "pyfamily")


@dataclass(frozen=True)
class Settings:
    profile: str
    jobs: int = 2
    offline: bool = False
    ca_bundle: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    work_dir: Path = render.ROOT / "build"
    docker_cli: str | None = None
    revision: str = "unknown"
    refresh: bool = False  # rebuild without any cache, so Debian and PyPI updates are picked up

    @property
    def logs(self) -> Path:
        return self.work_dir / "logs"


@dataclass
class Result:
    target: Target
    status: str = "pending"  # built, up to date, failed, skipped, interrupted
    seconds: float = 0.0
    image_id: str = ""
    size: int = 0
    detail: str = ""
    log: Path | None = None


@dataclass
class _Run:
    config: Config
    targets: dict[str, Target]
    settings: Settings
    say: Say
    stopping: threading.Event = field(default_factory=threading.Event)
    processes: set[subprocess.Popen[str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def resolve_ca_bundle(config: Config, explicit: str | None = None) -> Path | None:
    """--ca-bundle, else $PYFAMILY_CA_BUNDLE, else build.ca_bundle, else the host's bundle if it has one.

    The host's bundle is what lets downloads through a TLS-inspecting proxy; it is mounted into download steps
    only, never copied into an image. "none" mounts nothing."""
    chosen = explicit or os.environ.get(CA_BUNDLE_ENV) or config.build.ca_bundle
    if chosen == "none":
        return None
    if not chosen:
        return HOST_CA_BUNDLE if HOST_CA_BUNDLE.is_file() else None
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise UserError(f"The CA bundle {path} (from --ca-bundle, ${CA_BUNDLE_ENV} or build.ca_bundle) "
                        "does not exist; give the path of a PEM bundle, such as /etc/ssl/certs/ca-certificates.crt, "
                        "or none.")
    return path


def git_revision() -> str:
    done = subprocess.run(["git", "-C", str(render.ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=False)
    return done.stdout.strip() or "unknown"


@contextlib.contextmanager
def _exclusive(settings: Settings, repository: str) -> Iterator[None]:
    """One build per repository at a time: two would race each other's tags and up-to-date checks."""
    locks = settings.cache_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with (locks / f"{repository.replace('/', '_')}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"Another build of {repository} is running on this machine; wait for it to end.") from None
        yield


def run(config: Config, targets: dict[str, Target], plan: Plan, settings: Settings,
        say: Say = print) -> list[Result]:
    """Build every target of the plan in dependency order; failures stop only their dependents."""
    engine.client()
    engine.build_cli(settings.docker_cli)
    settings.logs.mkdir(parents=True, exist_ok=True)
    with _exclusive(settings, config.repository):
        return _schedule(config, targets, plan, settings, say)


def _schedule(config: Config, targets: dict[str, Target], plan: Plan, settings: Settings,
              say: Say) -> list[Result]:
    state = _Run(config, targets, settings, say)
    results = {t.name: Result(t) for t in plan.targets}
    waiting = list(plan.targets)
    running: dict[Future[Result], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        try:
            while waiting or running:
                for target in list(waiting):
                    blocked = [n for n in target.needs if n in results and results[n].status in _BAD]
                    if blocked:
                        results[target.name].status = "skipped"
                        results[target.name].detail = f"needs {blocked[0]}, which did not build"
                        waiting.remove(target)
                    elif all(results[n].status in _GOOD for n in target.needs if n in results):
                        waiting.remove(target)
                        running[pool.submit(_build_one, state, target, results[target.name])] = target.name
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    future.result()
        except KeyboardInterrupt:  # stop the running builds; the pool then waits for their threads to return
            _interrupt(state, results)
    return list(results.values())


_GOOD = {"built", "up to date"}
_BAD = {"failed", "skipped", "interrupted"}


def _interrupt(state: _Run, results: dict[str, Result]) -> None:
    state.stopping.set()
    with state.lock:
        for process in state.processes:
            os.killpg(process.pid, signal.SIGTERM)
    for result in results.values():
        if result.status in {"pending", "building"}:
            result.status = "interrupted"


def _build_one(state: _Run, target: Target, result: Result) -> Result:
    started = time.monotonic()
    result.status = "building"
    result.log = state.settings.logs / f"{target.name}.log"
    try:
        _produce(state, target, result)
    except UserError as exc:
        result.status, result.detail = "failed", str(exc)
    except subprocess.CalledProcessError as exc:
        result.status = "interrupted" if state.stopping.is_set() else "failed"
        result.detail = f"exit {exc.returncode}; see {result.log}"
    except Exception as exc:  # an engine or I/O error fails this target only, like a failed build step
        result.status, result.detail = "failed", f"{type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started
    verb = {"built": "built", "up to date": "up to date"}.get(result.status, result.status.upper())
    state.say(f"[{target.name}] {verb} in {_duration(result.seconds)}" + (f": {result.detail}" if result.detail
                                                                           and result.status in _BAD else ""))
    return result


def _produce(state: _Run, target: Target, result: Result) -> None:
    config, settings = state.config, state.settings
    context = render.render(config, state.targets, target, settings.work_dir / "contexts" / target.name)
    inputs = [target.ref, *sorted(f"{need}={_image_id(state.targets[need].ref)}" for need in target.needs)]
    if target.kind is Kind.BASE and config.base.bootstrap is not None:
        inputs.append(_ensure_rootfs(state))
    if target.kind is Kind.CPYTHON:
        render.add_source(context, _fetch_source(state, target))
    digest = render.digest_of(context.directory, *inputs)
    existing = engine.image_or_none(target.ref)
    if not settings.refresh and existing is not None and existing.labels.get(INPUTS_LABEL) == digest:
        for tag in target.tags:
            existing.tag(target.ref.rsplit(":", 1)[0], tag)
        result.status, result.image_id, result.size = "up to date", existing.id, existing.attrs["Size"]
        return
    state.say(f"[{target.name}] building {target.ref}")
    _docker_build(state, target, context, digest, result)
    image = engine.client().images.get(target.ref)
    result.status, result.image_id, result.size = "built", image.id, image.attrs["Size"]


def _image_id(ref: str) -> str:
    image = engine.image_or_none(ref)
    if image is None:
        raise UserError(f"{ref} is not in the local engine although the plan built it; rebuild it.")
    return image.id


def _labels(state: _Run, target: Target, digest: str) -> dict[str, str]:
    config = state.config
    parent_ref = (state.targets[target.parent].ref if target.parent
                  else config.base.from_image or render.rootfs_ref(config))
    version = config.python.versions[target.python].version if target.python else ""
    return {
        "org.opencontainers.image.title": f"{config.repository}:{target.tags[0] if target.tags else target.name}",
        "org.opencontainers.image.version": version or (target.dated_tag or target.name),
        "org.opencontainers.image.created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "org.opencontainers.image.source": SOURCE_URL,
        "org.opencontainers.image.revision": state.settings.revision,
        "org.opencontainers.image.base.name": parent_ref,
        "org.opencontainers.image.base.digest": parent.id if (parent := engine.image_or_none(parent_ref)) else "",
        INPUTS_LABEL: digest,
    }


_STEP = re.compile(r"^#\d+ \[(?:(?P<stage>[\w-]+) )?(?P<step>\d+/\d+)\] (?P<what>.+)$")


def _docker_build(state: _Run, target: Target, context: render.Context, digest: str, result: Result) -> None:
    cli = engine.build_cli(state.settings.docker_cli)
    repository = target.ref.rsplit(":", 1)[0]
    command = [*cli.build_command(), "--progress=plain", "--file", str(context.dockerfile)]
    for tag in {target.ref.rsplit(":", 1)[1], *target.local_tags}:
        command += ["--tag", f"{repository}:{tag}"]
    for key, value in _labels(state, target, digest).items():
        command += ["--label", f"{key}={value}"]
    if state.settings.ca_bundle:
        command += ["--secret", f"id={render.CA_SECRET_ID},src={state.settings.ca_bundle}"]
    if state.settings.refresh:
        command.append("--no-cache")
    command.append(str(context.directory))
    assert result.log is not None
    with result.log.open("w") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env=cli.environment(), start_new_session=True)
        with state.lock:
            state.processes.add(process)
        try:
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                step = _STEP.match(line.strip())
                if step and "CACHED" not in line:
                    state.say(f"[{target.name}] {step['step']} {step['what'][:100]}")
        finally:
            code = process.wait()
            with state.lock:
                state.processes.discard(process)
    if code != 0:
        raise subprocess.CalledProcessError(code, command)


def _fetch_source(state: _Run, target: Target) -> Path:
    config = state.config
    python = config.python.versions[target.python or ""]
    spec = sources.SourceSpec(python.version, python.filename, python.sha256)
    roots = [config.sources.debian_archive] if config.sources.debian_archive else sources.debian_archive_roots()
    mirrors = [*config.sources.mirrors, *os.environ.get(MIRRORS_ENV, "").split()]
    urls = sources.candidate_urls(spec, roots, mirrors)
    return sources.fetch(spec, state.settings.cache_dir / "sources", urls, offline=state.settings.offline,
                         progress=sources.console_progress())


def _ensure_rootfs(state: _Run) -> str:
    """Bootstrap the Debian tree with mmdebstrap unless an image made from the same inputs exists."""
    config = state.config
    bootstrap = config.base.bootstrap
    assert bootstrap is not None
    script = render.RECIPES / "base" / "bootstrap.sh"
    ref = render.rootfs_ref(config)
    digest = render.digest_of(script.parent, bootstrap.model_dump_json())
    existing = engine.image_or_none(ref)
    if not state.settings.refresh and existing is not None and existing.labels.get(INPUTS_LABEL) == digest:
        return digest
    if state.settings.offline:
        raise UserError(f"--offline: {ref} must be bootstrapped from the Debian archive first; run once online.")
    state.say(f"[base] bootstrapping Debian {bootstrap.suite} with mmdebstrap")
    log = state.settings.logs / "rootfs.log"
    with tempfile.TemporaryDirectory(prefix="pyfamily-rootfs-") as scratch, log.open("w") as log_file:
        tarball = Path(scratch) / "rootfs.tar"
        command = [str(script), bootstrap.suite, str(tarball), bootstrap.mirror or "", *bootstrap.packages]
        done = subprocess.run(command, stdout=log_file, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise UserError(f"mmdebstrap could not bootstrap Debian {bootstrap.suite} (exit {done.returncode}); "
                            f"see {log}. Is mmdebstrap installed (scripts/dev/ensure-tools) and the archive reachable?")
        repository, tag = ref.rsplit(":", 1)
        engine.client().api.import_image(src=str(tarball), repository=repository, tag=tag,
                                         changes=[f"LABEL {INPUTS_LABEL}={digest}", 'CMD ["bash"]'])
    return digest


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{seconds:.1f}s"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size else ""


def summary(results: list[Result]) -> str:
    rows = [(r.target.name, r.status, _duration(r.seconds) if r.seconds else "", _megabytes(r.size),
             r.image_id.removeprefix("sha256:")[:12], r.detail if r.status in _BAD else "")
            for r in results]
    return tabulate(rows, headers=["target", "status", "duration", "size", "image id", "detail"])


def check(results: list[Result]) -> None:
    """Raise when anything did not build, naming what and where its log is."""
    if any(r.status == "interrupted" for r in results):
        raise Interrupted("Interrupted: the builds under way were stopped; nothing after them was started.")
    bad = [r for r in results if r.status in _BAD]
    if bad:
        where = "; ".join(f"{r.target.name}: {r.status}"
                          + (f" (log {r.log})" if r.status == "failed" and r.log and r.log.exists() else "")
                          for r in bad)
        raise BuildError(f"{len(bad)} of {len(results)} targets did not build: {where}.")


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))

