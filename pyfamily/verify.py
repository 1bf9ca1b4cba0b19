"""Verify: run each built image and check what its kind promises (imports, venv, no compiler, smoke commands)."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import docker.errors
from tabulate import tabulate

from pyfamily import engine
from pyfamily.config import Config
from pyfamily.errors import UserError
from pyfamily.plan import Kind, Plan, Target


@dataclass(frozen=True)
class Check:
    target: str
    name: str
    passed: bool
    detail: str = ""


def run_in(ref: str, script: str) -> str:
    """Run `script` with sh -c in a fresh, offline container of `ref`; return its output or raise with it."""
    try:
        output = engine.client().containers.run(ref, ["-c", script], entrypoint="sh", remove=True, stdout=True,
                                                stderr=True, network_mode="none")
    except docker.errors.ContainerError as exc:
        text = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr)
        raise AssertionError(f"exit {exc.exit_status}: {text.strip()[-400:]}") from None
    return output.decode(errors="replace")


def _runtime_checks(config: Config, target: Target) -> Iterator[tuple[str, str]]:
    minor = target.python
    modules = ", ".join(config.python.check_imports)
    yield "imports", (f"python3 -c 'import {modules}; import zoneinfo; zoneinfo.ZoneInfo(\"Europe/Paris\")' "
                      f"&& python3 -c 'import sys; assert sys.version.startswith(\"{minor}.\"), sys.version'")
    yield "python -m venv", "python -m venv /tmp/venv && /tmp/venv/bin/python -c 'import sys; print(sys.prefix)'"
    yield "no compiler, no pip", ("! command -v gcc && ! command -v cc && ! command -v pip3 "
                                  "&& ! python3 -c 'import pip' 2>/dev/null")
    yield "no -dev packages", "! dpkg-query -W -f '${Package}\\n' | grep -- '-dev$'"


def _builder_checks(config: Config, target: Target) -> Iterator[tuple[str, str]]:
    default = config.python.default if len(target.pythons) > 1 else target.pythons[0]
    yield "python3 is the default", f"python3 -c 'import sys; assert sys.version.startswith(\"{default}.\")'"
    for minor in target.pythons:
        yield f"python{minor} with pip", f"python{minor} -m pip --version && python{minor}-config --includes"
    yield "compiler", "gcc --version && pkg-config --version"
    for tool in config.all.tools:
        yield f"{tool} on PATH", f"command -v {shlex.quote(tool)}"


COMMON_CHECKS = [
    ("helpers on PATH", "command -v apt-install && command -v wait-for-port && command -v find-libdeps"),
    ("apt lists empty", "test -z \"$(ls /var/lib/apt/lists | grep -v -e '^lock$' -e '^partial$')\""),
]
KIND_CHECKS: dict[Kind, Callable[[Config, Target], Iterator[tuple[str, str]]]] = {
    Kind.RUNTIME: _runtime_checks, Kind.RUNTIME_VARIANT: _runtime_checks,
    Kind.BUILDER: _builder_checks, Kind.BUILDER_VARIANT: _builder_checks,
}


def checks_for(config: Config, target: Target) -> list[tuple[str, str]]:
    """(name, shell script) pairs: what `target` must do when run. A compiled CPython tree has no shell."""
    if target.kind is Kind.CPYTHON:
        return []
    kind_checks = KIND_CHECKS.get(target.kind)
    return COMMON_CHECKS + (list(kind_checks(config, target)) if kind_checks else [])


def verify_target(config: Config, target: Target) -> list[Check]:
    results = []
    for name, script in checks_for(config, target):
        try:
            run_in(target.ref, script)
            results.append(Check(target.name, name, True))
        except AssertionError as exc:
            results.append(Check(target.name, name, False, str(exc)))
    if target.kind is Kind.APP:
        results += _app_checks(config, target)
    return results


@dataclass(frozen=True)
class SmokeRun:
    exit_code: int
    output: str
    pyc_written: list[str]


def smoke(ref: str, command: list[str], *, read_only: bool) -> SmokeRun:
    """Run an app's smoke command; report its exit, output and any bytecode it wrote into the image's tree."""
    # Read-only deployments give the app a tmpfs for /tmp; nothing else may need writing.
    container = engine.client().containers.run(ref, command, entrypoint=[], detach=True, read_only=read_only,
                                               tmpfs={"/tmp": ""} if read_only else {}, network_mode="none")
    try:
        status = container.wait(timeout=300)
        output = container.logs().decode(errors="replace")
        written = [change["Path"] for change in container.diff() or [] if change["Path"].endswith(".pyc")]
    finally:
        container.remove(force=True)
    return SmokeRun(status["StatusCode"], output, written)


def _app_checks(config: Config, target: Target) -> list[Check]:
    app = config.apps[target.app or target.name]
    results = []
    for read_only in (False, True):
        name = "smoke (--read-only)" if read_only else "smoke"
        try:
            run = smoke(target.ref, app.smoke, read_only=read_only)
        except docker.errors.DockerException as exc:
            results.append(Check(target.name, name, False, str(exc)))
            continue
        passed = run.exit_code == 0 and not run.pyc_written
        detail = "" if passed else f"exit {run.exit_code}, .pyc written: {run.pyc_written[:3]}, {run.output[-300:]}"
        results.append(Check(target.name, name, passed, detail))
    return results


def verify(config: Config, plan: Plan) -> list[Check]:
    missing = [t.ref for t in plan.targets if engine.image_or_none(t.ref) is None]
    if missing:
        raise UserError(f"Not built yet: {', '.join(missing)}. Run `invoke build` with the same selection first.")
    return [check for target in plan.targets for check in verify_target(config, target)]


def report(checks: list[Check]) -> str:
    rows = [(c.target, c.name, "ok" if c.passed else "FAILED", c.detail) for c in checks]
    return tabulate(rows, headers=["target", "check", "result", "detail"])
