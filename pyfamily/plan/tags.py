"""Tags, formatted in one place: moving tags from the tag templates, the dated (immutable) tags from a day.

A target's dated tags of a day form a series: the first is `tags.dated` formatted with the day
(3.13.15-trixie-20261123), the next ones add .1, .2, ... (3.13.15-trixie-20261123.1). A freshly built image that
has none of its day's series gets the next free one, so a second build on the same day never moves the first's
tag; an image that already has one (the same image built again) keeps it. Which tags an image has is read from the
engine (pyfamily.produce.dated); the choice itself is pure and lives here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from pyfamily.config import TagsSpec
from pyfamily.model import Target

DATE_PLACEHOLDER = "<date>"


def today() -> dt.date:
    """The day, in UTC: what the dated tag of an image first seen today carries."""
    return dt.datetime.now(dt.UTC).date()


def moving_tags(templates: Sequence[str], fields: dict[str, str]) -> tuple[str, ...]:
    return tuple(template.format(**fields) for template in templates)


def image_refs(target: Target) -> tuple[str, ...]:
    """Every reference a build of `target` tags: its local ref, then <repository>:<tag> for each moving tag, each
    once (the dated tag is added once the image is built; pyfamily.produce.dated)."""
    return tuple(dict.fromkeys([target.ref, *(f"{target.repository}:{tag}" for tag in target.tags)]))


def dated_tag(tags: TagsSpec, target: Target, day: dt.date | None) -> str | None:
    """The first immutable tag of a public target built on `day` (None: a placeholder for listings); None if
    internal. Later builds of the same day get it with a .N suffix (see `series_number`)."""
    if not target.tags:
        return None
    date = day.strftime(tags.date_format) if day else DATE_PLACEHOLDER
    return tags.dated.format(tag=target.tags[-1], date=date)


def dated_first(tags: TagsSpec, target: Target, tag: str) -> tuple[dt.date, str] | None:
    """The day and the first tag of the dated series `tag` is in, whichever day that is; None when `tag` is no
    dated tag of `target` (the day is read back through tags.date_format, so `3.13-20261304` is none)."""
    if not target.tags:
        return None
    head, _, tail = tags.dated.format(tag=target.tags[-1], date="\0").partition("\0")
    for first in (tag, tag.rpartition(".")[0]):
        if not (first.startswith(head) and first.endswith(tail) and len(first) > len(head) + len(tail)):
            continue
        date = first[len(head) : len(first) - len(tail)]
        try:
            day = dt.datetime.strptime(date, tags.date_format).date()
        except ValueError:
            continue
        if day.strftime(tags.date_format) == date and series_number(first, tag) is not None:
            return day, first
    return None


def series_number(first: str, tag: str) -> int | None:
    """0 for the day's first dated tag itself, N for `<first>.N` (N >= 1, no leading zero), None for any other tag."""
    if tag == first:
        return 0
    head, dot, number = tag.rpartition(".")
    if dot and head == first and number.isascii() and number.isdigit() and not number.startswith("0"):
        return int(number)
    return None


def dated_series(first: str, tags: Iterable[str]) -> list[str]:
    """Those of `tags` that are in the dated series starting at `first`, in build order."""
    numbered = [(number, tag) for tag in set(tags) if (number := series_number(first, tag)) is not None]
    return [tag for _, tag in sorted(numbered)]


def dated_tag_to_add(first: str, image_tags: Iterable[str], taken: Iterable[str]) -> str | None:
    """The dated tag a freshly built image gets: None when it already has one of the series (the same image was
    built before); else `first` if no image has it, else `first.N` with N one more than the highest taken, so a
    tag never names a second image (not even one whose earlier holder was deleted)."""
    if dated_series(first, image_tags):
        return None
    numbers = [number for tag in taken if (number := series_number(first, tag)) is not None]
    if not numbers:
        return first
    return f"{first}.{max(numbers) + 1}"


def local_tags(tags: TagsSpec, target: Target, day: dt.date | None) -> tuple[str, ...]:
    """The tags a listing shows for a target: its moving tags, then its first dated one of `day` (None: the
    `<date>` pattern, never a real day, since which day an image carries depends on when it is built)."""
    dated = dated_tag(tags, target, day)
    return (*target.tags, dated) if dated else target.tags
