"""`invoke build`, `invoke verify` and `invoke publish`: the steps that run on the engine, with their settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pyfamily import plan as planner
from pyfamily import produce, signing
from pyfamily import publish as publisher
from pyfamily import verify as verifier
from pyfamily.cli.family import load
from pyfamily.cli.staging import Staging
from pyfamily.errors import UserError
from pyfamily.model import Family
from pyfamily.plan import Selection
from pyfamily.util import WORK_DIR, default_cache_dir, git_revision


def settings(
    family: Family,
    *,
    jobs: int = 0,
    offline: bool = False,
    ca_bundle: str | None = None,
    docker: str | None = None,
    refresh: bool = False,
) -> produce.Settings:
    return produce.Settings(
        jobs=jobs or produce.default_jobs(),
        offline=offline,
        docker_cli=docker,
        ca_bundle=produce.resolve_ca_bundle(family.config, ca_bundle),
        revision=git_revision(),
        refresh=refresh,
    )


def build(
    config_file: str | None,
    chosen: Selection,
    *,
    profile: str | None,
    jobs: int,
    offline: bool,
    ca_bundle: str | None,
    docker: str | None,
    refresh: bool = False,
    platforms: Sequence[str] = (),
    stage_to: str | None = None,
    parents_from: str | None = None,
    layer_cache: str | None = None,
) -> None:
    if offline and refresh:
        raise UserError(
            "--refresh asks the Debian archive and PyPI whether anything newer was published, which --offline "
            "forbids: use one or the other (--offline alone builds from the cache; --refresh alone picks up updates)."
        )
    family = load(config_file, profile, platforms)
    plan = planner.select(family, chosen)
    chosen_settings = settings(family, jobs=jobs, offline=offline, ca_bundle=ca_bundle, docker=docker, refresh=refresh)
    staging = Staging(family, chosen_settings.cache_dir, stage_to, parents_from)
    handover = produce.Handover(take_parent=staging.take_parent())
    if layer_cache:
        where = publisher.parse_registry(layer_cache)
        cache_at = f"{where.host}/{family.config.repository}-cache"
        handover = dataclasses.replace(handover, layer_cache=cache_at, layer_cache_insecure=where.insecure)
    chosen_settings = dataclasses.replace(chosen_settings, handover=handover)
    print(
        f"building {len(plan.targets)} targets with up to {chosen_settings.jobs} at once (profile {family.profile}; "
        f"{', '.join(family.platforms)})",
        flush=True,
    )
    report = produce.run(plan, chosen_settings, say=lambda line: print(line, flush=True))
    print(report.summary())
    staging.stage(report)
    report.check()


def trust(signed_by: str, identity: str | None, issuer: str | None) -> signing.Trust:
    """What `verify --signed-by` accepts: a public key file, or `keyless` with the signer's identity and issuer."""
    if signed_by == signing.KEYLESS:
        return signing.Trust(identity=identity, issuer=issuer)
    return signing.Trust(key=signed_by)


def verify(
    config_file: str | None,
    chosen: Selection,
    profile: str | None = None,
    platforms: Sequence[str] = (),
    trust: signing.Trust | None = None,
    registries: Sequence[str] = (),
) -> None:
    """The images of the engine, run and checked; with `trust` (--signed-by), instead, the signatures of what is
    published in `registries` (default: the family file's), nothing pulled or run."""
    family = load(config_file, profile, platforms)
    if trust is not None:
        destinations = [publisher.parse_registry(t) for t in registries] or list(family.config.registries)
        if not destinations:
            raise UserError("verify --signed-by: no registry given; pass --registry or list `registries` in the file.")
        checks = verifier.verify_signatures(planner.select(family, chosen), destinations, trust)
    else:
        cache_dir = default_cache_dir()
        with produce.held_locks(family, WORK_DIR, cache_dir, "verify"):
            checks = verifier.verify(planner.select(family, chosen), cache_dir)
    print(verifier.report(checks))
    failed = [c for c in checks if not c.passed]
    if failed:
        raise UserError(
            f"{len(failed)} of {len(checks)} checks failed: " + "; ".join(f"{c.target}: {c.name}" for c in failed) + "."
        )


def publish(
    config_file: str | None,
    chosen: Selection,
    profile: str | None = None,
    registries: Sequence[str] = (),
    allow_profiles: Sequence[str] = (),
    platforms: Sequence[str] = (),
    sign: str | None = None,
) -> None:
    family = load(config_file, profile, platforms, every_platform=True)  # default: every platform listed
    cache_dir = default_cache_dir()
    destinations = (
        [publisher.parse_registry(text) for text in registries] if registries else list(family.config.registries)
    )
    with produce.held_locks(family, WORK_DIR, cache_dir, "publish"):
        rows = publisher.publish(
            family.config,
            planner.select(family, chosen),
            destinations,
            cache_dir,
            allow_profiles=(*publisher.PUBLISHABLE_PROFILES, *allow_profiles),
            platforms=family.platforms,
            signer=signing.Signer(sign) if sign else None,
            say=lambda line: print(line, flush=True),
        )
    print(publisher.table(rows))
