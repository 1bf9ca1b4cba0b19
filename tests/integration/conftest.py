"""Fixtures for the integration tests: the real engine and the fixture family's real images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from pyfamily.plan import Selection

from . import support
from .registries import PASSWORD, USER, Registry, serve_registry


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    try:
        client = support.client()
        client.ping()
    except docker.errors.DockerException as exc:  # a missing engine is a failure, never a skip
        pytest.fail(f"no Docker engine answers ({exc}); run scripts/dev/ensure-docker")
    return client


@pytest.fixture(scope="session")
def family_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("family")


@pytest.fixture(scope="session")
def helper_image(docker_client, family_work) -> str:
    """The fixture family's `base`: Debian trixie with the helpers on PATH (apt works in it)."""
    built = support.build_family(family_work / "base", Selection(names=("base",)))
    assert [r.status for r in built.results] in (["built"], ["up to date"]), support.summary_of(built)
    return built.ref("base")


@pytest.fixture(scope="session")
def family(docker_client, family_work) -> support.Family:
    """Every target of tests/fixtures/family.yaml, built once per test session (fast profile)."""
    return support.build_family(family_work / "all")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Debian's docker-registry on 127.0.0.1, plain HTTP, no auth."""
    with serve_registry(tmp_path_factory.mktemp("plain")) as registry:
        yield registry


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The same with htpasswd auth for registries.USER / PASSWORD."""
    with serve_registry(tmp_path_factory.mktemp("guarded"), users={USER: PASSWORD}) as registry:
        yield registry
