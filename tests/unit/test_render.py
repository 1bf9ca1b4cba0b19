"""Rendering build contexts: what each recipe writes, values quoted for the shell, and golden Dockerfiles."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from pyfamily import config, plan, render
from pyfamily.model import Family

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "family.yaml"
GOLDEN = ROOT / "tests" / "golden"
UPDATE_ENV = "PYFAMILY_UPDATE_GOLDEN"  # `make golden` sets it to rewrite tests/golden from the recipes


@pytest.fixture(scope="module")
def family() -> Family:
    return plan.expand(config.load(FIXTURE))


def rendered(family: Family, tmp_path: Path, name: str) -> str:
    return render.render(family, family[name], tmp_path / name).dockerfile.read_text()


def golden_names(family: Family) -> list[str]:
    return [target.name for target in family]


@pytest.mark.parametrize("name", golden_names(plan.expand(config.load(FIXTURE))))
def test_rendered_dockerfile_matches_golden(family, tmp_path, name):
    """tests/golden/<target>.Dockerfile is the exact text; a recipe change shows up there as a reviewable diff."""
    text = rendered(family, tmp_path, name)
    golden = GOLDEN / f"{name}.Dockerfile"
    if os.environ.get(UPDATE_ENV):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.is_file(), f"no golden file for {name}: run `make golden`"
    assert text == golden.read_text(), f"{name} renders differently from {golden}: review, then `make golden`"


def test_no_golden_file_is_left_over(family):
    assert sorted(p.stem for p in GOLDEN.glob("*.Dockerfile")) == sorted(golden_names(family))


def test_base_context_carries_the_helpers_executable(family, tmp_path):
    text = rendered(family, tmp_path, "base")
    assert "FROM pyfamily-test/python:rootfs-trixie" in text
    assert 'COPY ["apt-install", "wait-for-port", "find-libdeps", "unpack-debs", "/usr/local/bin/"]' in text
    for helper in ("apt-install", "wait-for-port", "find-libdeps"):
        assert (tmp_path / "base" / helper).stat().st_mode & 0o111
    assert not (tmp_path / "base" / "checks").exists()  # checks are for verify, not the image


def test_cpython_checks_its_pin_and_uses_the_profile(tmp_path):
    release = plan.expand(config.load(FIXTURE), "release")
    text = rendered(release, tmp_path, "cpython-3.11")
    assert (
        "'2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849  /usr/src/Python-3.11.2.tgz' "
        "| sha256sum --check --strict"
    ) in text
    assert "/staging --enable-optimizations --with-lto\n" in text
    assert (tmp_path / "cpython-3.11" / "build-python.sh").exists()


def test_download_steps_mount_the_ca_bundle_as_a_secret(family, tmp_path):
    for name in ("builder-3.13", "3.13-pillow", "uv"):
        steps = rendered(family, tmp_path, name).replace("\\\n", " ").splitlines()
        downloads = [step for step in steps if "pip install" in step]
        assert downloads, name
        for step in downloads:
            assert step.startswith("RUN --mount=type=secret,id=ca-bundle,target=/etc/ssl/certs/ca-certificates.crt")


def test_app_context_declares_its_runtime_contract(family, tmp_path):
    text = rendered(family, tmp_path, "uv")
    assert "FROM pyfamily-test/python:builder-3.13 AS build" in text
    assert "FROM pyfamily-test/python:3.13\n" in text
    assert 'ENTRYPOINT ["uv"]' in text and 'CMD ["--help"]' in text
    assert (tmp_path / "uv" / "requirements.txt").read_text() == "uv\n"


def run_words(command: str) -> list[str]:
    """What a shell would pass as arguments after expanding the rendered text."""
    done = subprocess.run(
        ["sh", "-c", f'for w in {command}; do printf "%s\\n" "$w"; done'], capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize("value", ["setuptools>=70", "x; touch /p", "$(id)", "a b", "it's", "`x`", "-"])
def test_sh_filter_keeps_every_value_one_word(value):
    assert run_words(render.shell_words(value)) == [value]
    assert run_words(render.shell_words([value, "plain"])) == [value, "plain"]
    assert shlex.split(render.shell_words([value])) == [value]


def test_exec_form_is_json():
    assert render.exec_form(["/data", 'a"b', 80]) == '["/data", "a\\"b", "80"]'
