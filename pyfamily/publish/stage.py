"""Staging: how the scheduled pipeline's jobs hand images to each other through a registry.

A job builds one target (for one platform on a runner of that platform, or for all) and pushes what it built;
the next job takes those images as its parents instead of building them, so nothing (no CPython above all) is
built twice, and the last job verifies everything and publishes. The staging location is `[http://]HOST[:PORT]`
(plain HTTP for a local test registry); images are staged in the repository `<repository>-stage` there, tagged
with their target's name (`base`, `cpython-3.13`, `3.13`) when built for every platform of `platforms:`, else
with `--<arch>` appended (`cpython-3.13--arm64`): never a public tag, internal stages included. The workflow's
concurrency group lets one run stage at a time, and every job reads a staged tag once and then works by digest.

- `stage(...)`: `invoke build --stage-to LOCATION`: push each target the run built or kept, the run's platforms,
  by digest (`RegistryClient.push_image`), then point its staging tag at it.
- `pull(...)`: `invoke build --parents-from LOCATION` (the parents a selection needs) and `invoke pull --from
  LOCATION` (every target of the selection, for the last job's verify and publish): find the staged index that
  holds the run's platforms, or merge the per-platform ones into one in the registry (`merged`: the same bytes
  for the same parts), pull its digest for every platform of the run, and tag it as the family names it (its
  reference, moving tags, and the dated tag of the day it was built). The containerd image store keeps the
  pulled index as it is, so the local image ID is the staged digest, the one `invoke verify` records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from pyfamily import engine
from pyfamily.config import Config, RegistrySpec, parse_registry
from pyfamily.errors import UserError
from pyfamily.model import Family, Target
from pyfamily.oci import blob_cache
from pyfamily.oci import index as oci
from pyfamily.platforms import scoped_tag
from pyfamily.produce.dated import add_dated_tag
from pyfamily.publish.registry import RegistryClient
from pyfamily.util import Say

SUFFIX = "-stage"


@dataclass(frozen=True)
class Location:
    registry: RegistrySpec
    repository: str  # <family repository>-stage

    @property
    def name(self) -> str:
        return f"{self.registry.host}/{self.repository}"


def location(config: Config, text: str, flag: str) -> Location:
    """`--stage-to` / `--parents-from` / `--from`: [http://]HOST[:PORT], checked like --registry."""
    try:
        registry = parse_registry(text)
    except UserError as exc:
        raise UserError(f"{flag} {text!r}: {str(exc).split(': ', 1)[-1]}") from None
    return Location(registry, f"{config.repository}{SUFFIX}")


def _client(where: Location, cache_dir: Path) -> RegistryClient:
    return RegistryClient(where.registry.host, insecure=where.registry.insecure, cache_dir=blob_cache(cache_dir).root)


def staged_tag(family: Family, target: Target, chosen: Sequence[str] | None = None) -> str:
    """`3.13` for an image of every platform the family file lists, `3.13--arm64` for one of fewer."""
    return scoped_tag(target.name, family.config.platforms, chosen if chosen is not None else family.platforms)


def stage(family: Family, targets: Sequence[Target], where: Location, cache_dir: Path, say: Say) -> None:
    """Push every target's local image (the run's platforms) by digest and point its staging tag at it."""
    with _client(where, cache_dir) as client:
        client.check_access(where.repository)
        for target in targets:
            pushed = client.push_image(where.repository, target.ref, family.platforms)
            tag = staged_tag(family, target)
            client.put_tag(where.repository, tag, pushed.digest)
            say(f"[{target.name}] staged as {where.name}:{tag}@{pushed.digest} ({pushed.bytes_sent} bytes sent)")


def pull(
    family: Family,
    targets: Sequence[Target],
    where: Location,
    cache_dir: Path,
    say: Say,
    chosen: Sequence[str] | None = None,
) -> dict[str, str]:
    """Take each target's staged image (`chosen` platforms, default the run's) into the local engine under the
    family's names, never building; target name -> image ID (the staged index digest)."""
    wanted = tuple(chosen or family.platforms)
    with _client(where, cache_dir) as client:
        digests = {target.name: _staged(client, family, target, where, wanted) for target in targets}
    return {target.name: _pull_one(family, target, where, digests[target.name], wanted, say) for target in targets}


def _staged(client: RegistryClient, family: Family, target: Target, where: Location, wanted: tuple[str, ...]) -> str:
    """The digest of a staged index holding every platform wanted: staged whole, staged for exactly these
    platforms, or merged here from one staged per platform."""
    for tag in dict.fromkeys([target.name, staged_tag(family, target, wanted)]):
        found = client.read_index(where.repository, tag)
        if found is not None and all(name in found.platforms for name in wanted):
            return found.digest
    parts = {name: client.read_index(where.repository, staged_tag(family, target, [name])) for name in wanted}
    indexes = [part.index for part in parts.values() if part is not None and part.index is not None]
    if len(indexes) < len(wanted):
        looked = ", ".join(dict.fromkeys([target.name, *(staged_tag(family, target, [name]) for name in wanted)]))
        raise UserError(
            f"{target.name} is not staged at {where.name} for {', '.join(wanted)} (looked for the tags {looked}): "
            f"run the jobs that build it (`invoke build --target {target.name} --platform ... --stage-to ...`) "
            "first, or build it here."
        )
    return client.put_index(where.repository, merged(indexes, wanted), oci.OCI_INDEX)


def merged(parts: Sequence[oci.Index], platforms: Sequence[str]) -> bytes:
    """One OCI index of the image (with its attestations) of each platform, taken from per-platform indexes, in
    the order of `platforms`: the same bytes for the same parts, whichever job merges them."""
    entries: list[oci.Descriptor] = []
    for name in platforms:
        found = [(part, image) for part in parts if (image := part.image(name)) is not None]
        if not found:
            raise UserError(f"None of the staged indexes holds {name}.")
        part, image = found[0]
        entries += [image, *part.attestations_of(image.digest)]
    return oci.index_bytes({"schemaVersion": 2, "mediaType": oci.OCI_INDEX}, entries)


def _pull_one(family: Family, target: Target, where: Location, digest: str, wanted: tuple[str, ...], say: Say) -> str:
    sdk = engine.client()
    for platform in wanted:
        try:
            sdk.images.pull(where.name, tag=digest, platform=platform)
        except docker.errors.APIError as exc:
            raise UserError(
                f"{target.name}: pulling {where.name}@{digest} for {platform} failed: {exc.explanation or exc}. "
                f"Was it staged with --platform {','.join(wanted)}?"
            ) from None
    image = sdk.images.get(f"{where.name}@{digest}")
    for tag in dict.fromkeys([target.ref.rsplit(":", 1)[1], *target.tags]):
        image.tag(target.repository, tag)
    add_dated_tag(family.config.tags, target, sdk.images.get(target.ref), dt.datetime.now(dt.UTC).date())
    say(f"[{target.name}] pulled from {where.name}@{digest[:19]} ({', '.join(wanted)})")
    return str(image.id)
