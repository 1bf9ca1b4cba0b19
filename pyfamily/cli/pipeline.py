"""`invoke build`, `invoke verify` and `invoke publish`: the steps that run on the engine, with their settings."""

from __future__ import annotations

import dataclasses
import os
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
from pyfamily.redaction import remote_text
from pyfamily.util import WORK_DIR, default_cache_dir, git_revision

EPOCH_ENV = "SOURCE_DATE_EPOCH"


def settings(
    family: Family,
    *,
    jobs: int = 0,
    offline: bool = False,
    ca_bundle: str | None = None,
    docker: str | None = None,
    refresh: bool = False,
    no_cache: bool = False,
) -> produce.Settings:
    return produce.Settings(
        jobs=jobs or produce.default_jobs(),
        offline=offline,
        docker_cli=docker,
        ca_bundle=produce.resolve_ca_bundle(family.config, ca_bundle),
        revision=git_revision(),
        refresh=refresh,
        no_cache=no_cache,
        epoch=source_date_epoch(),
    )


def source_date_epoch() -> int | None:
    """$SOURCE_DATE_EPOCH (reproducible-builds.org's name): when set, the time of every image of the run instead of
    each one's from its inputs."""
    given = os.environ.get(EPOCH_ENV, "").strip()
    if not given:
        return None
    if not (given.isascii() and given.isdigit()):
        raise UserError(
            f"${EPOCH_ENV} is {remote_text(given[:40])!r}: it must be whole seconds since 1970 (digits only), the "
            "time every image of the run then carries; unset it and each image carries the date of its inputs."
        )
    return int(given)


def _refuse_mixed(offline: bool, refresh: bool, no_cache: bool, parents_from: str | None) -> None:
    if offline and (refresh or no_cache):
        flag = "--refresh" if refresh else "--no-cache"
        raise UserError(
            f"{flag} asks the Debian archive (and PyPI) for what it serves today, which --offline forbids: use one or "
            "the other (--offline alone builds from the cache)."
        )
    if no_cache and parents_from:
        raise UserError(
            "--no-cache builds every target from scratch, while --parents-from takes the parents built elsewhere: "
            "use one or the other."
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
    no_cache: bool = False,
    platforms: Sequence[str] = (),
    stage_to: str | None = None,
    parents_from: str | None = None,
    layer_cache: str | None = None,
) -> None:
    _refuse_mixed(offline, refresh, no_cache, parents_from)
    family = load(config_file, profile, platforms)
    plan = planner.select(family, chosen)
    chosen_settings = settings(
        family, jobs=jobs, offline=offline, ca_bundle=ca_bundle, docker=docker, refresh=refresh, no_cache=no_cache
    )
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
