"""The `all` section: what the build stage `all` adds beside every Python."""

from __future__ import annotations

from pyfamily.config.strict import Model
from pyfamily.config.values import (
    DebianPackage,
    PipRequirement,
)


class AllSpec(Model):
    packages: list[DebianPackage] = []
    pip_packages: list[PipRequirement] = ["pip", "setuptools", "wheel"]
    tools: list[PipRequirement] = []
