"""CPython's JIT, built in and off: a profile asks for it (`jit: true`), a minor names the LLVM its stencils need
(`jit: {llvm: N}`); the compile stage of such a minor gets the configure option and LLVM, nothing else changes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyfamily import config, kinds, plan, render
from pyfamily.model import Family

from .families import SHA as SHA13
from .test_config_rules import refused

SHA14 = "d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8"
FAMILY = f"""repository: owner/python
python:
  default: "3.13"
  versions:
    "3.13": {{version: 3.13.15, sha256: {SHA13}}}
    "3.14": {{version: 3.14.4, sha256: {SHA14}, jit: {{llvm: 19}}}}
  freethreaded: ["3.14"]
  build_packages: [gcc, make, python3]
build:
  profiles:
    release: {{configure: [--enable-optimizations, --with-lto], jit: true}}
    fast: {{configure: []}}
"""


def expanded(tmp_path: Path, text: str, profile: str) -> Family:
    (tmp_path / "family.yaml").write_text(text)
    return plan.expand(config.load(tmp_path / "family.yaml"), profile)


def compile_step(family: Family, name: str, tmp_path: Path) -> tuple[str, str]:
    """The rendered compile stage's build packages and configure options, each as one line of words."""
    text = render.render(family, family[name], tmp_path / name).dockerfile.read_text().replace("\\\n", " ")
    packages = re.search(r'install-build-deps\.sh "\$TARGETARCH" ((?!--backports)[^\n]*)', text)
    configure = re.search(r" /staging ([^\n]*)", text)
    assert packages and configure, text
    return " ".join(packages[1].split()), " ".join(configure[1].split())


def test_the_release_profile_builds_the_jit_of_a_minor_that_names_its_llvm(tmp_path):
    packages, configure = compile_step(expanded(tmp_path, FAMILY, "release"), "cpython-3.14", tmp_path)
    assert packages == "gcc make python3 clang-19 llvm-19"  # python3 runs the stencil script: not twice
    assert configure == "--enable-optimizations --with-lto --enable-experimental-jit=yes-off"


def test_an_llvm_from_backports_adds_the_suites_backports_to_the_compile_stage_only(tmp_path):
    # 3.15 names LLVM 21, which trixie has in trixie-backports only: install-build-deps.sh adds that source.
    family = expanded(tmp_path, FAMILY.replace("jit: {llvm: 19}", "jit: {llvm: 21, backports: true}"), "release")
    step = re.compile(r'install-build-deps\.sh "\$TARGETARCH" --backports gcc make python3 clang-21 llvm-21\n')
    assert step.search(render.render(family, family["cpython-3.14"], tmp_path / "a").dockerfile.read_text())
    for name in ("cpython-3.13", "cpython-3.14t"):
        assert "--backports" not in render.render(family, family[name], tmp_path / name).dockerfile.read_text()
    plain = expanded(tmp_path, FAMILY, "release")
    assert "--backports" not in render.render(plain, plain["cpython-3.14"], tmp_path / "b").dockerfile.read_text()


@pytest.mark.parametrize(
    ("profile", "name"),
    [("release", "cpython-3.13"), ("release", "cpython-3.14t"), ("fast", "cpython-3.14")],
    ids=["a minor naming no llvm", "the free-threaded build", "a profile without jit"],
)
def test_no_jit_where_it_is_not_asked_for(tmp_path, profile, name):
    packages, configure = compile_step(expanded(tmp_path, FAMILY, profile), name, tmp_path)
    assert packages == "gcc make python3"
    assert "experimental-jit" not in configure


def test_a_minor_before_3_14_is_refused_a_jit(tmp_path):
    text = FAMILY.replace(
        '"3.13": {version: 3.13.15, sha256: ' + SHA13 + "}",
        '"3.13": {version: 3.13.15, sha256: ' + SHA13 + ", jit: {llvm: 18}}",
    )
    refused(tmp_path, text, 'python.versions."3.13".jit', "jit: {llvm: 18}", "not of Python 3.13", "3.14 and newer")


def test_an_llvm_that_is_no_major_version_is_refused(tmp_path):
    text = FAMILY.replace("jit: {llvm: 19}", "jit: {llvm: 1900}")
    refused(tmp_path, text, 'python.versions."3.14".jit.llvm', "llvm: 1900", "1900")


def test_a_profile_may_not_both_build_the_jit_and_name_a_jit_option(tmp_path):
    text = FAMILY.replace("--with-lto], jit: true", "--with-lto, --enable-experimental-jit=yes], jit: true")
    refused(tmp_path, text, "build.profiles.release.configure[2]", "experimental-jit=yes]", "keep one of the two")


@pytest.mark.parametrize(
    ("profile", "name", "built"),
    [
        ("release", "3.14", "1"),
        ("release", "3.14t", "0"),
        ("release", "3.13", "0"),
        ("fast", "3.14", "0"),
    ],
)
def test_the_runtime_checks_are_told_whether_the_jit_is_built(tmp_path, profile, name, built):
    family = expanded(tmp_path, FAMILY, profile)
    target = family[name]
    assert kinds.REGISTRY[target.kind].check_env(family, target)["JIT_BUILT"] == built
