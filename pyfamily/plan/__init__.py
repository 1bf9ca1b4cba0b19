"""Plan: the family file expanded into targets (via the recipes), a selection of them, and its build levels."""

from pyfamily.plan.expand import expand, resolve_profile
from pyfamily.plan.select import Plan, Selection, levels, select
from pyfamily.plan.tags import (
    dated_first,
    dated_series,
    dated_tag,
    dated_tag_to_add,
    image_refs,
    local_tags,
    moving_tags,
    series_number,
    today,
)

__all__ = [
    "Plan",
    "Selection",
    "dated_first",
    "dated_series",
    "dated_tag",
    "dated_tag_to_add",
    "expand",
    "image_refs",
    "levels",
    "local_tags",
    "moving_tags",
    "resolve_profile",
    "select",
    "series_number",
    "today",
]
