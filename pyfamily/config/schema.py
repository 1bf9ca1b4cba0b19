"""The family schema: pydantic models of images.yaml, built from the constrained types, with the cross-key rules.

Every rule lives here (or in the types it uses) once: field types check one value, the validators below check what
several keys must agree on. A broken rule raises a pydantic error located at the key at fault; `messages` words it.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from pyfamily.config.paths import KeyPath, show
from pyfamily.config.tags import (
    TAG_FIELDS,
    AllTagTemplate,
    AppTagTemplate,
    BaseTagTemplate,
    DatedTagTemplate,
    DateFormat,
    PythonTagTemplate,
    public_tag_complaint,
    uses_placeholder,
)
from pyfamily.config.values import (
    PLAIN,
    AbsolutePath,
    AppName,
    CommandName,
    ConfigureOption,
    DebianPackage,
    DebianSuite,
    EnvName,
    FullVersion,
    HttpUrl,
    ImageRef,
    Minor,
    ModuleName,
    NonEmptyText,
    PackageName,
    PipRequirement,
    Port,
    ProfileName,
    ProjectPath,
    RegistryHost,
    Repository,
    Sha256,
    Tarball,
    Text,
    UserName,
    VariantName,
    VariantRef,
    refusal,
    refuse_all,
)


class Model(BaseModel):
    """Strict: no unknown keys, no type coercion (a number is not a string), immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RegistrySpec(Model):
    """A registry to push to: `ghcr.io`, or `{host: 127.0.0.1:5000, insecure: true}` (plain HTTP, a local one)."""

    host: RegistryHost
    insecure: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return {"host": data} if isinstance(data, str) else data


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


class VariantSpec(Model):
    dev_packages: list[DebianPackage]
    probe: PipRequirement


class AllSpec(Model):
    packages: list[DebianPackage] = []
    pip_packages: list[PipRequirement] = ["pip", "setuptools", "wheel"]
    tools: list[PipRequirement] = []


class UserSpec(Model):
    """The non-root user an app runs as, created in the runtime stage."""

    name: UserName
    uid: int = Field(default=10001, ge=1, le=2**31 - 2)
    gid: int | None = Field(default=None, ge=1, le=2**31 - 2)  # the uid unless given


class AppSpec(Model):
    python: Minor
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
    user: UserSpec | None = None
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
        if self.project is None:
            given = [key for key in PROJECT_ONLY if key in self.model_fields_set]
            if given:
                raise refusal(f"{', '.join(f'`{key}`' for key in given)} only apply to an app with `project`")
        return self


PROJECT_ONLY = ("installer", "lock", "extras", "groups", "no_binary", "env", "user", "workdir")


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


class Config(Model):
    repository: Repository
    registries: list[RegistrySpec] = []
    base: BaseSpec = BaseSpec()
    sources: SourcesSpec = SourcesSpec()
    python: PythonSpec
    variants: dict[VariantName, VariantSpec] = {}
    all: AllSpec = AllSpec()
    apps: dict[AppName, AppSpec] = {}
    build: BuildSpec = BuildSpec()
    tags: TagsSpec = TagsSpec()

    @property
    def minors(self) -> list[str]:
        """The Python minors of the matrix, oldest first."""
        return sorted(self.python.versions, key=lambda minor: tuple(int(p) for p in minor.split(".")))

    @model_validator(mode="after")
    def _references_and_tags(self) -> Self:
        """Apps name a Python of the matrix and a variant that exists; every public tag is valid and not reserved."""
        faults: list[tuple[KeyPath, str, object]] = self._suite_faults()
        versions = self.python.versions
        variants = [PLAIN, *self.variants]
        for name, app in self.apps.items():
            if app.python not in versions:
                choices = ", ".join(self.minors)
                faults.append(
                    (
                        ("apps", name, "python"),
                        f"{app.python!r} is not in the matrix; choose one of {choices}",
                        app.python,
                    )
                )
            elif app.variant not in variants:
                choices = ", ".join(variants)
                faults.append(
                    (
                        ("apps", name, "variant"),
                        f"{app.variant!r} is not a variant; choose one of {choices}",
                        app.variant,
                    )
                )
            else:
                fields = {"name": name, "minor": app.python, "version": versions[app.python].version}
                fields["variant"] = "" if app.variant == PLAIN else f"-{app.variant}"
                faults += self._tag_faults(("apps", name), f"the app {name!r}", "app", fields)
        for variant in self.variants:
            for minor in self.minors:
                fields = {"minor": minor, "version": versions[minor].version, "variant": f"-{variant}"}
                faults += self._tag_faults(("variants", variant), f"the variant {variant!r}", "python", fields)
            faults += self._tag_faults(
                ("variants", variant), f"the variant {variant!r}", "all", {"variant": f"-{variant}"}
            )
        refuse_all("Config", list(dict.fromkeys(faults)))
        return self

    def _suite_faults(self) -> list[tuple[KeyPath, str, object]]:
        """{suite} needs a suite: a base `from:` an image must say which one it is."""
        using = self.tags.using("suite")
        if self.base.debian_suite is not None or not using:
            return []
        shown = ", ".join(f"tags.{kind}[{index}] {show(template)}" for kind, index, template in using)
        message = (
            f"base starts `from:` an image, so {{suite}} in {shown} has no value; say which Debian suite the image "
            "is with `suite:` under base (e.g. suite: trixie; it names tags only), or remove {suite} from those "
            "tag templates"
        )
        return [(("base", "from"), message, self.base.from_image)]

    def _tag_faults(
        self, loc: KeyPath, who: str, kind: str, fields: dict[str, str]
    ) -> list[tuple[KeyPath, str, object]]:
        faults: list[tuple[KeyPath, str, object]] = []
        fields = {"suite": self.base.debian_suite or "suite", **fields}
        for index, template in enumerate(getattr(self.tags, kind)):
            tag = template.format(**{name: fields[name] for name in TAG_FIELDS[kind]})
            complaint = public_tag_complaint(tag)
            if complaint is not None:
                message = f"{who} would get (from tags.{kind}[{index}] {show(template)}) {complaint}; rename it"
                faults.append((loc, message, loc[-1]))
        return faults
