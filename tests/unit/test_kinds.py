"""The recipe registry: a kind is one Recipe plus one folder; this test adds a `debug` runtime from outside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyfamily import cli, config, kinds, plan, render
from pyfamily.config import Config
from pyfamily.kinds import Draft, Index, Recipe
from pyfamily.kinds.recipe import python_env
from pyfamily.model import FROM, Target

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "images.yaml"


def debug_targets(config: Config, profile: str, index: Index) -> list[Draft]:
    """X.Y-debug for every Python: the runtime plus gdb."""
    return [
        Draft(
            f"{minor}-debug",
            uses={FROM: index.find("runtime", python=minor)},
            python=minor,
            tag_templates=["{minor}-debug"],
            tag_fields={"minor": minor},
        )
        for minor in config.minors
    ]


@pytest.fixture
def debug_kind(tmp_path: Path) -> Iterator[Recipe]:
    folder = tmp_path / "debug"
    (folder / "checks").mkdir(parents=True)
    (folder / "Dockerfile.j2").write_text("FROM {{ parent }}\nRUN apt-install {{ ['gdb', 'python3-dbg'] | sh }}\n")
    (folder / "checks" / "gdb.sh").write_text("#!/bin/sh\n# gdb is there.\ncommand -v gdb\n")
    (folder / "gdbinit").write_text("set pagination off\n")
    recipe = kinds.register(
        Recipe(
            kind="debug",
            expand=debug_targets,
            folder=folder,
            selected_by_version=True,
            describe=lambda config, target: f"{target.parent} plus gdb",
        )
    )
    try:
        yield recipe
    finally:
        kinds.unregister("debug")


def test_a_kind_registered_from_outside_lists_plans_and_renders(debug_kind, tmp_path):
    listed = cli.list_targets(str(SHIPPED))
    assert "3.13-debug" in listed and "3.13 plus gdb" in listed
    family = plan.expand(config.load(SHIPPED))
    target = family["3.13-debug"]
    assert (target.kind, target.tags, target.ref) == ("debug", ("3.13-debug",), "pyfamily/python:3.13-debug")
    chosen = plan.select(family, plan.Selection(versions=("3.13",), variants=("plain",), apps=False))
    assert [t.name for t in chosen.levels[-1]] == ["3.13-debug"]
    assert chosen.reasons["3.13-debug"] == "its Python is 3.13 (--version)"
    context = render.render(family, target, tmp_path / "out")
    text = context.dockerfile.read_text()
    assert "FROM pyfamily/python:3.13\nARG SOURCE_DATE_EPOCH\nRUN apt-install gdb python3-dbg\n" in text
    assert (context.directory / "gdbinit").is_file() and not (context.directory / "checks").exists()
    assert [p.name for p in debug_kind.check_scripts()] == ["apt-lists-empty.sh", "helpers-on-path.sh", "gdb.sh"]
    assert python_env(family, target)["PYTHON_MINOR"] == "3.13"


def test_registering_a_kind_twice_is_refused(debug_kind):
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register(debug_kind)


def test_every_shipped_kind_has_its_folder_and_template():
    for recipe in kinds.REGISTRY.values():
        assert (recipe.path / "Dockerfile.j2").is_file(), recipe.kind


def test_check_scripts_are_beside_the_recipes():
    scripts = {recipe.kind: [p.stem for p in recipe.check_scripts()] for recipe in kinds.REGISTRY.values()}
    assert scripts["cpython"] == []  # FROM scratch: nothing to run
    assert scripts["distroless"] == []  # no shell: its checks are a Python program, run as its smoke command
    assert scripts["runtime"] == [
        "apt-lists-empty",
        "helpers-on-path",
        "free-threading",
        "imports",
        "jit",
        "no-compiler-no-pip",
        "no-dev-packages",
        "venv",
    ]
    assert scripts["runtime-variant"] == scripts["runtime"]
    assert "compiler" in scripts["all"] and "compiler" in scripts["builder-variant"]
    assert scripts["app"] == ["apt-lists-empty", "helpers-on-path"]


def test_describe_covers_every_target():
    family = plan.expand(config.load(SHIPPED))
    for target in family:
        assert isinstance(target, Target)
        assert cli.purpose(family, target)


def test_bootstrap_archive_is_the_environment_then_the_family_file(monkeypatch, tmp_path):
    from pyfamily.kinds.base import MIRROR_ENV, debian_mirror

    monkeypatch.delenv(MIRROR_ENV, raising=False)
    shipped = config.load(SHIPPED)
    assert debian_mirror(shipped) is None  # mmdebstrap's own default archive, as images.yaml says
    with_mirror = tmp_path / "family.yaml"
    with_mirror.write_text(f"extends: {SHIPPED}\nbase:\n  debian: {{suite: trixie, mirror: 'http://m.test/debian'}}\n")
    assert debian_mirror(config.load(with_mirror)) == "http://m.test/debian"
    monkeypatch.setenv(MIRROR_ENV, "http://env.test/debian")
    assert debian_mirror(config.load(with_mirror)) == "http://env.test/debian"
    assert debian_mirror(shipped) == "http://env.test/debian"
