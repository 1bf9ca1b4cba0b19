"""Configuration: load images.yaml, refuse every mistake with a message naming file, key path and line."""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from pyfamily.errors import ConfigError

CONFIG_ENV = "PYFAMILY_CONFIG"
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "images.yaml"
PLAIN = "plain"

KeyPath = tuple[str | int, ...]

Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Minor = Annotated[str, StringConstraints(pattern=r"^\d+\.\d+$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]
FullVersion = Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+((a|b|rc)\d+)?$")]
AbsolutePath = Annotated[str, StringConstraints(pattern=r"^/")]
# A Docker repository path: lowercase components separated by "/", no registry host and no tag.
_COMPONENT = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
Repository = Annotated[str, StringConstraints(pattern=rf"^{_COMPONENT}(?:/{_COMPONENT})*$")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


class DebianBootstrap(Model):
    suite: NonEmptyStr = "trixie"
    mirror: NonEmptyStr | None = None
    packages: list[NonEmptyStr] = []


class BaseSpec(Model):
    debian: DebianBootstrap | None = None
    from_image: NonEmptyStr | None = Field(default=None, alias="from")

    @model_validator(mode="after")
    def _one_origin(self) -> BaseSpec:
        if self.debian is not None and self.from_image is not None:
            raise ValueError("give either `debian:` (bootstrap with mmdebstrap) or `from:` (an image), not both")
        return self

    @property
    def bootstrap(self) -> DebianBootstrap | None:
        """The Debian bootstrap settings, or None when base starts from an image."""
        if self.from_image is not None:
            return None
        return self.debian or DebianBootstrap()


class SourcesSpec(Model):
    mirrors: list[NonEmptyStr] = []
    debian_archive: NonEmptyStr | None = None


class PythonVersion(Model):
    version: FullVersion
    sha256: Sha256
    tarball: NonEmptyStr | None = None

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def filename(self) -> str:
        return self.tarball or f"Python-{self.version}.tar.xz"


class PythonSpec(Model):
    default: Minor
    versions: dict[str, PythonVersion]
    build_packages: list[NonEmptyStr] = []
    runtime_packages: list[NonEmptyStr] = []
    check_imports: list[NonEmptyStr] = []


class VariantSpec(Model):
    dev_packages: list[NonEmptyStr]
    probe: NonEmptyStr


class AllSpec(Model):
    packages: list[NonEmptyStr] = []
    pip_packages: list[NonEmptyStr] = ["pip", "setuptools", "wheel"]
    tools: list[NonEmptyStr] = []


class AppSpec(Model):
    python: str
    variant: str = PLAIN
    requirements: list[NonEmptyStr] = Field(min_length=1)
    entrypoint: list[NonEmptyStr] | None = None
    cmd: list[NonEmptyStr] | None = None
    ports: list[Port] = []
    volumes: list[AbsolutePath] = []
    smoke: list[NonEmptyStr] = Field(min_length=1)
    commands: list[NonEmptyStr] | None = None

    @model_validator(mode="after")
    def _runs_something(self) -> AppSpec:
        if not self.entrypoint and not self.cmd:
            raise ValueError("an app needs `entrypoint`, `cmd` or both")
        return self


class ProfileSpec(Model):
    configure: list[NonEmptyStr] = []


class BuildSpec(Model):
    profile: str = "fast"
    ca_bundle: NonEmptyStr | None = None
    profiles: dict[str, ProfileSpec] = {"release": ProfileSpec(), "fast": ProfileSpec()}


class TagsSpec(Model):
    base: list[NonEmptyStr] = Field(default=["base"], min_length=1)
    python: list[NonEmptyStr] = Field(default=["{minor}{variant}", "{version}{variant}"], min_length=1)
    all: list[NonEmptyStr] = Field(default=["all{variant}"], min_length=1)
    app: list[NonEmptyStr] = Field(default=["{name}"], min_length=1)
    dated: NonEmptyStr = "{tag}-{date}"
    date_format: NonEmptyStr = "%Y%m%d"


class Config(Model):
    repository: Repository
    registries: list[NonEmptyStr] = []
    base: BaseSpec = BaseSpec()
    sources: SourcesSpec = SourcesSpec()
    python: PythonSpec
    variants: dict[str, VariantSpec] = {}
    all: AllSpec = AllSpec()
    apps: dict[str, AppSpec] = {}
    build: BuildSpec = BuildSpec()
    tags: TagsSpec = TagsSpec()

    @property
    def minors(self) -> list[str]:
        """The Python minors of the matrix, oldest first."""
        return sorted(self.python.versions, key=lambda minor: tuple(int(p) for p in minor.split(".")))


# Placeholders each tag list may use; checked so a typo fails at load time, not at build time.
TAG_FIELDS: dict[str, set[str]] = {
    "base": set(),
    "python": {"minor", "version", "variant"},
    "all": {"variant"},
    "app": {"name", "minor", "version", "variant"},
    "dated": {"tag", "date"},
}


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The file to load: --config, else $PYFAMILY_CONFIG, else the images.yaml shipped beside the package."""
    chosen = explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    return Path(chosen)


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read, parse and validate a family file; every mistake becomes one ConfigError."""
    file = config_path(path)
    data, lines = _read(file, seen=())
    return validate(data, file, lines)


def _read(file: Path, seen: tuple[Path, ...]) -> tuple[Any, dict[KeyPath, int]]:
    """Parse a family file and, when it says `extends: OTHER`, lay it over OTHER (a path relative to it).

    Each top-level section of the file is merged key by key into the same section of OTHER; the value of a
    key replaces OTHER's whole. So `python: {versions: {...}}` swaps the matrix and keeps the build packages."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the configuration file ({exc.strerror}).") from None
    data, lines = _parse_yaml(text, file)
    if not isinstance(data, dict) or "extends" not in data:
        return data, lines
    parent_name = data.pop("extends")
    if not isinstance(parent_name, str):
        raise ConfigError(f"{file}: extends (line {lines[('extends',)]}): give the path of another family file.")
    parent_file = (file.parent / parent_name).resolve()
    if parent_file in seen or parent_file == file.resolve():
        raise ConfigError(f"{file}: extends (line {lines[('extends',)]}): {parent_name} extends this file again.")
    parent, _ = _read(parent_file, (*seen, file.resolve()))
    if not isinstance(parent, dict):
        raise ConfigError(f"{file}: extends: {parent_file} is not a family file (a mapping).")
    return _overlay(parent, data), lines


def _overlay(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = dict(parent)
    for section, value in child.items():
        if isinstance(value, dict) and isinstance(parent.get(section), dict):
            merged[section] = {**parent[section], **value}
        else:
            merged[section] = value
    return merged


def validate(data: Any, file: Path, lines: dict[KeyPath, int] | None = None) -> Config:
    """Validate already-parsed data; `lines` maps key paths to line numbers for the messages."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the file must be a mapping with at least `repository` and `python`.")
    raw_faults = [_describe(loc, message, lines) for loc, message in _raw_faults(data)]
    if raw_faults:
        raise ConfigError(_paragraph(file, raw_faults))
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        faults = [_describe(tuple(err["loc"]), _explain(err), lines) for err in exc.errors()]
        raise ConfigError(_paragraph(file, faults)) from None
    faults = [_describe(loc, message, lines) for loc, message in _semantic_faults(config)]
    if faults:
        raise ConfigError(_paragraph(file, faults))
    return config


def _paragraph(file: Path, faults: list[str]) -> str:
    if len(faults) == 1:
        return f"{file}: {faults[0]}"
    return f"{file} has {len(faults)} mistakes: " + "; ".join(faults)


def _describe(loc: KeyPath, message: str, lines: dict[KeyPath, int]) -> str:
    where = format_key_path(loc) or "(top level)"
    line = _nearest_line(loc, lines)
    at_line = f" (line {line})" if line else ""
    return f"{where}{at_line}: {message}"


def format_key_path(loc: KeyPath) -> str:
    """`python.versions."3.11".sha256`: dotted, quoting keys that contain dots; list indexes as [N]."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = f'"{part}"' if "." in part or not part else part
            out += f".{text}" if out else text
    return out


def _nearest_line(loc: KeyPath, lines: dict[KeyPath, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _explain(err: dict[str, Any]) -> str:
    """Turn one pydantic error into words a maintainer can act on."""
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return "unknown key (a typo?); see the keys documented in images.yaml and pyfamily/config.py"
    if kind == "missing":
        return "this key is required"
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        return f"{value!r} is not valid here; {_PATTERN_HINTS.get(pattern, f'it must match {pattern}')}"
    if kind.endswith("_type") or kind in {"model_type", "dict_type", "list_type"}:
        expected = _TYPE_WORDS.get(kind.removesuffix("_type"), kind.removesuffix("_type"))
        return f"expected {expected}, got {_TYPE_WORDS.get(type(value).__name__, type(value).__name__)} {value!r}"
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    return f"{err['msg']} (got {value!r})"


_TYPE_WORDS = {
    "int": "an integer", "str": "a string", "string": "a string", "list": "a list", "dict": "a mapping",
    "model": "a mapping", "bool": "true or false", "float": "a number", "NoneType": "nothing (null)",
}

_PATTERN_HINTS = {
    Sha256.__metadata__[0].pattern: "a sha256 is 64 lowercase hexadecimal digits",
    Minor.__metadata__[0].pattern: 'a minor version is written like "3.13" (quoted)',
    Name.__metadata__[0].pattern: "use lowercase letters, digits, '.', '_' and '-'",
    Repository.__metadata__[0].pattern: "a repository is lowercase path components like owner/python, "
    "without a registry host or tag",
    FullVersion.__metadata__[0].pattern: "a full version is written like 3.13.15",
    AbsolutePath.__metadata__[0].pattern: "a volume is an absolute path",
}


def _raw_faults(data: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Mistakes that YAML typing hides from the models: unquoted minor versions become numbers."""
    python = data.get("python")
    versions = python.get("versions") if isinstance(python, dict) else None
    for key in versions if isinstance(versions, dict) else ():
        if not isinstance(key, str):
            yield (("python", "versions", str(key)), f'write the minor version as a quoted string ("{key}"): '
                   "YAML reads an unquoted 3.10 as the number 3.1")
    if isinstance(python, dict) and isinstance(python.get("default"), float):
        yield ("python", "default"), f'write the default as a quoted string ("{python["default"]}")'
    for name, app in (data.get("apps") or {}).items() if isinstance(data.get("apps"), dict) else ():
        if isinstance(app, dict) and isinstance(app.get("python"), float):
            yield ("apps", name, "python"), f'write the Python as a quoted string ("{app["python"]}")'


def _semantic_faults(config: Config) -> Iterator[tuple[KeyPath, str]]:
    """Cross-key rules that the per-field models cannot express."""
    versions = config.python.versions
    if not versions:
        yield ("python", "versions"), "the matrix is empty; list at least one Python, e.g. \"3.13\""
    for minor, spec in versions.items():
        if not re.fullmatch(r"\d+\.\d+", minor):
            yield ("python", "versions", minor), f'{minor!r} is not a minor version like "3.13"'
        elif spec.minor != minor:
            yield (("python", "versions", minor, "version"),
                   f"{spec.version} is not a {minor} release; the full version must start with {minor}.")
    if versions and config.python.default not in versions:
        choices = _listing(versions)
        yield ("python", "default"), f"{config.python.default!r} is not in the matrix; choose one of {choices}"
    if PLAIN in config.variants:
        yield ("variants", PLAIN), f"{PLAIN!r} is reserved for images without a variant; choose another name"
    for variant in config.variants:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", variant):
            yield ("variants", variant), "a variant name is lowercase letters, digits and '-'"
    for name, app in config.apps.items():
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
            yield ("apps", name), "an app name is lowercase letters, digits, '.', '_' and '-'"
        if app.python not in versions:
            yield ("apps", name, "python"), f"{app.python!r} is not in the matrix; choose one of {_listing(versions)}"
        if app.variant != PLAIN and app.variant not in config.variants:
            valid = _listing([PLAIN, *config.variants])
            yield ("apps", name, "variant"), f"{app.variant!r} is not a variant; choose one of {valid}"
    if config.build.profile not in config.build.profiles:
        profiles = _listing(config.build.profiles)
        yield ("build", "profile"), f"{config.build.profile!r} is not a profile; choose one of {profiles}"
    yield from _tag_template_faults(config.tags)


def _tag_template_faults(tags: TagsSpec) -> Iterator[tuple[KeyPath, str]]:
    for kind, allowed in TAG_FIELDS.items():
        templates = getattr(tags, kind)
        for index, template in enumerate([templates] if isinstance(templates, str) else templates):
            loc: KeyPath = ("tags", kind) if isinstance(templates, str) else ("tags", kind, index)
            try:
                used = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
            except ValueError as exc:
                yield loc, f"{template!r} is not a valid template ({exc})"
                continue
            unknown = used - allowed
            if unknown:
                valid = _listing(sorted(f"{{{f}}}" for f in allowed)) if allowed else "none"
                yield loc, f"unknown placeholder {_listing(sorted(unknown))} in {template!r}; valid here: {valid}"


def _listing(items: Any) -> str:
    return ", ".join(str(item) for item in items)


def _parse_yaml(text: str, file: Path) -> tuple[Any, dict[KeyPath, int]]:
    """Parse once, keeping the line of every key so messages can point at it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(f"{file}: the file is empty; it must define at least `repository` and `python`.")
        lines: dict[KeyPath, int] = {}
        _record_lines(node, (), lines, file)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{file}{where}: not valid YAML: {problem}.") from None
    finally:
        loader.dispose()
    return data, lines


def _record_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: Path) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise ConfigError(f"{file}: {format_key_path((*path, key))} (line {key_node.start_mark.line + 1}) "
                                  "is given twice; YAML would silently keep only the last one.")
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*path, key), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines, file)
