"""Issue #23: a free-threaded Python (`python.freethreaded`) gives its own runtime, builder and apps, without the GIL.

3.14's tarball is not reachable from this machine (python.org is not, and the Debian archive's pool does not serve
it), so the test family makes 3.13, whose tarball the archive serves, free-threaded: `--disable-gil` exists from
3.13 on, and everything the family does with it is the same for 3.14t. The fixture family's base is reused; the
3.13t images are removed at the end.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyfamily import config, plan, platforms, produce, verify
from pyfamily.plan import Selection

from . import support

pytestmark = pytest.mark.integration

APP = "threads"
PROJECT = {
    "pyproject.toml": """\
[project]
name = "threads"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = []

[project.scripts]
threads = "threads:main"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
""",
    "src/threads/__init__.py": """\
import sys
import threading


def main():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(sum(i * i for i in range(200_000)))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"{sys.implementation.cache_tag} threads={len(seen)} gil={sys._is_gil_enabled()}")
""",
}


def family_file(directory: Path) -> Path:
    project = directory / APP
    for name, text in PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    uv = Path(sys.executable).with_name("uv")
    subprocess.run([uv, "lock", "--offline", "--python", sys.executable], cwd=project, check=True)
    lines = [
        f"extends: {support.FIXTURE}",
        "python:",
        '  freethreaded: ["3.13"]',
        "apps:",
        f"  {APP}:",
        '    python: "3.13t"',
        f"    project: {project}",
        f"    cmd: [{APP}]",
        f"    smoke: [{APP}]",
    ]
    file = directory / "freethreaded.yaml"
    file.write_text("\n".join(lines) + "\n")
    return file


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Any]]]:
    directory = tmp_path_factory.mktemp("freethreaded")
    family = plan.expand(config.load(family_file(directory)))
    work = directory / "work"
    settings = produce.Settings(jobs=1, ca_bundle=support.HOST_CA_BUNDLE, work_dir=work, cache_dir=work / "cache")
    (work / "cache" / "sources").mkdir(parents=True, exist_ok=True)
    selection = Selection(versions=("3.13t",), variants=("plain",))
    report = produce.run(plan.select(family, selection), settings, say=print)
    yield family, {r.target.name: r for r in report.results}
    for name in ("3.13t", APP, "builder-3.13t", "cpython-3.13t"):  # every tag of each goes
        support.untag_image(family[name].ref)


def test_the_free_threaded_images_build_beside_the_default_ones(built) -> None:
    family, results = built
    assert {"cpython-3.13t", "3.13t", "builder-3.13t", APP} <= set(results), sorted(results)
    assert all(r.status in ("built", "up to date") for r in results.values()), {n: r.detail for n, r in results.items()}
    assert "3.13" not in results and "cpython-3.13" not in results, "--version 3.13t selected the default 3.13 too"
    assert "3.13.15t" in family["3.13t"].tags and "3.13t-trixie" in family["3.13t"].tags


def test_the_runtime_is_free_threaded_and_passes_verify(built) -> None:
    family, _ = built
    rc, output = support.run(
        family["3.13t"].ref,
        "python -c 'import sys, sysconfig; print(sys._is_gil_enabled(), sysconfig.get_config_var(\"Py_GIL_DISABLED\"))'"
        " && readlink -f /usr/local/bin/python3",
    )
    assert rc == 0 and output.split() == ["False", "1", "/usr/local/bin/python3.13t"], output
    checks = verify.verify_target(family, family["3.13t"], platforms.host())
    assert "free-threading" in {c.name for c in checks}
    assert all(c.passed for c in checks), [(c.name, c.detail) for c in checks if not c.passed]


def test_a_project_app_runs_its_threads_without_the_gil_read_only(built, docker_client) -> None:
    family, _ = built
    output = docker_client.containers.run(
        family[APP].ref, read_only=True, network_mode="none", remove=True, stderr=True
    ).decode()
    assert output.split() == ["cpython-313", "threads=4", "gil=False"], output
