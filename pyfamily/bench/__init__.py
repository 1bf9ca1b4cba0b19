"""Bench: this family's X.Y (release and fast profiles) side by side with Debian's own pythonX.Y on the same base.

`invoke bench` (`make bench`) builds what it needs, then measures in one run: image size, cold start (fresh
writable and fresh read-only container), warm start, a fixed mixed workload (workload.py), a pyperformance
subset, the CPython compile time per profile (and per step), a no-op rebuild and a refresh (`build --refresh`)
against a cold build. It prints one table and writes build/bench/bench.json and build/bench/bench.png. Never
part of `make test`: nothing here is an assertion.
"""

from pyfamily.bench.output import table
from pyfamily.bench.run import Options, run

__all__ = ["Options", "run", "table"]
