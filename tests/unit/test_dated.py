"""Which dated tags an image has, read from its local tags and its created label (no engine: a stand-in image)."""

from pathlib import Path
from types import SimpleNamespace

from pyfamily import config, plan
from pyfamily.produce.dated import dated_tags, tags_in
from pyfamily.produce.inputs import CREATED_LABEL

ROOT = Path(__file__).resolve().parents[2]


def image(created: str | None, *tags: str) -> SimpleNamespace:
    return SimpleNamespace(labels={CREATED_LABEL: created} if created else {}, tags=list(tags))


def test_an_image_has_the_dated_tags_of_the_day_it_was_built():
    family = plan.expand(config.load(ROOT / "images.yaml"))
    tags, target = family.config.tags, family["3.13"]
    repo = target.repository
    assert tags_in(repo, [f"{repo}:3.13", "other/python:3.13.15", f"{repo}x:1", f"{repo}:3.13.15-trixie"]) == [
        "3.13",
        "3.13.15-trixie",
    ]
    built = image(
        "2026-11-21T23:59:59+00:00",
        f"{repo}:3.13",
        f"{repo}:3.13.15-trixie-20261121.2",
        f"{repo}:3.13.15-trixie-20261122",  # not its day: not its dated tag
        "other/python:3.13.15-trixie-20261121",
    )
    assert dated_tags(tags, target, built) == ["3.13.15-trixie-20261121.2"]
    assert dated_tags(tags, target, image(None, f"{repo}:3.13.15-trixie-20261121")) == []  # not made by pyfamily
    assert dated_tags(tags, family["cpython-3.13"], built) == []  # internal: never dated
