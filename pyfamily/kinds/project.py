"""The `project` kind: an app built from the user's own poetry or uv project, its lock file honoured.

`apps.NAME.project: PATH` (instead of `requirements`) names a folder with a pyproject.toml and its lock file.
The build stage exports exactly the locked versions (main group, plus the chosen extras and groups, with hashes),
pip-installs them into the venv, then the project itself (non-editable), then runs find-libdeps; the runtime stage
copies the venv into the thin X.Y exactly like the `app` kind. The project folder is copied into the build
context honouring its `.dockerignore` with Docker's own pattern rules (never `.git`), so a changed lock or source file
changes the input digest; a symbolic link is copied as a link, and refused when it leads out of the project.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tomllib
from pathlib import Path
from typing import Any

from docker.utils.build import Pattern
from docker.utils.fnmatch import fnmatch

from pyfamily.config import AppSpec, Config
from pyfamily.digest import digest_of_files
from pyfamily.errors import ConfigError, UserError
from pyfamily.kinds.apps import app_debian_updates, app_draft, app_smoke, on_distroless, run_stage_variables
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


def _patterns(app: str, folder: Path) -> list[Pattern]:
    """The project's .dockerignore patterns, in order, as the docker SDK parses them: `**`, `*`, `?`, `[...]`, `!`
    exceptions, a leading `/` and `.`/`..` steps dropped (`.` alone means nothing). Not its PatternMatcher, which
    always keeps .dockerignore: `docker build` leaves it out of the context when a pattern says so."""
    file = folder / ".dockerignore"
    try:
        lines = file.read_text(encoding="utf-8").splitlines() if file.is_file() else []
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"apps.{app}.project: {file} cannot be read: {exc}") from None
    # Read as Docker reads it: stripped lines, blank lines and `#` comments dropped.
    patterns = [Pattern(line) for line in map(str.strip, lines) if line and not line.startswith("#")]
    return [pattern for pattern in patterns if pattern.dirs]


def _excluded(relative: str, patterns: list[Pattern]) -> bool:
    """Docker's rule: the last pattern that matches the path or any folder above it decides; `!` re-includes.

    Not the SDK's PatternMatcher.matches: it tries only the folder as deep as the pattern, so `**/secrets` missed
    `src/app/secrets/key.pem` once a `!src/app/secrets/...` exception made its walk enter the folder."""
    parts = relative.split("/")
    paths = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        if any(pattern.match(path) for path in paths):
            excluded = not pattern.exclusion
    return excluded


def _entered(relative: str, patterns: list[Pattern]) -> bool:
    """Whether the walk goes into the folder `relative`: it is kept, or an exception may re-include something below
    it (its leading steps hold a `**`, or match the folder and go deeper), as Docker goes in to look."""
    if not _excluded(relative, patterns):
        return True
    depth = relative.count("/") + 1
    for pattern in patterns:
        head = "/".join(pattern.dirs[:depth])
        if pattern.exclusion and ("**" in head or (len(pattern.dirs) > depth and fnmatch(relative, head))):
            return True
    return False


def _link_escapes(folder: Path, relative: str, target: str) -> str | None:
    """Why the link `relative` -> `target` leaves the project, or None. Its text is checked as well as what it
    resolves to: the context holds the text, and a link chain or a linked folder may lead elsewhere than the text."""
    if os.path.isabs(target):
        return "an absolute path, which points outside the project once copied"
    if posixpath.normpath(posixpath.join(posixpath.dirname(relative), target)).split("/")[0] == "..":
        return "outside the project"
    root, resolved = os.path.realpath(folder), os.path.realpath(folder / relative)
    if os.path.commonpath([root, resolved]) != root:
        return f"which resolves to {resolved!r}, outside the project"
    return None


def _check(app: str, folder: Path, relative: str) -> None:
    """Refuse what must not go into the context: a link leaving the project, a socket, pipe or device."""
    path = folder / relative
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        target = os.readlink(path)
        reason = _link_escapes(folder, relative, target)
        if reason is None:
            return
        raise UserError(
            f"apps.{app}.project: the symbolic link {relative!r} in {folder} points to {target!r}, {reason}; the "
            "image gets only the project's own files. Make it a relative link to a file inside the project, or "
            "list it in the project's .dockerignore."
        )
    if not stat.S_ISREG(mode):
        raise UserError(
            f"apps.{app}.project: {relative!r} in {folder} is not a file, folder or symbolic link (a socket, pipe or "
            "device); list it in the project's .dockerignore."
        )


def project_files(folder: Path, app: str) -> list[str]:
    """The project's files and links the image gets, relative, sorted: .dockerignore as Docker reads it, never
    NEVER; a link stays a link (a linked folder is not entered), refused when it leaves the project."""
    patterns = _patterns(app, folder)
    found = []
    for root, dirs, files in os.walk(folder):  # links to folders come in `dirs`, never followed
        here = Path(root).relative_to(folder)
        entered = []
        for entry in sorted(dirs + files):
            relative = (here / entry).as_posix()
            if entry in NEVER:
                continue
            if entry in dirs and not Path(root, entry).is_symlink():
                if _entered(relative, patterns):
                    entered.append(entry)
            elif not _excluded(relative, patterns):
                _check(app, folder, relative)
                found.append(relative)
        dirs[:] = entered
    return sorted(found)


def copy_project(folder: Path, destination: Path, app: str) -> list[str]:
    """Copy the project's files into `destination`, its links as links with the same text; their relative names."""
    names = project_files(folder, app)
    for relative in names:
        source, target = folder / relative, destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        else:  # bytes and permission bits, as `docker build` would send them: a script stays executable
            shutil.copy(source, target)
    return names


def links_digest(destination: Path, names: list[str]) -> str | None:
    """A digest of the copied links' names and texts (None without links). The context's file digest follows a
    link to a file and skips a link to a folder or a dangling one, so a link's text is counted here."""
    links = [f"{name}\0{os.readlink(destination / name)}" for name in names if (destination / name).is_symlink()]
    return digest_of_files((), *links) if links else None


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
    return {
        **run_stage_variables(app),
        "commands": app.commands or [],
        "installer": installer_of(target.app, app, project_dir(app)),
        "tools": TOOLS,
        "project_src": "/usr/src/project",
    }


def _prepare(step: Preparation) -> dict[str, str]:
    assert step.target.app is not None
    app = step.family.config.apps[step.target.app]
    folder = project_dir(app)
    destination = step.context / CONTEXT_FOLDER
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir()
    names = copy_project(folder, destination, step.target.app)
    step.say(f"[{step.target.name}] project {folder}: {len(names)} files")
    parts = {"project files": str(len(names))}  # their contents are hashed with the context; the lock pins PyPI
    links = links_digest(destination, names)
    if links is not None:  # only then: a project without links keeps the digest it had
        parts["project links"] = links
    return parts


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
    freshness=(app_debian_updates,),  # the lock pins what PyPI gives: only Debian's packages change
    has_shell=lambda family, target: not on_distroless(family, target),
)
