"""Verify: run each built image and check what its kind promises.

The checks live beside the recipes, as `images/<kind>/checks/*.sh` (the recipe says which folders apply): each
runs with `sh -c` in a fresh, offline container of the image, with the environment its recipe gives (which
Python, which modules, which tools), and passes when it exits 0. A recipe's smoke command runs in a fresh
container, then in a fresh read-only one with a tmpfs /tmp, and must write no bytecode into the image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import docker.errors
import requests
from tabulate import tabulate

from pyfamily import engine, oci, platforms
from pyfamily.errors import UserError
from pyfamily.kinds import recipe_of
from pyfamily.model import Family, Target
from pyfamily.oci import attestations
from pyfamily.plan import Plan
from pyfamily.util import default_cache_dir
from pyfamily.verify import records

TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Check:
    target: str
    name: str
    passed: bool
    detail: str = ""
    platform: str = ""


@dataclass(frozen=True)
class Run:
    exit_code: int
    output: str
    pyc_written: list[str]


def check_name(script: Path) -> str:
    """A check is named by its file: images/runtime/checks/no-dev-packages.sh -> no-dev-packages."""
    return script.stem


def run(
    ref: str,
    command: list[str],
    *,
    entrypoint: list[str] | None = None,
    env: dict[str, str] | None = None,
    read_only: bool = False,
    platform: str | None = None,
) -> Run:
    """Run `command` in a fresh offline container of `ref` (its manifest for `platform`, emulated when foreign);
    its exit, output and the bytecode it wrote."""
    container = engine.client().containers.run(
        ref,
        command,
        platform=platform,
        entrypoint=entrypoint or [],
        environment=env or {},
        detach=True,
        network_mode="none",
        read_only=read_only,
        tmpfs={"/tmp": ""} if read_only else {},
    )
    try:
        try:
            status = container.wait(timeout=TIMEOUT_SECONDS)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):  # the check ran too long
            return Run(124, f"no result within {TIMEOUT_SECONDS} s (stopped)", [])
        output = container.logs().decode(errors="replace")
        written = [path for change in container.diff() or [] if str(path := change["Path"]).endswith(".pyc")]
    finally:
        container.remove(force=True)
    return Run(status["StatusCode"], output, [str(path) for path in written])


def smoke(ref: str, command: list[str], *, read_only: bool, platform: str | None = None) -> Run:
    return run(ref, command, read_only=read_only, platform=platform)


def verify_target(family: Family, target: Target, platform: str) -> list[Check]:
    """Every check of `target` on one platform of its index."""
    recipe = recipe_of(target)
    # EMULATED=1: the platform is foreign, run by qemu-user (~50x slower); a check may choose a lighter way
    env = {**recipe.check_env(family, target), "EMULATED": "0" if platform == platforms.host() else "1"}
    checks = []
    for script in recipe.check_scripts() if recipe.has_shell(family, target) else []:
        outcome = run(target.ref, ["-c", script.read_text()], entrypoint=["sh"], env=env, platform=platform)
        detail = "" if outcome.exit_code == 0 else f"exit {outcome.exit_code}: {outcome.output.strip()[-400:]}"
        checks.append(Check(target.name, check_name(script), outcome.exit_code == 0, detail, platform))
    command = recipe.smoke(family.config, target)
    if command:
        checks += [_smoke_check(target, command, read_only, platform) for read_only in (False, True)]
    return checks


def _smoke_check(target: Target, command: list[str], read_only: bool, platform: str) -> Check:
    name = "smoke (--read-only)" if read_only else "smoke"
    try:
        outcome = smoke(target.ref, command, read_only=read_only, platform=platform)
    except docker.errors.DockerException as exc:
        return Check(target.name, name, False, str(exc), platform)
    passed = outcome.exit_code == 0 and not outcome.pyc_written
    detail = (
        "" if passed else f"exit {outcome.exit_code}, .pyc written: {outcome.pyc_written[:3]}, {outcome.output[-300:]}"
    )
    return Check(target.name, name, passed, detail, platform)


def verify(plan: Plan, cache_dir: Path | None = None) -> list[Check]:
    """Check every target of the plan on every platform of the run; with `cache_dir`, record each image's verdict
    there by image ID and platform."""
    wanted = plan.family.platforms
    images = {t.name: engine.image_or_none(t.ref) for t in plan.targets}
    missing = [t.ref for t in plan.targets if images[t.name] is None]
    if missing:
        raise UserError(
            f"Not built yet: {', '.join(missing)}. Run `invoke build` with the same selection and --profile first."
        )
    lacking = [f"{t.ref} ({', '.join(gap)})" for t in plan.targets if (gap := _lacking(t, wanted, cache_dir))]
    if lacking:
        raise UserError(
            f"Not built for every platform asked for: {'; '.join(lacking)}. Run `invoke build` with the same "
            f"selection and --platform {','.join(wanted)} first."
        )
    checks = []
    for target in plan.targets:
        image = images[target.name]
        for platform in wanted:
            found = [*verify_target(plan.family, target, platform), attested(target, platform, cache_dir)]
            if cache_dir is not None and image is not None:
                records.save(cache_dir, str(image.id), target.name, [(c.name, c.passed) for c in found], platform)
            checks += found
    return checks


def attested(target: Target, platform: str, cache_dir: Path | None = None) -> Check:
    """A check that the image carries a provenance and an SBOM attestation for `platform` (publish pushes them)."""
    local = oci.export(target.ref, cache_dir or default_cache_dir())
    found = attestations.predicates(local, platform)
    absent = attestations.missing(found, [attestations.PROVENANCE, attestations.SBOM])
    detail = f"no {attestations.describe(absent)} attestation (found: {', '.join(found) or 'none'})" if absent else ""
    return Check(target.name, "attestations", not absent, detail, platform)


def _lacking(target: Target, wanted: tuple[str, ...], cache_dir: Path | None) -> list[str]:
    """The platforms of `wanted` the local image of `target` does not hold: its label says what its build made;
    an image merged from per-platform builds (the pipeline's last job) is read exactly, from its index."""
    image = engine.image_or_none(target.ref)
    if image is None or not platforms.missing(wanted, image.labels):
        return []
    held = oci.local_platforms(str(image.id), cache_dir or default_cache_dir())
    return [name for name in wanted if name not in held]


def report(checks: list[Check]) -> str:
    rows = [(c.target, c.platform, c.name, "ok" if c.passed else "FAILED", c.detail) for c in checks]
    return tabulate(rows, headers=["target", "platform", "check", "result", "detail"])
