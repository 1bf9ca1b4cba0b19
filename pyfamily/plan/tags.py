"""Tags, formatted in one place: moving tags from the tag templates, the dated (immutable) tag from a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pyfamily.config import TagsSpec
from pyfamily.model import Target

DATE_PLACEHOLDER = "<date>"


def today() -> dt.date:
    """The build day, in UTC: what dated tags and the created label carry."""
    return dt.datetime.now(dt.UTC).date()


def moving_tags(templates: Sequence[str], fields: dict[str, str]) -> tuple[str, ...]:
    return tuple(template.format(**fields) for template in templates)


def dated_tag(tags: TagsSpec, target: Target, day: dt.date | None) -> str | None:
    """The immutable tag of a public target built on `day` (None: a placeholder for listings); None if internal."""
    if not target.tags:
        return None
    date = day.strftime(tags.date_format) if day else DATE_PLACEHOLDER
    return tags.dated.format(tag=target.tags[-1], date=date)


def local_tags(tags: TagsSpec, target: Target, day: dt.date | None) -> tuple[str, ...]:
    """Every tag an image gets when built on `day`: its moving tags, then its dated one."""
    dated = dated_tag(tags, target, day)
    return (*target.tags, dated) if dated else target.tags
