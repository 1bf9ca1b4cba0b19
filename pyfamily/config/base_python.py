"""What every image is built on: `base` (a Debian bootstrap or an image), `sources` (where CPython's tarballs come
from) and `python` (the matrix of CPython releases, each pinned by its sha256)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from pyfamily.config.paths import KeyPath
from pyfamily.config.strict import Model
from pyfamily.config.values import (
    DebianPackage,
    DebianSuite,
    FullVersion,
    HttpUrl,
    ImageRef,
    Minor,
    ModuleName,
    Sha256,
    Tarball,
    refusal,
    refuse_all,
)


class DebianBootstrap(Model):
    suite: DebianSuite = "trixie"
    mirror: HttpUrl | None = None
    packages: list[DebianPackage] = []


class BaseSpec(Model):
    debian: DebianBootstrap | None = None
    from_image: ImageRef | None = Field(default=None, alias="from")
    # The Debian suite of the `from:` image, for the {suite} tag placeholder only (a bootstrapped base's suite is
    # debian.suite). Needed when a tag template uses {suite}.
    suite: DebianSuite | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> Self:
        if self.debian is not None and self.from_image is not None:
            raise refusal("give either `debian:` (bootstrap with mmdebstrap) or `from:` (an image), not both")
        if self.suite is not None and self.from_image is None:
            refuse_all(
                "BaseSpec",
                [
                    (
                        ("suite",),
                        "`suite:` names the Debian suite of a `from:` image; a bootstrapped base's suite is "
                        "`debian.suite`, so remove `suite:` or start base `from:` an image",
                        self.suite,
                    )
                ],
            )
        return self

    @property
    def debian_suite(self) -> str | None:
        """The Debian suite of base: the bootstrapped one, or what `suite:` says a `from:` image is (else None)."""
        bootstrap = self.bootstrap
        return bootstrap.suite if bootstrap is not None else self.suite

    @property
    def bootstrap(self) -> DebianBootstrap | None:
        """The Debian bootstrap settings, or None when base starts from an image."""
        if self.from_image is not None:
            return None
        return self.debian or DebianBootstrap()


class SourcesSpec(Model):
    mirrors: list[HttpUrl] = []
    debian_archive: HttpUrl | None = None


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
