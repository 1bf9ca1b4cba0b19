"""The images under test: a Subject is one image, the interpreter command it is run with and the environment it
runs in; read from `--also` and, for a JIT, from the image's own configure arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any

from pyfamily.errors import UserError


@dataclass
class Subject:
    """One image under test and the interpreter command it is run with."""

    label: str
    ref: str
    python: str
    size: int = 0
    measures: dict[str, Any] = field(default_factory=dict)
    pyperf: bool = True  # False: the same interpreter as another subject (the shell-less image), not timed again
    env: dict[str, str] = field(default_factory=dict)  # set in its containers: PYTHON_JIT=1 is the same image, JIT on

    def env_flags(self) -> list[str]:
        return [flag for name, value in self.env.items() for flag in ("-e", f"{name}={value}")]


ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def also_subject(spec: str) -> Subject:
    """--also IMAGE or IMAGE=COMMAND: COMMAND is the interpreter (default python3), after the NAME=VALUE words
    of its environment, as a shell reads them (`IMAGE=PYTHON_JIT=1 python3.14`: that image with its JIT on)."""
    ref, _, command = spec.partition("=")
    words = command.split()
    assignments = list(takewhile(ASSIGNMENT.match, words))
    env = dict(word.split("=", 1) for word in assignments)
    programs = words[len(assignments) :]
    if not ref or len(programs) > 1:
        raise UserError(
            f"bench: --also {spec!r}: expected IMAGE or IMAGE=[NAME=VALUE ...] COMMAND, one image and at most"
            " one interpreter command (e.g. python3.13, or PYTHON_JIT=1 python3.14)"
        )
    # The interpreter is part of the label: one image may hold several (python3.14 and python3.15 side by side).
    label = " ".join([ref, *assignments, *programs])
    return Subject(label, ref, programs[0] if programs else "python3", env=env)


def jit_switch(config_args: str) -> dict[str, str]:
    """The environment that flips a CPython's JIT from its default, read from its configure arguments
    (sysconfig's CONFIG_ARGS): built in but off (yes-off) is turned on, built in and on is turned off; nothing for
    a build without it (or with only the tier-2 interpreter)."""
    found = re.findall(r"--enable-experimental-jit(?:=([\w-]+))?", config_args)
    if not found:
        return {}
    setting = found[-1] or "yes"  # the last one given counts, as in configure
    return {"yes-off": {"PYTHON_JIT": "1"}, "yes": {"PYTHON_JIT": "0"}}.get(setting, {})
