"""The `build` section: the profile, its configure options, a CA bundle."""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from pyfamily.config.strict import Model
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
