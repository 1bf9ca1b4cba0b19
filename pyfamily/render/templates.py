"""The Jinja environment recipes render in, with the two filters every value from a family file goes through:
`sh` (quoted for a shell: a string, or a list as separate words) and `json` (exec-form instructions)."""

from __future__ import annotations

import functools
import json
import shlex
from collections.abc import Iterable
from pathlib import Path

import jinja2


def shell_words(value: str | int | Iterable[str | int]) -> str:
    """One shell word per item, each quoted so no value can add a command, a redirect or another word."""
    if isinstance(value, str | int):
        return shlex.quote(str(value))
    return " ".join(shlex.quote(str(item)) for item in value)


def exec_form(value: Iterable[str | int]) -> str:
    """A JSON array for ENTRYPOINT/CMD/VOLUME: Docker reads it as is, no shell in between."""
    return json.dumps([str(item) for item in value], ensure_ascii=False)


@functools.cache
def environment(*roots: Path) -> jinja2.Environment:
    """Templates are looked up below each of `roots` in turn: a recipe's own folder, then the folder of every recipe
    (where `{% include "app/run-stage.j2" %}` finds the parts recipes share)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(root) for root in roots]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Dockerfiles, not HTML: values are quoted with `sh` / `json` instead
    )
    env.filters["sh"] = shell_words
    env.filters["json"] = exec_form
    return env
