"""Configuration: load a family file (images.yaml), refusing every mistake with one paragraph naming file, key path and
line, what is wrong and what would be valid.

`rawfile` reads a file's bytes (at most 1 MiB of UTF-8, no NUL); `yamlfile` builds its data from YAML events with
bounded depth and alias expansion, keeping each key's line; `extends` lays a file over the one it extends, each value
keeping its file and line; the schema holds every rule once: `schema` (the top level, `Config`) and a module per section
(`base`, `sources`, `python`, `variants`, `all_image`, `apps`, `build`, `tags`; `registries` live in `schema`), each
model a `strict.Model` built from the types of `values`; `messages` words what the schema refuses; `paths` names key
paths and origins; `loader` puts it together (`load`, `validate`).
"""

from pyfamily.config.all_image import AllSpec
from pyfamily.config.apps import AppSpec
from pyfamily.config.base import BaseSpec, DebianBootstrap
from pyfamily.config.build import BuildSpec, ProfileSpec
from pyfamily.config.loader import CONFIG_ENV, DEFAULT_CONFIG, config_path, load, validate
from pyfamily.config.paths import KeyPath, Origin, format_key_path
from pyfamily.config.python import JitSpec, PythonSpec, PythonVersion, is_freethreaded, minor_of
from pyfamily.config.schema import Config, RegistrySpec, parse_registry
from pyfamily.config.sources import SourcesSpec
from pyfamily.config.tags import DOCKER_TAG, RESERVED_TAG_PREFIXES, TAG_FIELDS, TagsSpec
from pyfamily.config.values import PLAIN
from pyfamily.config.variants import VariantSpec

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
    "JitSpec",
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
    "is_freethreaded",
    "load",
    "minor_of",
    "parse_registry",
    "validate",
]
