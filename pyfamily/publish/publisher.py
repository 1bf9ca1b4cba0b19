"""Publish: push the public images of a plan to every registry, all or nothing as far as tags go.

1. Refuse before any network call: an image not built, not made by pyfamily, not passed by `invoke verify`
   (by image ID), built with a profile that is not allowed (`fast` needs --allow-profile fast), lacking
   one of the chosen platforms (the run's: every platform of the family file unless --platform says fewer), or
   whose saved blobs are not what it is: every index, manifest, config and layer to push is re-hashed, and the
   local index pushed verbatim must be the image ID verify passed (layout.py).
2. Check every registry (reachable, a registry, credentials that may push) before the first push.
3. Push every image to every registry by digest, as the engine stores it (layout.py): blobs, the manifest of
   each chosen platform with its attestation manifests (SBOM, provenance), then the index: the local one
   byte for byte when every platform of it is chosen (its digest is the image ID), else one of those
   platforms (index.py). No tag moves yet.
4. Decide every tag: `unchanged` when it already points at that index digest, `refused` when it is a dated
   (immutable) tag that points elsewhere; one refusal and no tag moves at all.
5. With --sign, sign every index pushed with cosign (pyfamily.signing), each platform and attestation manifest in
   it too; an index this key signed already is left as it is.
6. Move the tags, one manifest PUT each; if one fails, the error lists precisely which tags moved before.
The registry client (registry.py) retries transient faults and keeps credentials out of every message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import docker.models.images
from tabulate import tabulate

from pyfamily import engine, oci
from pyfamily.config import Config, RegistrySpec
from pyfamily.errors import UserError
from pyfamily.model import Target
from pyfamily.plan import Plan
from pyfamily.produce.dated import dated_tags
from pyfamily.produce.inputs import CREATED_LABEL, PROFILE_LABEL
from pyfamily.publish.registry import PushedImage, RegistryClient
from pyfamily.signing import Signer
from pyfamily.util import Say
from pyfamily.verify import records

PUBLISHABLE_PROFILES = ("release",)


@dataclass(frozen=True)
class Row:
    registry: str
    tag: str
    action: str  # pushed, unchanged, refused
    digest: str  # of the index the tag points at
    bytes_sent: int = 0
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Image:
    target: Target
    image: docker.models.images.Image
    dated: tuple[str, ...]  # its dated (immutable) tags, as the local engine has them
    platforms: tuple[str, ...]  # the chosen platforms, all of which the local image holds

    @property
    def tags(self) -> tuple[str, ...]:
        """Moving tags, then the dated ones."""
        return (*self.target.tags, *self.dated)


def _check_platforms(
    plan: Plan, found: list[tuple[Target, docker.models.images.Image]], platforms: Sequence[str], cache_dir: Path
) -> None:
    """Refuse, naming each, the images that lack a chosen platform: every public tag is an index of them all."""
    held: dict[str, tuple[str, ...]] = {}
    for t, image in found:
        with _refusing(t):  # its save, read (and re-hashed) from the blob cache
            held[t.name] = oci.local_platforms(str(image.id), cache_dir)
    lacking = {t.name: [p for p in platforms if p not in held[t.name]] for t, _ in found}
    short = [t for t, _ in found if lacking[t.name]]
    if short:
        which = "; ".join(
            f"{t.ref} has no {', '.join(lacking[t.name])} (it holds {', '.join(held[t.name]) or 'none'})" for t in short
        )
        flags = " ".join([f"--profile {plan.family.profile}", f"--platform {','.join(platforms)}"])
        names = " ".join(f"--target {t.name}" for t in short)
        raise UserError(
            f"Nothing was pushed: {which}; every public tag is an index of the chosen platforms "
            f"({', '.join(platforms)}). Build them with `invoke build {flags} {names}` and verify them with "
            f"`invoke verify {flags} {names}`, or publish fewer platforms with --platform."
        )


def _ready(
    config: Config, plan: Plan, cache_dir: Path, profiles: Iterable[str], platforms: Sequence[str]
) -> list[_Image]:
    public = [t for t in plan.targets if t.public]
    images = {t.name: engine.image_or_none(t.ref) for t in public}
    missing = [t.ref for t in public if images[t.name] is None]
    if missing:
        raise UserError(
            f"Nothing was pushed: not built yet: {', '.join(missing)}. Run `invoke build` with the "
            "same selection first."
        )
    found = [(t, image) for t in public if (image := images[t.name]) is not None]
    unlabeled = [t.ref for t, image in found if CREATED_LABEL not in (image.labels or {})]
    if unlabeled:
        raise UserError(
            f"Nothing was pushed: {', '.join(unlabeled)} were not built by pyfamily (no "
            f"{CREATED_LABEL} label); rebuild them with `invoke build`."
        )
    _check_platforms(plan, found, platforms, cache_dir)
    unverified = [t.ref for t, image in found if not records.passed(cache_dir, str(image.id), platforms)]
    if unverified:
        raise UserError(
            f"Nothing was pushed: {', '.join(unverified)} did not pass `invoke verify` as built now "
            "(verdicts are kept by image ID); run `invoke verify` with the same selection first."
        )
    allowed = set(profiles)
    wrong = [
        f"{t.ref} ({profile})"
        for t, image in found  # no label: no CPython inside (base)
        if (profile := image.labels.get(PROFILE_LABEL)) and profile not in allowed
    ]
    if wrong:
        raise UserError(
            f"Nothing was pushed: {', '.join(wrong)} were built with a profile that is not for "
            f"publishing (allowed: {', '.join(sorted(allowed))}); rebuild with --profile release, or "
            "pass --allow-profile fast to publish them anyway."
        )
    dated = {t.name: tuple(dated_tags(config.tags, t, image)) for t, image in found}
    undated = [t.ref for t, _ in found if not dated[t.name]]
    if undated:
        raise UserError(
            f"Nothing was pushed: {', '.join(undated)} have no dated tag of the day they were built in the local "
            "engine (was it removed?); rebuild them with `invoke build --refresh` to get one."
        )
    _check_content(found, platforms, cache_dir)
    return [_Image(t, image, dated[t.name], tuple(platforms)) for t, image in found]


def _check_content(
    found: list[tuple[Target, docker.models.images.Image]], platforms: Sequence[str], cache_dir: Path
) -> None:
    """Re-hash all that each push will take from the blob cache (layout.py), so that a damaged cache, or an index
    that is not the image ID verify passed, stops the run before any network call, not halfway through it."""
    for target, image in found:
        with _refusing(target):
            local = oci.export(str(image.id), cache_dir)
            for entry in local.choose(platforms).manifests:
                local.blobs(entry)  # hashed once per run: the push takes them again without reading them again


@contextlib.contextmanager
def _refusing(target: Target) -> Iterator[None]:
    """A fault of the local image of `target` (its save, the blob cache) as a refusal naming it."""
    try:
        yield
    except UserError as exc:
        raise UserError(f"Nothing was pushed: {target.ref}: {exc}") from None


def publish(
    config: Config,
    plan: Plan,
    destinations: Sequence[RegistrySpec],
    cache_dir: Path,
    *,
    allow_profiles: Iterable[str] = PUBLISHABLE_PROFILES,
    platforms: Sequence[str] | None = None,
    signer: Signer | None = None,
    say: Say = print,
) -> list[Row]:
    """Publish the plan's public images; `platforms` defaults to the plan's family's (cli.family.load resolves
    --platform for publish: every platform the family file lists unless told fewer). With a `signer`, every index
    pushed is signed before any tag moves, so a tag never points at an unsigned image."""
    chosen = tuple(platforms if platforms is not None else plan.family.platforms or config.platforms)
    if not destinations:
        raise UserError(
            "Nothing was pushed: no registry given; list them under `registries` in the family file or pass --registry."
        )
    ready = _ready(config, plan, cache_dir, allow_profiles, chosen)
    public_key = signer.check() if signer else None  # a key that does not open stops it before any push
    repository = config.repository
    clients = [
        RegistryClient(d.host, insecure=d.insecure, cache_dir=oci.blob_cache(cache_dir).root) for d in destinations
    ]
    try:
        for client in clients:
            client.check_access(repository)
        pushed = {
            (client.host, item.target.name): _push(client, repository, item, say)
            for client in clients
            for item in ready
        }
        moves, rows = _decide(clients, repository, ready, pushed)
        if signer:
            _sign(signer, public_key, dict(zip(clients, destinations, strict=True)), repository, pushed, say)
        _move(moves, repository, say)
    finally:
        for client in clients:
            client.close()
    return rows


def _push(client: RegistryClient, repository: str, item: _Image, say: Say) -> PushedImage:
    try:
        pushed = client.push_image(repository, str(item.image.id), item.platforms)
    except UserError as exc:
        raise UserError(f"No tag was moved: pushing {item.target.ref} to {client.host} failed: {exc}") from None
    say(
        f"[{item.target.name}] {client.host}: index {pushed.digest[:19]} ({', '.join(pushed.platforms)}), "
        f"{pushed.bytes_sent} bytes sent"
    )
    return pushed


def _sign(
    signer: Signer,
    public_key: bytes | None,
    registries: dict[RegistryClient, RegistrySpec],
    repository: str,
    pushed: dict[tuple[str, str], PushedImage],
    say: Say,
) -> None:
    """Sign every index pushed, once per registry and digest (images may share one); no tag has moved yet."""
    for client, registry in registries.items():
        digests = sorted({image.digest for (host, _), image in pushed.items() if host == client.host})
        for digest in digests:
            try:
                signed = signer.sign(registry, repository, digest, public_key)
            except UserError as exc:
                raise UserError(f"No tag was moved: {exc}") from None
            say(f"{client.host}/{repository}@{digest[:19]}: {'signed' if signed else 'signed already'}")


@dataclass(frozen=True)
class _Move:
    client: RegistryClient
    tag: str
    digest: str


def _decide(
    clients: list[RegistryClient], repository: str, ready: list[_Image], pushed: dict[tuple[str, str], PushedImage]
) -> tuple[list[_Move], list[Row]]:
    moves, rows, refused = [], [], []
    for client in clients:
        for item in ready:
            image = pushed[(client.host, item.target.name)]
            sent = image.bytes_sent
            for tag in item.tags:
                current = client.tag_digest(repository, tag)
                if current == image.digest:
                    rows.append(Row(client.host, tag, "unchanged", current, 0, image.platforms))
                elif current is not None and tag in item.dated:
                    refused.append(f"{client.host}/{repository}:{tag} (points at {current[:19]})")
                    rows.append(Row(client.host, tag, "refused", current, 0))
                else:
                    moves.append(_Move(client, tag, image.digest))
                    rows.append(Row(client.host, tag, "pushed", image.digest, sent, image.platforms))
                sent = 0
    if refused:
        raise UserError(
            f"No tag was moved: the dated tags {', '.join(refused)} already exist with another image, "
            "and a dated tag is never overwritten. Rebuild them (`invoke build --refresh`: a new image gets the "
            "next .N of its day free in the local engine), or change tags.dated."
        )
    return moves, rows


def _move(moves: list[_Move], repository: str, say: Say) -> None:
    done: list[str] = []
    for move in moves:
        try:
            move.client.put_tag(repository, move.tag, move.digest)
        except UserError as exc:
            left = [f"{m.client.host}:{m.tag}" for m in moves[len(done) :]]
            raise UserError(
                f"Moving tags stopped: {exc} Moved before the failure: {', '.join(done) or 'none'}; "
                f"not moved: {', '.join(left)}. Run `invoke publish` again once the registry "
                "answers: what moved is then reported unchanged."
            ) from None
        done.append(f"{move.client.host}:{move.tag}")
        say(f"{move.client.host}/{repository}:{move.tag} -> {move.digest[:19]}")


def table(rows: list[Row]) -> str:
    return tabulate(
        [
            (r.registry, r.tag, r.action, r.digest.removeprefix("sha256:")[:12], ", ".join(r.platforms), r.bytes_sent)
            for r in rows
        ],
        headers=["registry", "tag", "action", "index digest", "platforms", "bytes sent"],
    )
