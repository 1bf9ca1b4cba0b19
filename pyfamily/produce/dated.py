"""Dated tags in the local engine: which an image has, and the one a freshly built image gets.

The choice is pyfamily.plan.tags' (pure): a day's series is `<tag>-<date>`, then `.1`, `.2`, ...; an image keeps the
dated tag it has, whichever day that is, so an image that is byte for byte one built on another day keeps that
day's tag and gets no new one; an image the engine has never had a dated tag for gets one of today: the day its
digest first appeared (its created time comes from its inputs, pyfamily.produce.inputs, and is no build day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import docker.models.images

from pyfamily import engine
from pyfamily.config import DOCKER_TAG, TagsSpec
from pyfamily.errors import UserError
from pyfamily.model import Target
from pyfamily.plan import dated_first, dated_series, dated_tag, dated_tag_to_add
from pyfamily.produce.inputs import CREATED_LABEL


def tags_in(repository: str, refs: Iterable[str]) -> list[str]:
    """The tags of `repository` among image references (repository:tag)."""
    prefix = f"{repository}:"
    return [ref.removeprefix(prefix) for ref in refs if ref.startswith(prefix)]


def repository_refs(repository: str) -> list[str]:
    """Every local reference of `repository`, from the engine's image list alone: the SDK's `images.list` inspects
    each image it lists, which fails when a build running beside this one moves a tag off an image meanwhile (the
    containerd image store then drops that image)."""
    listed = engine.client().api.images(name=repository)
    return [str(ref) for image in listed for ref in image.get("RepoTags") or []]


def dated_tags(tags: TagsSpec, target: Target, image: docker.models.images.Image) -> list[str]:
    """The dated tags `image` has locally: those of the series of the first day it got one, in build order (none
    for an image pyfamily did not make)."""
    if CREATED_LABEL not in (image.labels or {}):
        return []
    mine = tags_in(target.repository, image.tags)
    series = sorted(found for tag in mine if (found := dated_first(tags, target, tag)))
    return dated_series(series[0][1], mine) if series else []


def add_dated_tag(tags: TagsSpec, target: Target, image: docker.models.images.Image, day: dt.date) -> str | None:
    """Tag a freshly built image with the next free tag of `day`'s series, unless it has a dated tag already (of
    any day); the tag added, or None."""
    first = dated_tag(tags, target, day)
    if first is None or dated_tags(tags, target, image):
        return None
    repository = target.repository
    taken = tags_in(repository, repository_refs(repository))
    chosen = dated_tag_to_add(first, tags_in(repository, image.tags), taken)
    if chosen is None:
        return None
    if not DOCKER_TAG.fullmatch(chosen):
        raise UserError(
            f"{target.name}: the dated tag {chosen!r} is longer than Docker allows (128 characters); shorten "
            "tags.dated or the last tag template of this kind."
        )
    image.tag(repository, chosen)
    return chosen
