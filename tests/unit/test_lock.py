"""The project's own environment is locked: requirements/lock.txt pins every dependency pyproject.toml and
requirements/tools.in name, each with hashes, so `make setup` (pip --require-hashes) installs one tested set."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "lock.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _pins() -> dict[str, list[Version]]:
    pins: dict[str, list[Version]] = {}
    for line in LOCK.read_text().splitlines():
        if match := _PIN.match(line):
            pins.setdefault(canonicalize_name(match[1]), []).append(Version(match[2]))
    return pins


def _wanted() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    tools = (ROOT / "requirements" / "tools.in").read_text().splitlines()
    lines += [line for line in tools if line.strip() and not line.startswith("#")]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("requirement", _wanted(), ids=str)
def test_every_dependency_is_pinned_in_the_lock_within_its_range(requirement):
    versions = _pins().get(canonicalize_name(requirement.name))
    assert versions, f"{requirement.name} is not in {LOCK.name}: run `make lock`"
    assert all(requirement.specifier.contains(v, prereleases=True) for v in versions), (
        f"{LOCK.name} pins {requirement.name} at {versions}, outside {requirement.specifier}: run `make lock`"
    )


def test_every_pin_carries_hashes():
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n", 1)[1])
    pinned = [block for block in blocks if _PIN.match(block)]
    assert len(pinned) == sum(len(v) for v in _pins().values()) > 20
    unhashed = [block.split()[0] for block in pinned if "--hash=sha256:" not in block]
    assert not unhashed
