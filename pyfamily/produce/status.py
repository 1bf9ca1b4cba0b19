"""What became of each target of a build, the summary table, and the verdict on the whole run."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from tabulate import tabulate

from pyfamily.errors import BuildError, Interrupted
from pyfamily.model import Target


class Status(StrEnum):
    PENDING = "pending"
    BUILDING = "building"
    BUILT = "built"
    UP_TO_DATE = "up to date"
    PULLED = "pulled"  # a parent taken from the staging registry (--parents-from), not built
    FAILED = "failed"
    SKIPPED = "skipped"  # something it needs did not build
    INTERRUPTED = "interrupted"  # stopped, or never started, because the run was interrupted

    @property
    def good(self) -> bool:
        return self in (Status.BUILT, Status.UP_TO_DATE, Status.PULLED)

    @property
    def finished(self) -> bool:
        return self not in (Status.PENDING, Status.BUILDING)


@dataclass
class Result:
    target: Target
    status: Status = Status.PENDING
    seconds: float = 0.0
    image_id: str = ""
    size: int = 0
    detail: str = ""
    log: Path | None = None


def duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{seconds:.1f}s"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size else ""


def summary(results: list[Result]) -> str:
    rows = [
        (
            r.target.name,
            r.status.value,
            duration(r.seconds) if r.seconds else "",
            _megabytes(r.size),
            r.image_id.removeprefix("sha256:")[:12],
            r.detail,  # why it was built, why it failed, or what a refresh found
        )
        for r in results
    ]
    return tabulate(rows, headers=["target", "status", "duration", "size", "image id", "detail"])


def check(results: list[Result], signal_number: int | None = None) -> None:
    """Raise when anything did not build, naming what and where its log is."""
    if any(r.status is Status.INTERRUPTED for r in results):
        raise Interrupted(
            "Interrupted: the builds under way were stopped and nothing after them was started; "
            "what finished before keeps its tags.",
            signal_number,
        )
    bad = [r for r in results if not r.status.good]
    if bad:
        where = "; ".join(
            f"{r.target.name}: {r.status.value}"
            + (f" (log {r.log})" if r.status is Status.FAILED and r.log and r.log.exists() else "")
            for r in bad
        )
        raise BuildError(f"{len(bad)} of {len(results)} targets did not build: {where}.")
