"""Where the tool finds its recipes and keeps what lasts between runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: images.yaml, images/, scripts/, build/
RECIPES = ROOT / "images"  # images/<kind>/: the Dockerfile templates, the files they ship, their checks
WORK_DIR = ROOT / "build"  # what runs write (contexts, logs); its lock keeps a build, verify and publish apart
CACHE_ENV = "PYFAMILY_CACHE"


def default_cache_dir() -> Path:
    """Where source tarballs, Debian trees, exported blobs and the engine's locks are kept: $PYFAMILY_CACHE, else
    ~/.cache/pyfamily."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "pyfamily")


def file_name(text: str) -> str:
    """`text` as one path component, free of separators and of the ':' docker's -v splits on: every run of other
    characters than letters, digits, '_', '.' and '-' becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
