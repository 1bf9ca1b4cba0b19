"""What `invoke verify` found, kept by image ID, so `invoke publish` pushes only images that passed.

A record is `<cache>/verified/<image id>-<os>-<arch>.json`, one per platform checked (its manifest, emulated
when foreign); an image rebuilt from other inputs has another ID and so no record until it is verified again."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FOLDER = "verified"


def _path(cache_dir: Path, image_id: str, platform: str) -> Path:
    return cache_dir / FOLDER / f"{image_id.removeprefix('sha256:')}-{platform.replace('/', '-')}.json"


def save(cache_dir: Path, image_id: str, target: str, checks: Iterable[tuple[str, bool]], platform: str) -> None:
    results = [{"check": name, "passed": passed} for name, passed in checks]
    record = {
        "image_id": image_id,
        "target": target,
        "platform": platform,
        "passed": all(r["passed"] for r in results),
        "checks": results,
        "verified": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = _path(cache_dir, image_id, platform)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2))
    temporary.replace(path)


def load(cache_dir: Path, image_id: str, platform: str) -> dict[str, Any] | None:
    try:
        record = json.loads(_path(cache_dir, image_id, platform).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def passed(cache_dir: Path, image_id: str, platforms: Iterable[str]) -> bool:
    """Whether the image passed every check on each of `platforms` (at least one)."""
    chosen = list(platforms)
    return bool(chosen) and all(_passed(load(cache_dir, image_id, platform)) for platform in chosen)


def _passed(record: dict[str, Any] | None) -> bool:
    return bool(record and record.get("passed") and record.get("checks"))
