"""Planning: targets, selection, dependency order, levels, tags and the GitHub matrix. No engine needed."""

import datetime as dt
import json
from pathlib import Path

import pytest

from pyfamily import cli, config, plan
from pyfamily.errors import ConfigError, UserError
from pyfamily.plan import Kind, Selection

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "images.yaml"
DAY = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def family():
    return config.load(SHIPPED)


@pytest.fixture(scope="module")
def targets(family):
    return plan.expand(family, date=DAY)


def names(selected: plan.Plan) -> set[str]:
    return {t.name for t in selected.targets}


def test_every_public_target_and_its_kind(targets):
    public = {name: t.kind for name, t in targets.items() if t.public}
    assert public["base"] is Kind.BASE
    assert public["3.13"] is Kind.RUNTIME
    assert public["3.13-pillow"] is Kind.RUNTIME_VARIANT
    assert public["all"] is Kind.BUILDER
    assert public["all-pillow"] is Kind.BUILDER_VARIANT
    assert public["certbot"] is Kind.APP
    assert len(public) == 1 + 5 * 2 + 2 + 3


def test_tags_moving_and_dated(targets):
    assert targets["3.13"].tags == ("3.13", "3.13.15")
    assert targets["3.13"].dated_tag == "3.13.15-20261121"
    assert targets["3.11-pillow"].tags == ("3.11-pillow", "3.11.15-pillow")
    assert targets["3.11-pillow"].dated_tag == "3.11.15-pillow-20261121"
    assert targets["all-pillow"].local_tags == ("all-pillow", "all-pillow-20261121")
    assert targets["ipython"].local_tags == ("ipython", "ipython-20261121")
    assert targets["base"].local_tags == ("base", "base-20261121")
    assert targets["cpython-3.13"].tags == ()  # internal: never published
    assert targets["cpython-3.13"].ref == "snakepacker/python:cpython-3.13.15-fast"


def test_profile_changes_only_the_compiled_tree_reference(family):
    release = plan.expand(family, profile="release", date=DAY)
    assert release["cpython-3.13"].ref == "snakepacker/python:cpython-3.13.15-release"
    assert release["3.13"].ref == "snakepacker/python:3.13"
    with pytest.raises(UserError, match=r"'turbo' is not defined under build\.profiles"):
        plan.expand(family, profile="turbo")


def test_version_selects_its_images_and_what_they_need_but_not_all(targets):
    selected = plan.select(targets, Selection(versions=("3.11",)))
    assert names(selected) == {"base", "cpython-3.11", "3.11", "builder-3.11", "builder-3.11-pillow",
                               "3.11-pillow"}
    assert selected.reasons["3.11"].startswith("its Python is 3.11")
    assert selected.reasons["cpython-3.11"] == "needed by 3.11"
    assert "all" not in names(selected)
    assert not any(t.python not in (None, "3.11") for t in selected.targets)


def test_version_includes_apps_on_it_unless_apps_are_off(targets):
    with_apps = names(plan.select(targets, Selection(versions=("3.13",))))
    assert {"ipython", "certbot", "uv"} <= with_apps
    without = names(plan.select(targets, Selection(versions=("3.13",), apps=False)))
    assert not {"ipython", "certbot", "uv"} & without


def test_variant_filters_the_selection(targets):
    plain = names(plan.select(targets, Selection(versions=("3.13",), variants=("plain",), apps=False)))
    assert plain == {"base", "cpython-3.13", "3.13"}
    pillow = names(plan.select(targets, Selection(versions=("3.13",), variants=("pillow",))))
    assert "3.13-pillow" in pillow and "ipython" not in pillow


def test_target_all_builds_every_python(targets):
    selected = plan.select(targets, Selection(names=("all",)))
    assert names(selected) == {"base", "all"} | {f"cpython-{m}" for m in ("3.11", "3.12", "3.13", "3.14", "3.15")}
    assert selected.reasons["all"] == "named with --target all"


def test_no_selection_is_the_whole_family(targets):
    selected = plan.select(targets, Selection())
    assert {t.name for t in targets.values() if t.public} <= names(selected)
    assert selected.reasons["3.12"] == "full build"


def test_levels_respect_dependencies_and_group_parallel_work(targets):
    selected = plan.select(targets, Selection())
    level_of = {t.name: index for index, level in enumerate(selected.levels) for t in level}
    for target in selected.targets:
        for need in target.needs:
            assert level_of[need] < level_of[target.name], (need, target.name)
    assert [t.name for t in selected.levels[0]] == ["base"]
    assert {t.name for t in selected.levels[1]} == {f"cpython-{m}" for m in ("3.11", "3.12", "3.13", "3.14", "3.15")}
    assert {"3.11", "3.15", "all", "builder-3.12"} <= {t.name for t in selected.levels[2]}


def test_unknown_selection_names_what_is_valid(targets):
    with pytest.raises(UserError, match=r"--version '3\.10' is not a Python version.*valid: 3\.11, 3\.12"):
        plan.select(targets, Selection(versions=("3.10",)))
    with pytest.raises(UserError, match="--target 'alll' is not a target"):
        plan.select(targets, Selection(names=("alll",)))
    with pytest.raises(UserError, match=r"--variant 'pilow'.*valid: pillow, plain"):
        plan.select(targets, Selection(variants=("pilow",)))


def with_text(tmp_path: Path, old: str, new: str) -> config.Config:
    path = tmp_path / "images.yaml"
    path.write_text(SHIPPED.read_text().replace(old, new, 1))
    return config.load(path)


def test_two_targets_with_the_same_tag_are_refused(tmp_path):
    family = with_text(tmp_path, 'app: ["{name}"]', 'app: ["{name}", "{minor}"]')
    with pytest.raises(ConfigError, match=r"3\.13 and ipython would both be tagged '3\.13'"):
        plan.expand(family, date=DAY)


def test_app_named_like_a_family_target_is_refused(tmp_path):
    family = with_text(tmp_path, "  ipython:\n", "  all:\n")
    with pytest.raises(ConfigError, match=r"apps\.all: an app may not be named like the family target 'all'"):
        plan.expand(family, date=DAY)


def test_tag_docker_would_reject_is_refused(tmp_path):
    family = with_text(tmp_path, 'dated: "{tag}-{date}"', 'dated: "{tag}:{date}"')
    with pytest.raises(ConfigError, match="which Docker rejects"):
        plan.expand(family, date=DAY)


def test_github_matrix_has_one_entry_per_target_grouped_by_level():
    document = json.loads(cli.github_matrix(str(SHIPPED), cli.selection(version=["3.13"])))
    entries = [entry for level in document["levels"] for entry in level["include"]]
    assert document["count"] == len(entries)
    assert len({e["target"] for e in entries}) == len(entries)
    assert [e["level"] for e in entries] == sorted(e["level"] for e in entries)
    by_name = {e["target"]: e for e in entries}
    assert by_name["3.13"]["tags"][:2] == ["3.13", "3.13.15"]
    assert by_name["ipython"]["needs"] == ["3.13", "builder-3.13"]
    assert document["levels"][0]["include"][0]["target"] == "base"


def test_list_and_plan_tables_render():
    table = cli.list_targets(str(SHIPPED))
    assert "3.13-pillow" in table and "all-pillow" in table and "cpython-3.13" not in table
    assert "Debian trixie (mmdebstrap)" in table
    shown = cli.show_plan(str(SHIPPED), cli.selection(version=["3.11"]))
    assert "needed by 3.11" in shown and "its Python is 3.11" in shown
