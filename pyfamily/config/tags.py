"""The `tags` section and its rules: the placeholders each tag template may use, what makes a Docker tag, and the
prefixes kept for internals.

A template is checked by formatting it with sample values of every placeholder it may use: only plain `{name}`
placeholders are allowed (no `!r` conversions, `:d` format specs, attributes or indexes), and every result must be a tag
Docker accepts that does not start with a reserved prefix. `public_tag_complaint` applies the last two rules to the tags
the real names produce.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable
from functools import partial
from typing import Annotated

from pydantic import Field

from pyfamily.config.paths import show
from pyfamily.config.strict import Model
from pyfamily.config.values import Text, rule

# Placeholders each tag list may use; checked so a typo fails at load time, not at build time.
# {suite} is the Debian suite of base: base.debian.suite, or base.suite for a base `from:` an image (the schema
# refuses {suite} when a `from:` base does not say its suite).
TAG_FIELDS: dict[str, set[str]] = {
    "base": {"suite"},
    "python": {"minor", "version", "variant", "suite"},
    "all": {"variant", "suite"},
    "app": {"name", "minor", "version", "variant", "suite"},
    "dated": {"tag", "date"},
}
# The build's internal tags are rootfs-<suite>, cpython-<version>-<profile>, builder-<minor>[-<variant>] and
# sbom-scanner; no public tag may start like them.
RESERVED_TAG_PREFIXES = ("rootfs-", "cpython-", "builder-", "sbom-")
DOCKER_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DOCKER_TAG_WORDS = "a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"

# Sample values of every placeholder, in each shape they take (a variant is "" or "-<name>").
_SAMPLES: tuple[dict[str, str], ...] = (
    {
        "minor": "3.13",
        "version": "3.13.15",
        "variant": "",
        "name": "app",
        "suite": "trixie",
        "tag": "3.13.15",
        "date": "20000101",
    },
    {
        "minor": "3.14",
        "version": "3.14.0rc1",
        "variant": "-pillow",
        "name": "my-app",
        "suite": "bookworm-backports",
        "tag": "all-x",
        "date": "2000",
    },
)
_SAMPLE_DAYS = (dt.date(2000, 1, 1), dt.date(2099, 12, 31))


def public_tag_complaint(tag: str) -> str | None:
    """What is wrong with `tag` as a public tag, or None."""
    if not DOCKER_TAG.fullmatch(tag):
        return f"the tag {show(tag)}, which Docker rejects: {DOCKER_TAG_WORDS}"
    reserved = [prefix for prefix in RESERVED_TAG_PREFIXES if tag.startswith(prefix)]
    if reserved:
        listing = ", ".join(f"{p}..." for p in RESERVED_TAG_PREFIXES)
        return f"the tag {show(tag)}, but tags starting with {listing} are reserved for the build's internal images"
    return None


def uses_placeholder(template: str, name: str) -> bool:
    """Whether a (valid) template has the placeholder {name}."""
    return any(field == name for _, field, _, _ in string.Formatter().parse(template))


def _placeholders(allowed: Iterable[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(allowed)) or "none"


def template_complaint(template: str, kind: str) -> str | None:
    """What is wrong with a tag template of `kind` (a key of TAG_FIELDS), or None."""
    allowed = TAG_FIELDS[kind]
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return (
            f"{show(template)} is not a valid template ({exc}); write placeholders as {{name}} (valid here: "
            f"{_placeholders(allowed)}) and a literal brace as {{{{ or }}}}"
        )
    fields = [(name, spec, conversion) for _, name, spec, conversion in parts if name is not None]
    unknown = sorted({name for name, _, _ in fields if name not in allowed})
    if unknown:
        shown = ", ".join(f"{{{name}}}" for name in unknown)
        return f"unknown placeholder {shown} in {show(template)}; valid here: {_placeholders(allowed)}"
    for name, spec, conversion in fields:
        if spec or conversion:
            written = f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
            return (
                f"{written} in {show(template)} is not a plain placeholder; write {{{name}}}: conversions (!r) and "
                "format specs (:d) are not supported"
            )
    for sample in _SAMPLES:
        tag = template.format(**{name: sample[name] for name in allowed})
        complaint = public_tag_complaint(tag)
        if complaint is not None:
            values = ", ".join(f"{name}={sample[name]!r}" for name in sorted(allowed)) or "no placeholders"
            return f"{show(template)} would give ({values}) {complaint}"
    return None


def _date_format(value: str) -> str | None:
    for day in _SAMPLE_DAYS:
        try:
            date = day.strftime(value)
        except ValueError as exc:
            return f"{show(value)} is not a strftime format ({exc}); write one like %Y%m%d"
        if not date or len(date) > 32 or not re.fullmatch(r"[A-Za-z0-9_.-]+", date):
            return (
                f"{show(value)} formats {day} as {show(date)}; a date in a tag is 1 to 32 letters, digits, '_', '.' "
                "and '-' (like %Y%m%d)"
            )
    return None


DateFormat = Annotated[Text, rule(_date_format)]
BaseTagTemplate = Annotated[Text, rule(partial(template_complaint, kind="base"), "tag_template")]
PythonTagTemplate = Annotated[Text, rule(partial(template_complaint, kind="python"), "tag_template")]
AllTagTemplate = Annotated[Text, rule(partial(template_complaint, kind="all"), "tag_template")]
AppTagTemplate = Annotated[Text, rule(partial(template_complaint, kind="app"), "tag_template")]
DatedTagTemplate = Annotated[Text, rule(partial(template_complaint, kind="dated"), "tag_template")]


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
