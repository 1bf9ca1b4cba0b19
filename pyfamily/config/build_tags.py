"""How images are built and named: `build` (the profile, its configure options, a CA bundle) and `tags` (the moving
tag templates of each kind, and the dated tag)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from pyfamily.config.strict import Model
from pyfamily.config.tags import (
    AllTagTemplate,
    AppTagTemplate,
    BaseTagTemplate,
    DatedTagTemplate,
    DateFormat,
    PythonTagTemplate,
    uses_placeholder,
)
from pyfamily.config.values import ConfigureOption, NonEmptyText, ProfileName, refuse_all


class ProfileSpec(Model):
    configure: list[ConfigureOption] = []


class BuildSpec(Model):
    profile: ProfileName = "fast"
    ca_bundle: NonEmptyText | None = None
    profiles: dict[ProfileName, ProfileSpec] = {"release": ProfileSpec(), "fast": ProfileSpec()}

    @model_validator(mode="after")
    def _profile_defined(self) -> Self:
        if self.profile not in self.profiles:
            choices = ", ".join(self.profiles) or "none defined"
            refuse_all(
                "BuildSpec",
                [(("profile",), f"{self.profile!r} is not a profile; choose one of {choices}", self.profile)],
            )
        return self


class TagsSpec(Model):
    """Moving tags per kind and the dated tag made from each image's last moving tag, so the last template should be
    the fully specified one (3.13.15-trixie gives 3.13.15-trixie-20261123). The plain tags (3.13, base) follow the
    family's suite; the -{suite} ones say it. A second build of a target on the same day gets the dated tag with
    .1, .2, ... appended (pyfamily.plan.tags)."""

    base: list[BaseTagTemplate] = Field(default=["base", "base-{suite}"], min_length=1)
    python: list[PythonTagTemplate] = Field(
        default=["{minor}{variant}", "{minor}{variant}-{suite}", "{version}{variant}", "{version}{variant}-{suite}"],
        min_length=1,
    )
    all: list[AllTagTemplate] = Field(default=["all{variant}", "all{variant}-{suite}"], min_length=1)
    app: list[AppTagTemplate] = Field(default=["{name}"], min_length=1)
    dated: DatedTagTemplate = "{tag}-{date}"
    date_format: DateFormat = "%Y%m%d"

    def using(self, placeholder: str) -> list[tuple[str, int, str]]:
        """(kind, index, template) of every moving-tag template with `placeholder`."""
        return [
            (kind, index, template)
            for kind in ("base", "python", "all", "app")
            for index, template in enumerate(getattr(self, kind))
            if uses_placeholder(template, placeholder)
        ]
