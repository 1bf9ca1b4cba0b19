"""The `project` kind: an app built from the user's own poetry or uv project, its lock file honoured.

`apps.NAME.project: PATH` (instead of `requirements`) names a folder with a pyproject.toml and its lock file.
The build stage exports exactly the locked versions (main group, plus the chosen extras and groups, with hashes),
pip-installs them into the venv, then the project itself (non-editable), then runs find-libdeps; the runtime stage
copies the venv into the thin X.Y exactly like the `app` kind. The project folder is copied into the build
context honouring its `.dockerignore` (never `.git`), so a changed lock or source file changes the input digest.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import tomllib
from pathlib import Path
from typing import Any

from pyfamily.config import AppSpec, Config
from pyfamily.errors import ConfigError
from pyfamily.kinds.apps import APP_PREFIX, app_draft, app_smoke
from pyfamily.kinds.recipe import Draft, Index, Listing, Preparation, Recipe
from pyfamily.model import Family, Target

LOCKS = {"poetry": "poetry.lock", "uv": "uv.lock"}
NEVER = {".git", ".hg", ".svn", ".venv", "__pycache__"}  # never copied, whatever .dockerignore says
CONTEXT_FOLDER = "project"  # where the project lands in the build context
# The tools, from PyPI in the build stage only; pinned so a rebuild is a rebuild.
TOOLS = {"poetry": ["poetry==2.5.1", "poetry-plugin-export==1.10.1"], "uv": ["uv==0.13.9"]}


def project_dir(app: AppSpec, base: Path | None = None) -> Path:
    """The project folder: absolute as written, else relative to `base` (the family file's folder; default cwd)."""
    assert app.project is not None
    path = Path(app.project)
    return path if path.is_absolute() else (base or Path.cwd()) / path


def installer_of(name: str, app: AppSpec, folder: Path) -> str:
    """poetry or uv: as set, else from the pyproject; a ConfigError saying what is missing."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        raise ConfigError(
            f"apps.{name}.project: {folder} has no pyproject.toml; give the folder of a poetry or uv project."
        )
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"apps.{name}.project: {pyproject} cannot be read: {exc}") from None
    tool = data.get("tool")
    if not isinstance(tool, dict):
        tool = {}
    installer = app.installer
    if installer is None:
        if "poetry" in tool:
            installer = "poetry"
        elif "uv" in tool or ("project" in data and (folder / "uv.lock").is_file()):
            installer = "uv"
        else:
            raise ConfigError(
                f"apps.{name}.project: {pyproject} is neither a poetry project ([tool.poetry]) nor a uv project "
                f"([tool.uv], or a [project] with uv.lock); set apps.{name}.installer: poetry or uv."
            )
    lock = folder / LOCKS[installer]
    if app.lock and not lock.is_file():
        command = "poetry lock" if installer == "poetry" else "uv lock"
        raise ConfigError(
            f"apps.{name}.project: {folder} has no {LOCKS[installer]}; the image installs the locked versions. "
            f"Run `{command}` in the project and keep the file, or set apps.{name}.lock: false to resolve at build "
            "time."
        )
    return installer


def _ignored(relative: str, patterns: list[tuple[bool, str]]) -> bool:
    """Simple .dockerignore semantics: globs on the path or any parent folder, `!` re-includes, last match wins."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negate, pattern in patterns:
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            ignored = not negate
    return ignored


def _dockerignore(folder: Path) -> list[tuple[bool, str]]:
    file = folder / ".dockerignore"
    if not file.is_file():
        return []
    patterns = []
    for line in file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        if pattern.startswith("**/"):
            pattern = pattern[3:]
        patterns.append((negate, pattern))
    return patterns


def project_files(folder: Path) -> list[str]:
    """The files of the project the image needs, relative, sorted: .dockerignore honoured, never .git and the like."""
    patterns = _dockerignore(folder)
    found = []
    for root, dirs, files in os.walk(folder):
        here = Path(root).relative_to(folder).as_posix()
        keep = []
        for entry in sorted(dirs):
            relative = entry if here == "." else f"{here}/{entry}"
            if entry not in NEVER and not _ignored(relative, patterns) and not Path(root, entry).is_symlink():
                keep.append(entry)
        dirs[:] = keep
        for entry in sorted(files):
            relative = entry if here == "." else f"{here}/{entry}"
            if entry in NEVER or _ignored(relative, patterns):
                continue
            found.append(relative)
    return sorted(found)


def copy_project(folder: Path, destination: Path) -> list[str]:
    """Copy the project's files into `destination`; their relative names."""
    names = project_files(folder)
    for relative in names:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / relative, target, follow_symlinks=True)
    return names


def _expand(config: Config, profile: str, index: Index) -> list[Draft]:
    drafts = []
    for name, app in config.apps.items():
        if app.project is None:
            continue
        installer_of(name, app, project_dir(app))  # refused at plan time: no pyproject, no lock
        drafts.append(app_draft(config, name, app, index))
    return drafts


def _variables(family: Family, target: Target) -> dict[str, Any]:
    assert target.app is not None
    app = family.config.apps[target.app]
    user = app.user
    return {
        "app": app,
        "app_prefix": APP_PREFIX,
        "commands": app.commands or [],
        "installer": installer_of(target.app, app, project_dir(app)),
        "tools": TOOLS,
        "project_src": "/usr/src/project",
        "user": user,
        "gid": (user.gid or user.uid) if user else None,
    }


def _prepare(step: Preparation) -> dict[str, str]:
    assert step.target.app is not None
    app = step.family.config.apps[step.target.app]
    folder = project_dir(app)
    destination = step.context / CONTEXT_FOLDER
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir()
    names = copy_project(folder, destination)
    step.say(f"[{step.target.name}] project {folder}: {len(names)} files")
    return {"project files": str(len(names))}  # their contents are hashed with the context; the lock pins PyPI


PROJECT = Recipe(
    kind="project",
    expand=_expand,
    describe=lambda config, target: (
        f"{target.app}, ready to run: a poetry or uv project installed from its lock file, on Python {target.python}"
    ),
    listing=Listing.LAST,
    selected_by_version=True,
    variables=_variables,
    prepare=_prepare,
    smoke=app_smoke,
)
