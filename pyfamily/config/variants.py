"""The `variants` section: each variant's dev packages and the probe that shows they suffice."""

from __future__ import annotations

from pyfamily.config.strict import Model
from pyfamily.config.values import (
    DebianPackage,
    PipRequirement,
)


class VariantSpec(Model):
    dev_packages: list[DebianPackage]
    probe: PipRequirement
