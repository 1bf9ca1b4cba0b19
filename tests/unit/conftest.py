"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake_releases import ArchiveKeys


@pytest.fixture(scope="module")
def keys() -> Iterator[ArchiveKeys]:
    """A Debian-like archive signing key, made in the test with gpg (one per module: making keys takes a while)."""
    made = ArchiveKeys()
    try:
        yield made
    finally:
        made.close()
