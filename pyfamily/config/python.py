"""The `python` section: the matrix of CPython releases, each pinned by its sha256."""

from __future__ import annotations

from typing import Self

from pydantic import field_validator, model_validator

from pyfamily.config.paths import KeyPath
from pyfamily.config.strict import Model
from pyfamily.config.values import (
    DebianPackage,
    FullVersion,
    Minor,
    ModuleName,
    Sha256,
    Tarball,
    refusal,
    refuse_all,
)


class PythonVersion(Model):
    version: FullVersion
    sha256: Sha256
    tarball: Tarball | None = None

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def filename(self) -> str:
        return self.tarball or f"Python-{self.version}.tar.xz"


class PythonSpec(Model):
    default: Minor
    versions: dict[Minor, PythonVersion]
    build_packages: list[DebianPackage] = []
    runtime_packages: list[DebianPackage] = []
    check_imports: list[ModuleName] = []

    @field_validator("versions")
    @classmethod
    def _not_empty(cls, versions: dict[str, PythonVersion]) -> dict[str, PythonVersion]:
        if not versions:
            raise refusal('the matrix is empty; list at least one Python, e.g. "3.13": {version: ..., sha256: ...}')
        return versions

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        faults: list[tuple[KeyPath, str, object]] = [
            (
                ("versions", minor, "version"),
                f"{spec.version} is not a {minor} release; the version must start with {minor}",
                spec.version,
            )
            for minor, spec in self.versions.items()
            if spec.minor != minor
        ]
        if self.default not in self.versions:
            choices = ", ".join(self.versions)
            faults.append(
                (("default",), f"{self.default!r} is not in the matrix; choose one of {choices}", self.default)
            )
        refuse_all("PythonSpec", faults)
        return self
