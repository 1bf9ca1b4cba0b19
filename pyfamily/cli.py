"""What each invoke task does, as plain functions; tasks.py only turns flags into these calls."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tabulate import tabulate

from pyfamily import build as builder
from pyfamily import config as configuration
from pyfamily import plan as planner
from pyfamily import publish as publisher
from pyfamily import render
from pyfamily import verify as verifier
from pyfamily.config import PLAIN, Config
from pyfamily.errors import UserError
from pyfamily.plan import Kind, Selection, Target

F = TypeVar("F", bound=Callable[..., Any])


def reports_user_errors(function: F) -> F:
    """Print a user's mistake as one paragraph on stderr and exit non-zero, without a traceback."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(exc.exit_code) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise SystemExit(130) from None

    return wrapper  # type: ignore[return-value]


def load(config_file: str | None, profile: str | None = None) -> tuple[Config, dict[str, Target]]:
    config = configuration.load(config_file)
    return config, planner.expand(config, profile)


def selection(version: Sequence[str] = (), target: Sequence[str] = (), variant: Sequence[str] = (),
              apps: bool = True) -> Selection:
    return Selection(tuple(version), tuple(target), tuple(variant), apps)


def _built_from(config: Config, targets: dict[str, Target], target: Target) -> str:
    if target.parent:
        return target.parent
    if config.base.from_image:
        return config.base.from_image
    bootstrap = config.base.bootstrap
    assert bootstrap is not None
    return f"Debian {bootstrap.suite} (mmdebstrap)"


def _purpose(target: Target) -> str:
    return {
        Kind.BASE: "slim Debian with apt-install, wait-for-port, find-libdeps",
        Kind.CPYTHON: "internal: the compiled CPython tree",
        Kind.RUNTIME: f"thin Python {target.python} runtime",
        Kind.RUNTIME_VARIANT: f"Python {target.python} runtime with the {target.variant} libraries",
        Kind.BUILDER: "build stage: " + ("every Python" if len(target.pythons) > 1 else f"internal, Python "
                                         f"{target.python} only") + ", headers, compiler",
        Kind.BUILDER_VARIANT: f"build stage with the {target.variant} -dev libraries"
        + ("" if len(target.pythons) > 1 else " (internal)"),
        Kind.APP: f"{target.app} application on Python {target.python}",
    }[target.kind]


def list_targets(config_file: str | None, internal: bool = False) -> str:
    config, targets = load(config_file)
    rows = [(t.name, t.kind.value, t.python or ", ".join(t.pythons) or "-", t.variant or PLAIN,
             _built_from(config, targets, t), " ".join(t.local_tags) or "(internal)", _purpose(t))
            for t in targets.values() if internal or t.public]
    return tabulate(rows, headers=["target", "kind", "python", "variant", "built from", "tags", "purpose"])


def show_plan(config_file: str | None, chosen: Selection, profile: str | None = None) -> str:
    config, targets = load(config_file, profile)
    plan = planner.select(targets, chosen)
    rows = [(index, t.name, t.kind.value, t.parent or "-", plan.reasons[t.name])
            for index, level in enumerate(plan.levels) for t in level]
    header = (f"{len(plan.targets)} targets in {len(plan.levels)} levels (profile "
              f"{profile or config.build.profile}); targets of one level can build in parallel.")
    return header + "\n" + tabulate(rows, headers=["level", "target", "kind", "built from", "why"])


def render_contexts(config_file: str | None, chosen: Selection, out: str, profile: str | None = None) -> str:
    config, targets = load(config_file, profile)
    plan = planner.select(targets, chosen)
    written = []
    for target in plan.targets:
        context = render.render(config, targets, target, Path(out) / target.name)
        written.append(str(context.dockerfile))
    return "\n".join(written)


def github_matrix(config_file: str | None, chosen: Selection, profile: str | None = None) -> str:
    """JSON for GitHub Actions: {"levels": [{"include": [...]}, ...]}, one entry per target."""
    _, targets = load(config_file, profile)
    plan = planner.select(targets, chosen)
    levels = [{"include": [{"target": t.name, "kind": t.kind.value, "python": t.python or "",
                            "variant": t.variant or PLAIN, "needs": list(t.needs), "tags": list(t.local_tags),
                            "level": index} for t in level]}
              for index, level in enumerate(plan.levels)]
    return json.dumps({"levels": levels, "count": len(plan.targets)}, indent=2)


def build(config_file: str | None, chosen: Selection, *, profile: str | None, jobs: int, offline: bool,
          ca_bundle: str | None, docker: str | None) -> str:
    config, targets = load(config_file, profile)
    plan = planner.select(targets, chosen)
    settings = builder.Settings(
        profile=profile or config.build.profile, jobs=jobs, offline=offline,
        ca_bundle=builder.resolve_ca_bundle(config, ca_bundle), docker_cli=docker,
        revision=builder.git_revision(),
    )
    print(f"building {len(plan.targets)} targets with up to {jobs} at once (profile {settings.profile})",
          flush=True)
    results = builder.run(config, targets, plan, settings, say=lambda line: print(line, flush=True))
    table = builder.summary(results)
    print(table)
    builder.check(results)
    return ""


def verify(config_file: str | None, chosen: Selection, profile: str | None = None) -> None:
    config, targets = load(config_file, profile)
    checks = verifier.verify(config, planner.select(targets, chosen))
    print(verifier.report(checks))
    failed = [c for c in checks if not c.passed]
    if failed:
        raise UserError(f"{len(failed)} of {len(checks)} checks failed: "
                        + "; ".join(f"{c.target}: {c.name}" for c in failed) + ".")


def publish(config_file: str | None, chosen: Selection, profile: str | None = None,
            registries: Sequence[str] = ()) -> None:
    config, targets = load(config_file, profile)
    pushes = publisher.publish(config, planner.select(targets, chosen), registries or None,
                               say=lambda line: print(line, flush=True))
    print(tabulate([(p.target, p.reference, p.digest) for p in pushes], headers=["target", "pushed", "digest"]))
