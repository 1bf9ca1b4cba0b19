"""Issue #13: the examples/poetry-app and examples/uv-app projects built as app images, their lock files honoured.

The family file extends the fixture family and selects only the project targets, so the fixture's base, runtime and
builder images are reused (`up to date`), never rebuilt; the project images are removed at the end.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyfamily import config, plan, platforms, produce, verify
from pyfamily.errors import ConfigError
from pyfamily.plan import Selection

from . import support

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROJECTS = {"poetry-app": "poetry-app", "uv-app": "uv-app"}  # target -> examples/<folder>
LOCKED = "6.0.2"  # the PyYAML both lock files pin; older than the newest release


def family_file(directory: Path, projects: dict[str, Path]) -> Path:
    lines = [f"extends: {support.FIXTURE}", "apps:"]
    for name, folder in projects.items():
        lines += [
            f"  {name}:",
            '    python: "3.13"',
            f"    project: {folder}",
            "    no_binary: [pyyaml]",
            "    user: {name: app, uid: 10001}",
            '    env: {APP_GREETING: "it\'s read-only"}',
            "    workdir: /tmp",
            f"    cmd: [{name}]",
            f"    smoke: [{name}]",
        ]
    file = directory / "projects.yaml"
    file.write_text("\n".join(lines) + "\n")
    return file


def build_projects(file: Path, work: Path) -> dict[str, Any]:
    family = plan.expand(config.load(file))
    settings = produce.Settings(jobs=1, ca_bundle=support.HOST_CA_BUNDLE, work_dir=work, cache_dir=work / "cache")
    (work / "cache" / "sources").mkdir(parents=True, exist_ok=True)
    report = produce.run(plan.select(family, Selection(names=tuple(PROJECTS))), settings, say=print)
    return {r.target.name: r for r in report.results}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("projects")
    copies = {name: Path(shutil.copytree(EXAMPLES / folder, directory / folder)) for name, folder in PROJECTS.items()}
    yield family_file(directory, copies), directory
    repository = config.load(support.FIXTURE).repository
    for name in PROJECTS:
        support.untag_image(f"{repository}:{name}")


def test_projects_build_run_read_only_as_non_root_with_locked_versions(projects, docker_client) -> None:
    file, directory = projects
    results = build_projects(file, directory / "work")
    for name, result in results.items():
        if name in PROJECTS:
            assert result.status == "built", result.detail
        else:
            assert result.status == "up to date", f"{name} of the fixture family was rebuilt"
    repository = config.load(support.FIXTURE).repository
    for name in PROJECTS:
        output = docker_client.containers.run(
            f"{repository}:{name}",
            ["sh", "-c", f'id -u; {name}; echo "$APP_GREETING"; pwd; ls /usr/share/python3/app/bin/pip || true'],
            read_only=True,
            tmpfs={"/tmp": ""},
            network_mode="none",
            remove=True,
            stderr=True,
        ).decode()
        assert output.splitlines()[0] == "10001", output
        assert f"{name}: PyYAML {LOCKED}, libyaml yes" in output  # the locked version, compiled against libyaml
        assert "it's read-only" in output and "/tmp" in output
        assert "No such file" in output or "cannot access" in output  # no pip left in the venv


def test_verify_runs_the_smoke_read_only_as_the_user(projects) -> None:
    file, _ = projects
    family = plan.expand(config.load(file))
    for name in PROJECTS:
        checks = verify.verify_target(family, family[name], platforms.host())
        assert {c.name for c in checks} >= {"venv", "smoke", "smoke (--read-only)"}
        assert all(c.passed for c in checks), [(c.name, c.detail) for c in checks if not c.passed]


def test_unchanged_projects_are_up_to_date(projects) -> None:
    file, directory = projects
    results = build_projects(file, directory / "work")
    assert {name: results[name].status for name in PROJECTS} == dict.fromkeys(PROJECTS, "up to date")


def test_a_changed_source_file_rebuilds_only_its_project(projects) -> None:
    file, directory = projects
    source = directory / "uv-app" / "src" / "uv_app" / "__init__.py"
    source.write_text(source.read_text() + "# changed\n")
    results = build_projects(file, directory / "work")
    assert results["uv-app"].status == "built" and results["poetry-app"].status == "up to date"


def test_a_project_without_its_lock_is_refused(projects) -> None:
    file, directory = projects
    lock = directory / "uv-app" / "uv.lock"
    saved = lock.read_bytes()
    lock.unlink()
    try:
        with pytest.raises(ConfigError, match=r"has no uv\.lock"):
            build_projects(file, directory / "work")
    finally:
        lock.write_bytes(saved)
