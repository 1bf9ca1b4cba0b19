"""The family schema: pydantic models of images.yaml, built from the constrained types, with the cross-key rules.

This module holds the top level, `Config` (with `registries`), and the rules across its sections; each section has a
module of its own (base, sources, python, variants, all_image, apps, build, tags), each model a `strict.Model`. Every
rule lives in these modules (or in the types they use) once: field types check one value, the validators check what
several keys must agree on. A broken rule raises a pydantic error located at the key at fault; `messages` words it.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, ValidationError, model_validator

from pyfamily.config.all_image import AllSpec
from pyfamily.config.apps import AppSpec
from pyfamily.config.base import BaseSpec
from pyfamily.config.build import BuildSpec
from pyfamily.config.paths import KeyPath, show
from pyfamily.config.python import PythonSpec, PythonVersion, is_freethreaded, minor_of, version_key
from pyfamily.config.sources import SourcesSpec
from pyfamily.config.strict import Model
from pyfamily.config.tags import TAG_FIELDS, TagsSpec, public_tag_complaint
from pyfamily.config.values import PLAIN, AppName, PlatformName, RegistryHost, Repository, VariantName, refuse_all
from pyfamily.config.variants import VariantSpec
from pyfamily.errors import UserError
from pyfamily.platforms import DEFAULT as DEFAULT_PLATFORMS


class RegistrySpec(Model):
    """A registry to push to: `ghcr.io`, or `{host: 127.0.0.1:5000, insecure: true}` (plain HTTP, a local one)."""

    host: RegistryHost
    insecure: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return {"host": data} if isinstance(data, str) else data


def parse_registry(text: str) -> RegistrySpec:
    """--registry HOST[:PORT] (HTTPS) or http://HOST[:PORT] (plain HTTP, e.g. a local test registry), checked
    like the family file's `registries` entries."""
    insecure = text.startswith("http://")
    host = text.removeprefix("http://").removeprefix("https://").rstrip("/")
    try:
        return RegistrySpec.model_validate({"host": host, "insecure": insecure})
    except ValidationError as exc:
        problem = exc.errors()[0].get("msg", "not a registry")
        raise UserError(f"--registry {text!r}: {problem}; give HOST[:PORT] or http://HOST[:PORT].") from None


class Config(Model):
    repository: Repository
    registries: list[RegistrySpec] = []
    # Every public image is a multi-platform index of these; a local build without --platform builds the host's.
    platforms: list[PlatformName] = Field(default=list(DEFAULT_PLATFORMS), min_length=1)
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
        """The Python minors of the matrix, oldest first: the releases the family pins."""
        return sorted(self.python.versions, key=version_key)

    @property
    def pythons(self) -> list[str]:
        """Every Python the family builds, oldest first, each free-threaded one ("3.14t") after its minor."""
        free = set(self.python.freethreaded)
        return [python for minor in self.minors for python in (minor, f"{minor}t") if python == minor or minor in free]

    def release(self, python: str) -> PythonVersion:
        """The pinned release a Python of the family ("3.14" or "3.14t") is compiled from."""
        return self.python.versions[minor_of(python)]

    def full_version(self, python: str) -> str:
        """The full version as tags spell it: "3.14.2", or "3.14.2t" for the free-threaded build."""
        return self.release(python).version + ("t" if is_freethreaded(python) else "")

    @model_validator(mode="after")
    def _references_and_tags(self) -> Self:
        """Apps name a Python of the matrix and a variant that exists; every public tag is valid and not reserved."""
        faults: list[tuple[KeyPath, str, object]] = self._suite_faults()
        variants = [PLAIN, *self.variants]
        for name, app in self.apps.items():
            if app.python not in self.pythons:
                choices = ", ".join(self.pythons)
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
                fields = {"name": name, "minor": app.python, "version": self.full_version(app.python)}
                fields["variant"] = "" if app.variant == PLAIN else f"-{app.variant}"
                faults += self._tag_faults(("apps", name), f"the app {name!r}", "app", fields)
        for variant in self.variants:
            for python in self.pythons:
                fields = {"minor": python, "version": self.full_version(python), "variant": f"-{variant}"}
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
