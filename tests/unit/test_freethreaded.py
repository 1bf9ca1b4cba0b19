"""Free-threaded Pythons (`python.freethreaded`): the schema's rules, the targets and tags they give, how a
--version selects them, and what the build stage's template is told. No engine needed."""

from pathlib import Path

import pytest

from pyfamily import config, plan, render
from pyfamily.model import Family
from pyfamily.plan import Selection

from .families import MINIMAL, SHA
from .test_config_rules import refused

SHA_314 = "de414a57119abef52784d8993e341d53aed635fc2b05c2607d9f98a2c5b72032"
FAMILY = f"""repository: owner/python
python:
  default: "3.13"
  versions:
    "3.12": {{version: 3.12.13, sha256: {SHA}}}
    "3.13": {{version: 3.13.15, sha256: {SHA}}}
    "3.14": {{version: 3.14.10, sha256: {SHA_314}}}
  freethreaded: ["3.14"]
apps:
  spin:
    python: "3.14t"
    requirements: [tool]
    cmd: [tool]
    smoke: [tool]
"""


@pytest.fixture
def family(tmp_path: Path) -> Family:
    (tmp_path / "family.yaml").write_text(FAMILY)
    return plan.expand(config.load(tmp_path / "family.yaml"))


def test_each_free_threaded_python_follows_its_minor(family) -> None:
    assert family.config.pythons == ["3.12", "3.13", "3.14", "3.14t"]
    assert family.config.minors == ["3.12", "3.13", "3.14"]  # the releases: one tarball for 3.14 and 3.14t
    assert family.config.release("3.14t") is family.config.python.versions["3.14"]


def test_the_t_images_and_their_tags(family) -> None:
    assert family["3.14t"].tags == ("3.14t", "3.14t-trixie", "3.14.10t", "3.14.10t-trixie")
    assert family["3.14t"].uses == {"from": "base", "cpython": "cpython-3.14t"}
    assert family["cpython-3.14t"].ref.endswith(":cpython-3.14.10t-fast")
    assert family["builder-3.14t"].pythons == ("3.14t",)
    assert family["all"].pythons == ("3.12", "3.13", "3.14", "3.14t")
    assert family["spin"].uses == {"from": "3.14t", "builder": "builder-3.14t"}


def test_a_version_selects_its_free_threaded_build_too_and_t_alone_only_that(family) -> None:
    both = {t.name for t in plan.select(family, Selection(versions=("3.14",), apps=False)).targets}
    assert {"3.14", "3.14t", "cpython-3.14", "cpython-3.14t"} <= both
    alone = {t.name for t in plan.select(family, Selection(versions=("3.14t",))).targets}
    assert alone == {"base", "cpython-3.14t", "3.14t", "3.14t-distroless", "builder-3.14t", "spin"}


def test_the_build_stage_installs_pip_for_free_threaded_pythons_first(family, tmp_path) -> None:
    # pip --altinstall writes pip3.14 for 3.14t too: the t one first, renamed, so 3.14's own pip3.14 is kept
    dockerfile = render.render(family, family["all"], tmp_path / "all").dockerfile.read_text()
    assert "for minor in 3.14t 3.12 3.13 3.14; do" in dockerfile
    assert "COPY --from=owner/python:cpython-3.14.10t-fast /usr/local/ /usr/local/" in dockerfile


@pytest.mark.parametrize(
    ("listed", "key", "fragment"),
    [
        ('["3.12"]', "[0]", "has no free-threaded build"),
        ('["3.11"]', "[0]", "is not in the matrix"),
        ('["3.13", "3.13"]', "[1]", "listed twice"),
        ('["3.13t"]', "[0]", "a minor version"),
    ],
)
def test_freethreaded_minors_are_checked(tmp_path, listed, key, fragment) -> None:
    text = MINIMAL.replace('    "3.13": {', '    "3.12": {version: 3.12.13, sha256: ' + SHA + '}\n    "3.13": {')
    text += f"  freethreaded: {listed}\n"
    refused(tmp_path, text, f"python.freethreaded{key}", f"freethreaded: {listed}", fragment)


def test_an_app_on_a_t_python_that_is_not_built_is_refused(tmp_path) -> None:
    text = (
        MINIMAL + 'apps:\n  tool:\n    python: "3.13t"\n    requirements: [tool]\n    cmd: [tool]\n    smoke: [tool]\n'
    )
    refused(tmp_path, text, "apps.tool.python", '"3.13t"', "is not in the matrix", "3.13")
