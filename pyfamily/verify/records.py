"""What `invoke verify` found, kept by image ID, so `invoke publish` pushes only images that passed.

A record is `<cache>/verified/<image id>.json`; an image rebuilt from other inputs has another ID and so no
record until it is verified again."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FOLDER = "verified"


def _path(cache_dir: Path, image_id: str) -> Path:
    return cache_dir / FOLDER / f"{image_id.removeprefix('sha256:')}.json"


def save(cache_dir: Path, image_id: str, target: str, checks: Iterable[tuple[str, bool]]) -> None:
    results = [{"check": name, "passed": passed} for name, passed in checks]
    record = {
        "image_id": image_id,
        "target": target,
        "passed": all(r["passed"] for r in results),
        "checks": results,
        "verified": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = _path(cache_dir, image_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2))
    temporary.replace(path)


def load(cache_dir: Path, image_id: str) -> dict[str, Any] | None:
    try:
        record = json.loads(_path(cache_dir, image_id).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def passed(cache_dir: Path, image_id: str) -> bool:
    record = load(cache_dir, image_id)
    return bool(record and record.get("passed") and record.get("checks"))
