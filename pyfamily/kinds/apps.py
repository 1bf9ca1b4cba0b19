"""The `app` kind: a venv built in the build stage of its Python (and variant), copied into the thin runtime (or,
with `runtime: distroless`, into the shell-less X.Y-distroless with the Debian packages it loads unpacked in base)."""

from __future__ import annotations

from typing import Any

from pyfamily.config import PLAIN, AppSpec, Config
from pyfamily.kinds import distroless
from pyfamily.kinds.freshness import Probe, app_venv_updates, apt_updates
from pyfamily.kinds.recipe import Draft, Index, Listing, Recipe
from pyfamily.model import FROM, Family, Target

APP_PREFIX = "/usr/share/python3/app"  # where the venv lives, in the build stage and in the image


def _expand(config: Config, profile: str, index: Index) -> list[Draft]:
    # a project of its own is the `project` kind's
    return [app_draft(config, name, app, index) for name, app in config.apps.items() if app.project is None]


def app_draft(config: Config, name: str, app: AppSpec, index: Index) -> Draft:
    """An app target: on the runtime of its Python (and variant), its venv made in the matching build stage."""
    variant = None if app.variant == PLAIN else app.variant
    builder = index.find("builder-variant" if variant else "builder", python=app.python, variant=variant)
    uses = {FROM: index.find("runtime-variant" if variant else "runtime", python=app.python, variant=variant)}
    if app.runtime == "distroless":  # base unpacks the packages the venv loads: the image has no apt to install them
        uses = {FROM: index.find("distroless", python=app.python, variant=variant), "base": index.find("base")}
    fields = {
        "name": name,
        "minor": app.python,
        "version": config.full_version(app.python),
        "variant": f"-{variant}" if variant else "",
    }
    return Draft(
        name,
        uses={**uses, "builder": builder},
        python=app.python,
        variant=variant,
        app=name,
        tag_templates=config.tags.app,
        tag_fields=fields,
    )


def run_stage_variables(app: AppSpec) -> dict[str, Any]:
    """What images/app/run-stage.j2 (the image's last stage, for apps and projects alike) needs."""
    user = app.created_user
    return {
        "app": app,
        "app_prefix": APP_PREFIX,
        "distroless": app.runtime == "distroless",
        "user": user,
        "gid": (user.gid or user.uid) if user else None,
    }


def _variables(family: Family, target: Target) -> dict[str, Any]:
    assert target.app is not None
    app = family.config.apps[target.app]
    return {**run_stage_variables(app), "commands": app.commands or [target.app]}


def _files(family: Family, target: Target) -> dict[str, bytes]:
    assert target.app is not None
    return {
        "requirements.txt": "".join(f"{line}\n" for line in family.config.apps[target.app].requirements or []).encode()
    }


def app_smoke(config: Config, target: Target) -> list[str] | None:
    """The app's smoke command, run by verify in fresh containers."""
    assert target.app is not None
    return list(config.apps[target.app].smoke)


def _venv_updates(probe: Probe) -> list[str]:
    return app_venv_updates(probe, APP_PREFIX, probe.context / "requirements.txt")


def on_distroless(family: Family, target: Target) -> bool:
    assert target.app is not None
    return family.config.apps[target.app].runtime == "distroless"


def app_debian_updates(probe: Probe) -> list[str]:
    """On the thin runtime apt asks; on the shell-less one, Debian is asked about its status.d records, in base."""
    if on_distroless(probe.family, probe.target):
        return distroless.debian_updates(probe)
    return apt_updates(probe)


APP = Recipe(
    kind="app",
    expand=_expand,
    describe=lambda config, target: (
        f"{target.app}, ready to run: a venv built in the build stage, on Python {target.python}"
    ),
    listing=Listing.LAST,
    selected_by_version=True,
    variables=_variables,
    files=_files,
    smoke=app_smoke,
    freshness=(app_debian_updates, _venv_updates),
    has_shell=lambda family, target: not on_distroless(family, target),
)
