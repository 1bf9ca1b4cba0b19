"""The `apps` section: requirements or a poetry/uv project, and how the app runs."""

from __future__ import annotations

import os
import posixpath
from typing import Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pyfamily.config.strict import Model
from pyfamily.config.values import (
    PLAIN,
    AbsolutePath,
    CommandName,
    EnvName,
    NonEmptyText,
    PackageName,
    PipRequirement,
    Port,
    ProjectPath,
    PythonName,
    Text,
    UserName,
    VariantRef,
    refusal,
)


class UserSpec(Model):
    """The non-root user an app runs as, created in the runtime stage."""

    name: UserName
    uid: int = Field(default=10001, ge=1, le=2**31 - 2)
    gid: int | None = Field(default=None, ge=1, le=2**31 - 2)  # the uid unless given


# Who an app on the thin runtime runs as unless `user:` says otherwise (`user: root` keeps root).
DEFAULT_USER = UserSpec(name="app")
# The shell-less runtime's own user, which its apps run as: distroless's `nonroot`.
NONROOT_UID = 65532


class AppSpec(Model):
    python: PythonName
    variant: VariantRef = PLAIN
    requirements: list[PipRequirement] | None = Field(default=None, min_length=1)
    # A poetry or uv project (a folder with pyproject.toml and its lock), instead of `requirements`.
    project: ProjectPath | None = None
    installer: Literal["poetry", "uv"] | None = None  # from the pyproject unless given
    lock: bool = True  # false: a project without a lock file is accepted (resolved at build time)
    extras: list[PackageName] = []
    groups: list[PackageName] = []
    no_binary: list[PackageName] = []  # built from source against the family's -dev libraries
    env: dict[EnvName, Text] = {}
    # thin: on X.Y (Debian, a shell, apt); distroless: on X.Y-distroless (no shell, user nonroot)
    runtime: Literal["thin", "distroless"] = "thin"
    user: UserSpec | Literal["root"] | None = None  # None: DEFAULT_USER on thin, nonroot on distroless
    workdir: AbsolutePath | None = None
    entrypoint: list[NonEmptyText] | None = None
    cmd: list[NonEmptyText] | None = None
    ports: list[Port] = []
    volumes: list[AbsolutePath] = []
    smoke: list[NonEmptyText] = Field(min_length=1)
    commands: list[CommandName] | None = None

    @field_validator("project")
    @classmethod
    def _relative_to_the_family_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A relative project path is read from the family file's folder when the loader says which file it is."""
        family_file = (info.context or {}).get("family_file")
        if value is None or value.startswith("/") or family_file is None:
            return value
        return posixpath.normpath(posixpath.join(posixpath.dirname(os.path.abspath(family_file)), value))

    @model_validator(mode="after")
    def _runs_something(self) -> Self:
        if not self.entrypoint and not self.cmd:
            raise refusal("an app needs `entrypoint`, `cmd` or both")
        if self.requirements is None and self.project is None:
            raise refusal("an app needs `requirements` (a list) or `project` (a poetry or uv project folder)")
        if self.requirements is not None and self.project is not None:
            raise refusal("an app has `requirements` or `project`, not both")
        if self.runtime == "distroless" and self.user is not None:
            raise refusal(
                "`user` cannot be set with `runtime: distroless`: the shell-less image has no useradd and runs every "
                f"app as its own user nonroot ({NONROOT_UID}); leave `user` out, or use `runtime: thin`"
            )
        if self.project is None:
            given = [key for key in PROJECT_ONLY if key in self.model_fields_set]
            if given:
                raise refusal(f"{', '.join(f'`{key}`' for key in given)} only apply to an app with `project`")
        return self

    @property
    def created_user(self) -> UserSpec | None:
        """The user the runtime stage creates and runs the app as; None: none is created (root, or distroless's
        nonroot, which the image already has)."""
        if self.runtime == "distroless" or self.user == "root":
            return None
        return self.user or DEFAULT_USER


PROJECT_ONLY = ("installer", "lock", "extras", "groups", "no_binary", "env", "workdir")
