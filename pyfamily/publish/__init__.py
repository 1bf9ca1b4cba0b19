"""Publish: push the built public images of a plan under every registry, after checking that all can go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import docker.errors
import requests

from pyfamily import engine, plan
from pyfamily.config import Config
from pyfamily.errors import UserError
from pyfamily.build.cache import CREATED_LABEL, built_on
from pyfamily.model import Target
from pyfamily.plan import Plan


@dataclass(frozen=True)
class Push:
    target: str
    reference: str
    digest: str


def dated_tag(config: Config, target: Target, labels: dict[str, str]) -> str:
    """The immutable tag carries the day the image was built (its created label), not the day it is pushed."""
    tag = plan.dated_tag(config.tags, target, built_on(labels))
    assert tag is not None
    return tag


def _ready(config: Config, plan: Plan) -> list[tuple[Target, docker.models.images.Image]]:
    """Every public target of the plan with its local image; refuse before pushing anything if one is missing."""
    public = [t for t in plan.targets if t.public]
    images = {t.name: engine.image_or_none(t.ref) for t in public}
    missing = [t.ref for t in public if images[t.name] is None]
    if missing:
        raise UserError(f"Nothing was pushed: not built yet: {', '.join(missing)}. Run `invoke build` with the "
                        "same selection first.")
    unlabeled = [t.ref for t in public if CREATED_LABEL not in (images[t.name].labels or {})]  # type: ignore[union-attr]
    if unlabeled:
        raise UserError(f"Nothing was pushed: {', '.join(unlabeled)} were not built by pyfamily (no "
                        f"{CREATED_LABEL} label); rebuild them with `invoke build`.")
    return [(t, images[t.name]) for t in public]  # type: ignore[misc]


def _check_registry(registry: str) -> None:
    """Fail early, before any push, when a registry does not answer its API root."""
    scheme = "http" if registry.startswith(("127.", "localhost")) else "https"
    try:
        answer = requests.get(f"{scheme}://{registry}/v2/", timeout=10)
    except requests.RequestException as exc:
        raise UserError(f"Nothing was pushed: the registry {registry} does not answer ({exc.__class__.__name__}); "
                        "check the name under `registries` or --registry, and that you are online.") from None
    if answer.status_code not in (200, 401):
        raise UserError(f"Nothing was pushed: {registry}/v2/ answered HTTP {answer.status_code}; is it a registry?")


def publish(config: Config, chosen: Plan, registries: Sequence[str] | None = None, say=print) -> list[Push]:
    chosen = list(registries or config.registries)
    if not chosen:
        raise UserError("Nothing was pushed: no registry given; list them under `registries` in the family file "
                        "or pass --registry.")
    ready = _ready(config, chosen)
    for registry in chosen:
        _check_registry(registry)
    pushes = []
    for registry in chosen:
        repository = f"{registry}/{config.repository}"
        for target, image in ready:
            for tag in (*target.tags, dated_tag(config, target, image.labels)):
                pushes.append(_push(image, repository, tag, target.name, say))
    return pushes


def _push(image: docker.models.images.Image, repository: str, tag: str, name: str, say) -> Push:
    reference = f"{repository}:{tag}"
    image.tag(repository, tag)
    try:
        digest = ""
        for event in engine.client().images.push(repository, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise UserError(f"Pushing {reference} failed: {event['error']}")
            digest = event.get("aux", {}).get("Digest", digest)
    finally:
        # The registry-qualified tag was only the vehicle of the push; keep the local tag list clean.
        engine.client().images.remove(reference, noprune=True)
    say(f"[{name}] pushed {reference} {digest}")
    return Push(name, reference, digest)
