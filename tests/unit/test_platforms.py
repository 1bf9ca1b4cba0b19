"""Platforms: the --platform choice among the family file's `platforms:`, what a built image lacks, the schema."""

from pathlib import Path

import pytest

from pyfamily import config, kinds, plan, platforms, produce
from pyfamily.errors import ConfigError, UserError
from pyfamily.plan import Selection

from .families import MINIMAL
from .test_config_rules import load_text

LISTED = ("linux/amd64", "linux/arm64")


def test_nothing_requested_is_the_hosts_platform_or_the_default():
    assert platforms.resolve(LISTED, []) == (platforms.host(),)
    assert platforms.resolve(LISTED, [], default=LISTED) == LISTED


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [
        (["linux/arm64"], ("linux/arm64",)),
        (["linux/arm64,linux/amd64"], LISTED),  # comma-separated, in the file's order
        (["linux/arm64", "linux/amd64"], LISTED),  # repeated
        (["all"], LISTED),
        ([" linux/arm64 , "], ("linux/arm64",)),
    ],
)
def test_requested_platforms_in_the_files_order(requested, chosen):
    assert platforms.resolve(LISTED, requested) == chosen


def test_a_platform_the_file_does_not_list_is_refused_naming_the_choices():
    with pytest.raises(UserError, match=r"--platform linux/arm64: not among .*\(linux/amd64\).*all"):
        platforms.resolve(("linux/amd64",), ["linux/arm64"])


def test_what_an_image_lacks_from_its_label():
    both = {platforms.LABEL: platforms.label_value(LISTED)}
    assert platforms.missing(LISTED, both) == ()
    assert platforms.missing(LISTED, {platforms.LABEL: "linux/arm64"}) == ("linux/amd64",)
    # made before the label existed: built for the host only
    assert platforms.missing(LISTED, {}) == tuple(p for p in LISTED if p != platforms.host())
    assert platforms.union(LISTED, ["linux/arm64"], ["linux/amd64"]) == LISTED


def test_schema_defaults_to_amd64_and_arm64_and_refuses_unknown(tmp_path):
    assert load_text(tmp_path, MINIMAL).platforms == list(LISTED)
    with pytest.raises(ConfigError, match=r"platforms\[0\].*'linux/sparc'.*choose from linux/amd64, linux/arm64"):
        load_text(tmp_path, MINIMAL + "platforms: [linux/sparc]\n")
    with pytest.raises(ConfigError, match="platforms"):
        load_text(tmp_path, MINIMAL + "platforms: []\n")


def test_release_cpython_for_a_foreign_platform_is_refused_before_anything_builds(tmp_path):
    shipped = config.load(Path(__file__).resolve().parents[2] / "images.yaml")
    foreign = next(name for name in LISTED if name != platforms.host())
    release = plan.select(plan.expand(shipped, "release", LISTED), Selection(names=("3.13",)))
    settings = produce.Settings(work_dir=tmp_path, cache_dir=tmp_path)
    with pytest.raises(UserError, match=rf"Nothing was built: cpython-3.13: the release profile .* {foreign}"):
        produce.run(release, settings, say=print)
    assert not (tmp_path / "logs").exists()  # refused before the first step
    fast = plan.expand(shipped, "fast", LISTED)
    assert all(kinds.recipe_of(t).refuses(fast, t) is None for t in fast)
    native = plan.expand(shipped, "release", (platforms.host(),))
    assert all(kinds.recipe_of(t).refuses(native, t) is None for t in native)


def test_cpythons_parent_also_holds_the_build_machines_platform_for_a_cross_build():
    shipped = config.load(Path(__file__).resolve().parents[2] / "images.yaml")
    foreign = next(name for name in LISTED if name != platforms.host())
    cross = plan.select(plan.expand(shipped, "fast", (foreign,)), Selection(names=("3.13",)))
    assert cross.platforms_of("base") == LISTED  # cpython-3.13 compiles FROM --platform=$BUILDPLATFORM base
    assert cross.platforms_of("cpython-3.13") == (foreign,)
    assert cross.platforms_of("3.13") == (foreign,)
    both = plan.select(plan.expand(shipped, "fast", LISTED), Selection(names=("3.13",)))
    assert {both.platforms_of(t.name) for t in both.targets} == {LISTED}
