"""`runtime: distroless` apps built for real: a uv project whose PyYAML is compiled from source against libyaml and a
requirements app, each on the fixture family's 3.13-distroless, run read-only as nonroot with no shell; the
package the venv loads (libyaml-0-2) is unpacked into the image with its status.d record; verify passes.

The family file extends the fixture family and selects only these apps: base, the build stage and the shell-less
runtime are the fixture's own (built once, then up to date). The app images are removed at the end.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest

from pyfamily import config, plan, platforms, produce, verify
from pyfamily.model import Family
from pyfamily.plan import Selection

from . import support

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROJECT, REQUIREMENTS = "uv-app-distroless", "yaml-distroless"
RECORDS = "var/lib/dpkg/status.d/"


def family_file(directory: Path, project: Path) -> Path:
    file = directory / "distroless-apps.yaml"
    file.write_text(
        f"extends: {support.FIXTURE}\n"
        "apps:\n"
        f"  {PROJECT}:\n"
        '    python: "3.13"\n'
        "    runtime: distroless\n"
        f"    project: {project}\n"
        "    no_binary: [pyyaml]\n"
        "    commands: [uv-app]\n"
        "    cmd: [uv-app]\n"
        "    smoke: [uv-app]\n"
        f"  {REQUIREMENTS}:\n"
        '    python: "3.13"\n'
        "    runtime: distroless\n"
        "    requirements: [pyyaml]\n"
        "    cmd: [python3]\n"
        "    smoke: [python3, -c, \"import yaml; print(yaml.safe_load('a: 1'))\"]\n"
    )
    return file


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory, docker_client) -> Iterator[Family]:
    directory = tmp_path_factory.mktemp("distroless-apps")
    project = Path(shutil.copytree(ROOT / "examples" / "uv-app", directory / "uv-app"))
    family = plan.expand(config.load(family_file(directory, project)))
    work = directory / "work"
    settings = produce.Settings(jobs=1, ca_bundle=support.HOST_CA_BUNDLE, work_dir=work, cache_dir=work / "cache")
    (work / "cache" / "sources").mkdir(parents=True, exist_ok=True)
    try:
        report = produce.run(plan.select(family, Selection(names=(PROJECT, REQUIREMENTS))), settings, say=print)
        statuses = {r.target.name: (r.status, r.detail) for r in report.results}
        assert statuses[PROJECT][0] == statuses[REQUIREMENTS][0] == "built", statuses
        yield family
    finally:
        for name in (PROJECT, REQUIREMENTS):
            with contextlib.suppress(docker.errors.APIError):
                support.client().images.remove(family[name].ref, force=True)


def run(ref: str, command: list[str]) -> tuple[int, str]:
    """`command` (no shell) in a fresh read-only, offline container of the image, as its default user."""
    container = support.client().containers.run(
        ref, command, detach=True, network_mode="none", read_only=True, tmpfs={"/tmp": ""}
    )
    try:
        status = container.wait(timeout=300)
        return status["StatusCode"], container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


def test_the_project_runs_read_only_as_nonroot_with_its_compiled_pyyaml(family) -> None:
    ref = family[PROJECT].ref
    assert run(ref, ["uv-app"]) == (0, "uv-app: PyYAML 6.0.2, libyaml yes\n")
    code, output = run(ref, ["python3", "-c", "import os; print(os.getuid(), os.path.exists('/bin/sh'))"])
    assert (code, output) == (0, "65532 False\n")


def test_the_library_the_venv_loads_is_unpacked_with_its_record(family) -> None:
    files = dict(support.files_of(family[PROJECT].ref))
    records = {name.removeprefix(RECORDS) for name in files if name.startswith(RECORDS)}
    assert {"libyaml-0-2", "libyaml-0-2.md5sums", "libc6"} <= records
    assert any(name.startswith("usr/lib/") and "/libyaml-0.so" in name for name in files)
    assert "usr/share/python3/app/pkgdeps.txt" in files
    # nothing the shell-less runtime already had was unpacked again: libc6's files come from it alone
    runtime = {name for name, _ in support.files_of(family["3.13-distroless"].ref)}
    assert records - {name.removeprefix(RECORDS) for name in runtime if name.startswith(RECORDS)} == {
        "libyaml-0-2",
        "libyaml-0-2.md5sums",
    }


def test_verify_passes_on_both_apps_with_no_shell_to_run_checks_with(family) -> None:
    for name in (PROJECT, REQUIREMENTS):
        checks = verify.verify_target(family, family[name], platforms.host())
        assert [(c.name, c.passed, c.detail) for c in checks] == [
            ("smoke", True, ""),
            ("smoke (--read-only)", True, ""),
        ], name


def test_the_requirements_app_runs_as_nonroot(family) -> None:
    ref = family[REQUIREMENTS].ref
    assert run(ref, ["python3", "-c", "import os, yaml; print(os.getuid(), yaml.__name__)"]) == (0, "65532 yaml\n")
    assert support.client().images.get(ref).attrs["Config"]["User"] == "65532:65532"
