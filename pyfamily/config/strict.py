"""The base of every model of the family schema: strict, so a family file means exactly what it says."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Strict: no unknown keys, no type coercion (a number is not a string), immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
