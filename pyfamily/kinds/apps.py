"""The `app` kind: a venv built in the build stage of its Python (and variant), copied into the thin runtime."""

from __future__ import annotations

from typing import Any

from pyfamily.config import PLAIN, AppSpec, Config
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
    runtime = index.find("runtime-variant" if variant else "runtime", python=app.python, variant=variant)
    builder = index.find("builder-variant" if variant else "builder", python=app.python, variant=variant)
    fields = {
        "name": name,
        "minor": app.python,
        "version": config.python.versions[app.python].version,
        "variant": f"-{variant}" if variant else "",
    }
    return Draft(
        name,
        uses={FROM: runtime, "builder": builder},
        python=app.python,
        variant=variant,
        app=name,
        tag_templates=config.tags.app,
        tag_fields=fields,
    )


def _variables(family: Family, target: Target) -> dict[str, Any]:
    assert target.app is not None
    app = family.config.apps[target.app]
    return {"app": app, "app_prefix": APP_PREFIX, "commands": app.commands or [target.app]}


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
    freshness=(apt_updates, _venv_updates),
)
