"""How a step reports progress: one line at a time, to whatever the caller chose (print, a prefixing lambda)."""

from __future__ import annotations

from collections.abc import Callable

Say = Callable[[str], None]
