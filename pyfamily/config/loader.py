"""Load a family file: read it (rawfile, yamlfile, extends), validate it with the schema, and turn every mistake
into one ConfigError naming file, key path and line (messages)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pyfamily.config.extends import read_family
from pyfamily.config.messages import describe_errors
from pyfamily.config.paths import KeyPath, Origin
from pyfamily.config.schema import Config
from pyfamily.config.yamlfile import Document
from pyfamily.errors import ConfigError
from pyfamily.util import ROOT

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
