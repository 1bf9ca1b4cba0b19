#!/usr/bin/env python3
"""Build a selection and print a table of build times and image sizes against the family's targets.

usage: benchmark.py [--config FILE] [--version 3.13] [--profile fast] [--cold]
--cold rebuilds every target without any cache (the source cache stays), so the times are real build times.
"""

from __future__ import annotations

import argparse

from tabulate import tabulate

from pyfamily import build, config, plan
from pyfamily.plan import Selection

# Reference sizes in MB: debian:trixie-slim, and the official python:3.X-slim-trixie built from the same tarball.
SIZE_TARGETS = {"base": ("<= 82 (trixie-slim 78 + a few)", 82.0), "runtime": ("< 118 (official slim)", 118.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config")
    parser.add_argument("--version", default="3.13")
    parser.add_argument("--profile")
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()

    family = plan.expand(config.load(args.config), args.profile)
    selected = plan.select(family, Selection(versions=(args.version,), variants=("plain",), apps=False))
    settings = build.Settings(refresh=args.cold, ca_bundle=build.resolve_ca_bundle(family.config))
    report = build.run(selected, settings, say=lambda line: None)
    report.check()
    results = report.results
    rows = []
    for result in results:
        size = result.size / 1e6
        label, limit = SIZE_TARGETS.get(result.target.kind, ("-", None))
        verdict = "-" if limit is None else ("ok" if size <= limit else "OVER")
        rows.append((result.target.name, result.status, f"{result.seconds:.0f}", f"{size:.1f}", label, verdict))
    print(tabulate(rows, headers=["target", "status", "build s", "size MB", "size target MB", "verdict"]))


if __name__ == "__main__":
    main()
