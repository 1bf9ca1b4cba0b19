"""Configuration: load a family file (images.yaml), refusing every mistake with one paragraph naming file, key path
and line, what is wrong and what would be valid.

`rawfile` reads a file's bytes (at most 1 MiB of UTF-8, no NUL); `yamlfile` builds its data from YAML events with
bounded depth and alias expansion, keeping each key's line; `extends` lays a file over the one it extends, each value
keeping its file and line; the schema holds every rule once: `schema` (the top level, `Config`) and its sections
`base_python`, `additions` and `build_tags`, each model a `strict.Model`, built from the types of `values` and `tags`;
`messages` words what the schema refuses; `paths` names key paths and origins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pyfamily.config.additions import AllSpec, AppSpec, VariantSpec
from pyfamily.config.base_python import BaseSpec, DebianBootstrap, PythonSpec, PythonVersion, SourcesSpec
from pyfamily.config.build_tags import BuildSpec, ProfileSpec, TagsSpec
from pyfamily.config.extends import read_family
from pyfamily.config.messages import describe_errors
from pyfamily.config.paths import KeyPath, Origin, format_key_path
from pyfamily.config.schema import Config, RegistrySpec
from pyfamily.config.tags import DOCKER_TAG, RESERVED_TAG_PREFIXES, TAG_FIELDS
from pyfamily.config.values import PLAIN
from pyfamily.config.yamlfile import Document
from pyfamily.errors import ConfigError
from pyfamily.util import ROOT

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "DOCKER_TAG",
    "PLAIN",
    "RESERVED_TAG_PREFIXES",
    "TAG_FIELDS",
    "AllSpec",
    "AppSpec",
    "BaseSpec",
    "BuildSpec",
    "Config",
    "DebianBootstrap",
    "KeyPath",
    "Origin",
    "ProfileSpec",
    "PythonSpec",
    "PythonVersion",
    "RegistrySpec",
    "SourcesSpec",
    "TagsSpec",
    "VariantSpec",
    "config_path",
    "format_key_path",
    "load",
    "validate",
]

CONFIG_ENV = "PYFAMILY_CONFIG"
DEFAULT_CONFIG = ROOT / "images.yaml"


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The file to load: --config, else $PYFAMILY_CONFIG, else the images.yaml shipped beside the package."""
    chosen = explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    return Path(chosen)


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read, parse and validate a family file; every mistake becomes one ConfigError."""
    file = config_path(path)
    return _checked(read_family(file))


def validate(data: Any, file: Path, lines: Mapping[KeyPath, int | Origin] | None = None) -> Config:
    """Validate already-parsed data; `lines` maps key paths to line numbers (of `file`) or origins for the messages."""
    origins = {path: at if isinstance(at, Origin) else Origin(file, at) for path, at in (lines or {}).items()}
    return _checked(Document(file, data, origins))


def _checked(document: Document) -> Config:
    if not isinstance(document.data, dict):
        raise ConfigError(f"{document.file}: the file must be a mapping with at least `repository` and `python`.")
    try:
        return Config.model_validate(document.data, context={"family_file": str(document.file)})
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, Config, document)) from None
