"""Fuzzing the loader: whatever the file holds, `config.load` returns a Config or raises ConfigError, nothing else.

Three sources of files: YAML documents built from nested mappings, lists and scalars (keys often the schema's own, so
validation goes deep), random bytes, and mutations of the shipped images.yaml (as text, and as data with one value
swapped). A few hundred examples in all, a few seconds, no example database: it runs in CI on every push.
"""

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyfamily import config
from pyfamily.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_TEXT = (ROOT / "images.yaml").read_text()
SHIPPED_DATA = yaml.safe_load(SHIPPED_TEXT)
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
FUZZ = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

SCHEMA_KEYS = [
    *["repository", "registries", "base", "sources", "python", "variants", "all", "apps", "build", "tags", "extends"],
    *["debian", "from", "suite", "mirror", "packages", "mirrors", "debian_archive", "default", "versions", "version"],
    *["sha256", "tarball", "build_packages", "runtime_packages", "check_imports", "dev_packages", "probe", "tools"],
    *["pip_packages", "requirements", "entrypoint", "cmd", "smoke", "ports", "volumes", "commands", "variant"],
    *["profile", "profiles", "configure", "ca_bundle", "dated", "date_format", "app", "host", "insecure", "3.13"],
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["3.13", "3.13.15", "{minor}{variant}", "uv", "/data", "ghcr.io", "x" * 64, "--with-lto"]),
)
keys = st.one_of(st.sampled_from(SCHEMA_KEYS), st.text(max_size=8))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=40,
)
families = st.dictionaries(st.sampled_from(SCHEMA_KEYS[:10]), documents, max_size=8)


def outcome(folder: Path, content: bytes) -> config.Config | ConfigError:
    """Load `content` from a file; anything but a Config or a one-line ConfigError naming the file fails the test."""
    path = folder / "family.yaml"
    path.write_bytes(content)
    try:
        family = config.load(path)
    except ConfigError as exc:
        assert str(path) in str(exc) or "is extended by" in str(exc), str(exc)
        assert "\n" not in str(exc), str(exc)
        return exc
    for text in strings(family.model_dump()):
        assert not CONTROL.search(text), text  # nothing that could end a Dockerfile line got through
    return family


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from strings(key)
            yield from strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from strings(child)


@given(data=st.one_of(documents, families))
@FUZZ
def test_random_documents(data: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        outcome(Path(folder), yaml.safe_dump(data, allow_unicode=True).encode())


@given(content=st.binary(max_size=600))
@FUZZ
def test_random_bytes(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        assert isinstance(outcome(Path(folder), content), ConfigError)


@given(content=st.binary(max_size=200), at=st.integers(0, len(SHIPPED_TEXT)))
@FUZZ
def test_random_bytes_inside_the_shipped_file(content: bytes, at: int) -> None:
    shipped = SHIPPED_TEXT.encode()
    with tempfile.TemporaryDirectory() as folder:
        outcome(Path(folder), shipped[:at] + content + shipped[at:])


@given(
    edits=st.lists(st.tuples(st.integers(0, len(SHIPPED_TEXT)), st.integers(0, 40), st.text(max_size=6)), max_size=4)
)
@FUZZ
def test_text_mutations_of_the_shipped_file(edits: list[tuple[int, int, str]]) -> None:
    text = SHIPPED_TEXT
    for at, removed, inserted in edits:  # replace `removed` characters at `at` by `inserted`
        text = text[:at] + inserted + text[at + removed :]
    with tempfile.TemporaryDirectory() as folder:
        outcome(Path(folder), text.encode())


def key_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from key_paths(child, (*path, key))


SHIPPED_PATHS = list(key_paths(SHIPPED_DATA))[1:]


def swapped(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `data` with the value at `path` replaced."""
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = swapped(data[path[0]], path[1:], value)
    return copy


@given(path=st.sampled_from(SHIPPED_PATHS), value=documents)
@FUZZ
def test_one_value_of_the_shipped_file_swapped(path: tuple[Any, ...], value: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        outcome(Path(folder), yaml.safe_dump(swapped(SHIPPED_DATA, path, value), allow_unicode=True).encode())


def test_the_shipped_file_survives_the_round_trip_the_fuzzer_uses(tmp_path):
    assert isinstance(outcome(tmp_path, yaml.safe_dump(SHIPPED_DATA).encode()), config.Config)
