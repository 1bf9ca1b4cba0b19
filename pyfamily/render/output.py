"""`invoke render --out DIR`: write contexts only into a folder that render made (it carries a marker file),
atomically (a new folder beside it, then a rename), and never into the recipes or the checkout itself."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from pyfamily.errors import UserError
from pyfamily.util import RECIPES, ROOT

MARKER = ".pyfamily-rendered"
MARKER_TEXT = "Written by `invoke render`; the whole folder is replaced at the next render.\n"


def write_tree(out: Path, fill: Callable[[Path], None]) -> None:
    """Fill a new folder with `fill`, then put it at `out` in place of the previous render."""
    out = out.expanduser().absolute()
    _refuse_unsafe(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fill(fresh)
        (fresh / MARKER).write_text(MARKER_TEXT)
        fresh.chmod(0o755)
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{fresh.name}"
            out.rename(old)
        fresh.rename(out)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _refuse_unsafe(out: Path) -> None:
    resolved = out.resolve()
    for protected in (ROOT, RECIPES):
        if resolved == protected or protected.is_relative_to(resolved) or resolved.is_relative_to(RECIPES):
            raise UserError(
                f"--out {out}: render writes only into a folder of its own, not into the checkout's "
                f"root or its recipes ({RECIPES}); choose e.g. build/rendered."
            )
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UserError(f"--out {out} exists and is not a folder; choose a new folder or one render made.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UserError(
            f"--out {out} holds files that render did not write (it has no {MARKER}); nothing was "
            "changed. Choose a new or empty folder, or one render made before."
        )
