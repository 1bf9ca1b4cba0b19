"""Which dated tags an image has, read from its local tags, whichever day (no engine: a stand-in image)."""

import datetime as dt
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
        f"{repo}:3.13.15-trixie-20261122",  # a later day's series: the first day's is the image's
        "other/python:3.13.15-trixie-20261121",
    )
    assert dated_tags(tags, target, built) == ["3.13.15-trixie-20261121.2"]
    assert dated_tags(tags, target, image(None, f"{repo}:3.13.15-trixie-20261121")) == []  # not made by pyfamily
    assert dated_tags(tags, family["cpython-3.13"], built) == []  # internal: never dated


def test_the_dated_tag_is_found_whatever_the_created_time_says():
    """The created label is the inputs' time (SOURCE_DATE_EPOCH), often months before the day the image first
    appeared: its dated tag is read from its tags alone (it used to be looked for under the created day only)."""
    family = plan.expand(config.load(ROOT / "images.yaml"))
    tags, target = family.config.tags, family["3.13"]
    repo = target.repository
    made = image("2026-08-01T00:00:00+00:00", f"{repo}:3.13", f"{repo}:3.13.15-trixie-20261204.1")
    assert dated_tags(tags, target, made) == ["3.13.15-trixie-20261204.1"]
    odd = image("2026-08-01T00:00:00+00:00", f"{repo}:3.13.15-trixie-20261304", f"{repo}:3.13.15-trixie-2026120")
    assert dated_tags(tags, target, odd) == []  # no 13th month; not the date format's width


def test_dated_first_names_the_day_and_the_series():
    family = plan.expand(config.load(ROOT / "images.yaml"))
    tags, target = family.config.tags, family["3.13"]
    found = plan.dated_first(tags, target, "3.13.15-trixie-20261204.12")
    assert found == (dt.date(2026, 12, 4), "3.13.15-trixie-20261204")
    assert plan.dated_first(tags, target, "3.13.15-trixie-20261204") == found
    assert plan.dated_first(tags, target, "3.13.15-trixie-20261204.01") is None  # no leading zero in .N
    assert plan.dated_first(tags, target, "3.12.9-trixie-20261204") is None  # another target's
    assert plan.dated_first(tags, family["cpython-3.13"], "3.13.15-trixie-20261204") is None  # internal
