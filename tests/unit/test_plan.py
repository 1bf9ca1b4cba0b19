"""Planning: targets, selection, dependency order, levels, tags and the GitHub matrix. No engine needed."""

import datetime as dt
import json
from pathlib import Path

import pytest

from pyfamily import cli, config, plan
from pyfamily.errors import ConfigError, UserError
from pyfamily.plan import Selection

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "images.yaml"
DAY = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def family():
    return config.load(SHIPPED)


@pytest.fixture(scope="module")
def targets(family):
    return plan.expand(family)


def names(selected: plan.Plan) -> set[str]:
    return {t.name for t in selected.targets}


def test_every_public_target_and_its_kind(targets):
    public = {t.name: t.kind for t in targets if t.public}
    assert public["base"] == "base"
    assert public["3.13"] == "runtime"
    assert public["3.13-pillow"] == "runtime-variant"
    assert public["all"] == "all"
    assert public["all-pillow"] == "all-variant"
    assert public["certbot"] == "app"
    assert public["3.13-distroless"] == public["3.13-pillow-distroless"] == "distroless"
    assert public["3.14t"] == "runtime"
    # base; per Python (5, 2 free-threaded): runtime, variant, distroless, variant-distroless; all, all-pillow; apps
    assert len(public) == 1 + 7 * 4 + 2 + 3


def test_targets_name_what_they_use_by_role(targets):
    assert dict(targets["3.13"].uses) == {"from": "base", "cpython": "cpython-3.13"}
    assert dict(targets["3.13-pillow"].uses) == {"from": "3.13", "probe": "builder-3.13-pillow"}
    assert dict(targets["certbot"].uses) == {"from": "3.13", "builder": "builder-3.13"}
    pythons = ("3.11", "3.12", "3.13", "3.14", "3.14t", "3.15", "3.15t")
    assert targets["all"].needs == ("base", *(f"cpython-{m}" for m in pythons))
    assert targets["base"].parent is None and targets["builder-3.11-pillow"].parent == "builder-3.11"


def test_listing_order_groups_each_python(targets):
    assert [t.name for t in targets][:9] == [
        "base",
        "cpython-3.11",
        "3.11",
        "builder-3.11",
        "builder-3.11-pillow",
        "3.11-pillow",
        "3.11-distroless",
        "3.11-pillow-distroless",
        "cpython-3.12",
    ]
    assert [t.name for t in targets][-5:] == ["all", "all-pillow", "ipython", "certbot", "uv"]


def test_tags_moving_and_dated(family, targets):
    tags = family.tags
    assert targets["3.13"].tags == ("3.13", "3.13-trixie", "3.13.15", "3.13.15-trixie")
    assert targets["3.13"].ref == "pyfamily/python:3.13"  # the plain tag: the family's suite
    assert plan.dated_tag(tags, targets["3.13"], DAY) == "3.13.15-trixie-20261121"
    assert targets["3.11-pillow"].tags == (
        "3.11-pillow",
        "3.11-pillow-trixie",
        "3.11.15-pillow",
        "3.11.15-pillow-trixie",
    )
    assert plan.dated_tag(tags, targets["3.11-pillow"], DAY) == "3.11.15-pillow-trixie-20261121"
    assert plan.local_tags(tags, targets["all-pillow"], DAY) == (
        "all-pillow",
        "all-pillow-trixie",
        "all-pillow-trixie-20261121",
    )
    assert plan.local_tags(tags, targets["ipython"], DAY) == ("ipython", "ipython-20261121")  # apps: {name}
    assert plan.local_tags(tags, targets["base"], DAY) == ("base", "base-trixie", "base-trixie-20261121")
    assert plan.local_tags(tags, targets["base"], None) == ("base", "base-trixie", "base-trixie-<date>")  # listings
    assert targets["cpython-3.13"].tags == ()  # internal: never published
    assert plan.dated_tag(tags, targets["cpython-3.13"], DAY) is None
    assert targets["cpython-3.13"].ref == "pyfamily/python:cpython-3.13.15-fast"


def test_suite_tags_follow_the_family_suite(tmp_path):
    bookworm = tmp_path / "bookworm.yaml"
    bookworm.write_text(f"extends: {SHIPPED}\nbase:\n  debian: {{suite: bookworm}}\n")
    targets = plan.expand(config.load(bookworm))
    assert targets["3.13"].tags == ("3.13", "3.13-bookworm", "3.13.15", "3.13.15-bookworm")
    assert targets["all"].tags == ("all", "all-bookworm") and targets["base"].tags == ("base", "base-bookworm")
    assert targets["3.13"].ref == "pyfamily/python:3.13"
    image = tmp_path / "image.yaml"
    image.write_text(f"extends: {SHIPPED}\nbase: {{debian: null, from: 'debian:forky-slim', suite: forky}}\n")
    assert plan.expand(config.load(image))["3.13-pillow"].tags[1] == "3.13-pillow-forky"
    apps = tmp_path / "apps.yaml"
    apps.write_text(f'extends: {SHIPPED}\ntags:\n  app: ["{{name}}", "{{name}}-{{suite}}"]\n')
    assert plan.expand(config.load(apps))["ipython"].tags == ("ipython", "ipython-trixie")


def test_dated_series_numbers_later_builds_of_a_day():
    first = "3.13.15-trixie-20261121"
    assert plan.series_number(first, first) == 0
    assert plan.series_number(first, f"{first}.1") == 1 and plan.series_number(first, f"{first}.12") == 12
    for other in (f"{first}.0", f"{first}.01", f"{first}.x", f"{first}1", f"{first}.1.2", "3.13.15-trixie", ""):
        assert plan.series_number(first, other) is None, other
    assert plan.dated_series(first, ["3.13", f"{first}.10", f"{first}.2", first, "3.13.15-trixie-20261122"]) == [
        first,
        f"{first}.2",
        f"{first}.10",
    ]


def test_a_new_image_never_takes_a_dated_tag_another_image_has():
    first = "base-trixie-20261121"
    # the day's first build
    assert plan.dated_tag_to_add(first, ["base", "base-trixie"], ["base", "base-trixie"]) == first
    # a second build of the day (another image): the first keeps its tag
    assert plan.dated_tag_to_add(first, ["base"], ["base", first]) == f"{first}.1"
    assert plan.dated_tag_to_add(first, ["base"], [first, f"{first}.1", f"{first}.2"]) == f"{first}.3"
    # numbered past the highest, never into a gap (a deleted image's tag may be in a registry)
    assert plan.dated_tag_to_add(first, ["base"], [f"{first}.4"]) == f"{first}.5"
    # another day's tags do not count
    assert plan.dated_tag_to_add(first, ["base"], ["base-trixie-20261120", "base-trixie-20261120.1"]) == first
    # the same image built again keeps its tag and gets no other
    assert plan.dated_tag_to_add(first, ["base", first], ["base", first]) is None
    assert plan.dated_tag_to_add(first, ["base", f"{first}.1"], [first, f"{first}.1"]) is None


def test_listings_never_show_a_real_date():
    """`list`, `plan` and `matrix` say which tags a build gives, never a day: whichever an image has depends on when
    it was built (and a build of another day is not today's)."""
    listed = cli.list_targets(str(SHIPPED))
    shown = listed + cli.show_plan(str(SHIPPED), cli.selection()) + cli.github_matrix(str(SHIPPED), cli.selection())
    today = plan.today()
    for day in (today - dt.timedelta(days=1), today, today + dt.timedelta(days=1)):
        assert day.strftime("%Y%m%d") not in shown
    assert "3.13.15-trixie-<date>" in listed and "base-trixie-<date>" in listed and "ipython-<date>" in listed


def test_profile_changes_only_the_compiled_tree_reference(family):
    release = plan.expand(family, profile="release")
    assert release.profile == "release" and plan.expand(family).profile == "fast"
    assert release["cpython-3.13"].ref == "pyfamily/python:cpython-3.13.15-release"
    assert release["3.13"].ref == "pyfamily/python:3.13"
    with pytest.raises(UserError, match=r"'turbo' is not defined under build\.profiles"):
        plan.expand(family, profile="turbo")


def test_version_selects_its_images_and_what_they_need_but_not_all(targets):
    selected = plan.select(targets, Selection(versions=("3.11",)))
    runtimes = {"3.11", "3.11-pillow", "3.11-distroless", "3.11-pillow-distroless"}
    assert names(selected) == {"base", "cpython-3.11", "builder-3.11", "builder-3.11-pillow", *runtimes}
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
    assert plain == {"base", "cpython-3.13", "3.13", "3.13-distroless"}
    pillow = names(plan.select(targets, Selection(versions=("3.13",), variants=("pillow",))))
    assert "3.13-pillow" in pillow and "ipython" not in pillow


def test_target_all_builds_every_python(targets):
    selected = plan.select(targets, Selection(names=("all",)))
    pythons = ("3.11", "3.12", "3.13", "3.14", "3.14t", "3.15", "3.15t")
    assert names(selected) == {"base", "all"} | {f"cpython-{m}" for m in pythons}
    assert selected.reasons["all"] == "named with --target all"


def test_no_selection_is_the_whole_family(targets):
    selected = plan.select(targets, Selection())
    assert {t.name for t in targets if t.public} <= names(selected)
    assert selected.reasons["3.12"] == "full build"


def test_levels_respect_dependencies_and_group_parallel_work(targets):
    selected = plan.select(targets, Selection())
    level_of = {t.name: index for index, level in enumerate(selected.levels) for t in level}
    for target in selected.targets:
        for need in target.needs:
            assert level_of[need] < level_of[target.name], (need, target.name)
    assert [t.name for t in selected.levels[0]] == ["base"]
    pythons = ("3.11", "3.12", "3.13", "3.14", "3.14t", "3.15", "3.15t")
    assert {t.name for t in selected.levels[1]} == {f"cpython-{m}" for m in pythons}
    assert {"3.11", "3.15", "all", "builder-3.12"} <= {t.name for t in selected.levels[2]}


def test_unknown_selection_names_what_is_valid(targets):
    with pytest.raises(UserError, match=r"--version '3\.10' is not a Python version.*valid: 3\.11, 3\.12"):
        plan.select(targets, Selection(versions=("3.10",)))
    with pytest.raises(UserError, match="--target 'alll' is not a target"):
        plan.select(targets, Selection(names=("alll",)))
    with pytest.raises(UserError, match=r"--variant 'pilow'.*valid: plain, pillow"):
        plan.select(targets, Selection(variants=("pilow",)))


def with_text(tmp_path: Path, old: str, new: str) -> config.Config:
    path = tmp_path / "images.yaml"
    path.write_text(SHIPPED.read_text().replace(old, new, 1))
    return config.load(path)


def test_two_targets_with_the_same_tag_are_refused(tmp_path):
    family = with_text(tmp_path, 'app: ["{name}"]', 'app: ["{name}", "{minor}"]')
    with pytest.raises(ConfigError, match=r"3\.13 and ipython would both be tagged '3\.13'"):
        plan.expand(family)


def test_app_named_like_a_family_target_is_refused(tmp_path):
    family = with_text(tmp_path, "  ipython:\n", "  all:\n")
    with pytest.raises(ConfigError, match=r"apps\.all: an app may not be named like the family target 'all'"):
        plan.expand(family)


def test_tag_docker_would_reject_is_refused_when_loading(tmp_path):
    with pytest.raises(ConfigError, match="which Docker rejects"):
        with_text(tmp_path, 'dated: "{tag}-{date}"', 'dated: "{tag}:{date}"')


def test_github_matrix_has_one_entry_per_target_grouped_by_level():
    """On one platform; tests/unit/test_matrix.py has the entries per platform and the level bound."""
    document = json.loads(cli.github_matrix(str(SHIPPED), cli.selection(version=["3.13"]), platforms=["linux/amd64"]))
    entries = [entry for level in document["levels"] for entry in level["include"]]
    assert document["count"] == len(entries)
    assert len({e["target"] for e in entries}) == len(entries)
    assert [e["level"] for e in entries] == sorted(e["level"] for e in entries)
    by_name = {e["target"]: e for e in entries}
    assert by_name["3.13"]["tags"] == ["3.13", "3.13-trixie", "3.13.15", "3.13.15-trixie"]
    assert by_name["ipython"]["needs"] == ["3.13", "builder-3.13"]
    assert document["levels"][0]["include"][0]["target"] == "base"


def test_list_and_plan_tables_render():
    table = cli.list_targets(str(SHIPPED))
    assert "3.13-pillow" in table and "all-pillow" in table and "cpython-3.13" not in table
    assert "Debian trixie (mmdebstrap)" in table
    shown = cli.show_plan(str(SHIPPED), cli.selection(version=["3.11"]))
    assert "needed by 3.11" in shown and "its Python is 3.11" in shown
