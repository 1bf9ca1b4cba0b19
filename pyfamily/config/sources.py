"""The `sources` section: where CPython's tarballs come from besides python.org."""

from __future__ import annotations

from pyfamily.config.strict import Model
from pyfamily.config.values import (
    HttpUrl,
)


class SourcesSpec(Model):
    mirrors: list[HttpUrl] = []
    debian_archive: HttpUrl | None = None
