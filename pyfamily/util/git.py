"""The checkout's git metadata, for the images' revision and source labels."""

from __future__ import annotations

import subprocess

from pyfamily.redaction import redact_text
from pyfamily.util.paths import ROOT


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def git_revision() -> str:
    return _git("rev-parse", "HEAD") or "unknown"


def git_source() -> str:
    """Where the recipes live: the checkout's origin remote (without credentials), else the local path."""
    return redact_text(_git("remote", "get-url", "origin")) or f"file://{ROOT}"
