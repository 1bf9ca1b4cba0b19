"""The `build` section: the profile, its configure options and whether it builds the JIT, a CA bundle."""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from pyfamily.config.paths import KeyPath
from pyfamily.config.strict import Model
from pyfamily.config.values import ConfigureOption, NonEmptyText, ProfileName, refuse_all


class ProfileSpec(Model):
    configure: list[ConfigureOption] = []
    # Build CPython's JIT in, off unless PYTHON_JIT=1, for each minor whose entry names its LLVM (python.versions
    # "3.14": {..., jit: {llvm: 19}}); never in a free-threaded build, which 3.14's JIT does not support.
    jit: bool = False


class BuildSpec(Model):
    profile: ProfileName = "fast"
    ca_bundle: NonEmptyText | None = None
    profiles: dict[ProfileName, ProfileSpec] = {"release": ProfileSpec(), "fast": ProfileSpec()}

    @model_validator(mode="after")
    def _profile_defined(self) -> Self:
        faults: list[tuple[KeyPath, str, object]] = []
        if self.profile not in self.profiles:
            choices = ", ".join(self.profiles) or "none defined"
            faults.append((("profile",), f"{self.profile!r} is not a profile; choose one of {choices}", self.profile))
        faults += [
            (
                ("profiles", name, "configure", position),
                f"{option} says how to build the JIT, and this profile has jit: true, which builds it in and off "
                "(--enable-experimental-jit=yes-off) for the minors that name their LLVM; keep one of the two",
                option,
            )
            for name, profile in self.profiles.items()
            if profile.jit
            for position, option in enumerate(profile.configure)
            if option.split("=")[0] in {"--enable-experimental-jit", "--disable-experimental-jit"}
        ]
        refuse_all("BuildSpec", faults)
        return self
