"""The bench's table (tabulate) and chart (matplotlib, when installed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tabulate import tabulate

from pyfamily.bench.measure import Report
from pyfamily.bench.subjects import Subject
from pyfamily.bench.workload import speed_ratio


def _ms(stats: dict[str, Any] | None, digits: str = ".0f") -> str:
    if not stats:
        return "-"
    return f"{stats['median']:{digits}} ({stats['min']:{digits}}-{stats['max']:{digits}})"


def _best(mixed: dict[str, Any]) -> str:
    same = "" if not str(mixed["checksum"]).startswith("differs") else " RESULTS DIFFER"
    return f"{mixed['best']:.0f} ({mixed['median']:.0f}){same}"


def _ratio(value: float) -> str:
    """A ratio beside its goal, to three places: rounded to two, 1.0485 would read as a met goal of 1.05x."""
    return f"{value:.3f}x"


def _ratios(subject: Subject, reference: Subject) -> dict[str, float]:
    """Per benchmark, reference time / subject time (above 1.00: the subject is faster)."""
    mine, theirs = subject.measures.get("pyperf_ms", {}), reference.measures.get("pyperf_ms", {})
    return {n: theirs[n]["median"] / mine[n]["median"] for n in mine if n in theirs}


def _slowest(subject: Subject, reference: Subject) -> str:
    ratios = _ratios(subject, reference)
    if not ratios:
        return "-"
    name = min(ratios, key=ratios.__getitem__)
    return f"{_ratio(ratios[name])} ({name})"


def geomean_ratio(subject: Subject, reference: Subject) -> float | None:
    """Geometric mean over benchmarks of reference time / subject time: above 1.00 means faster."""
    ratios = list(_ratios(subject, reference).values())
    return math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else None


def table(report: Report) -> str:
    subjects = report.subjects
    debian = next(s for s in subjects if s.label.startswith("debian"))
    headers = ["", *(s.label for s in subjects)]
    rows: list[list[str]] = [["image size MB (compressed)", *(f"{s.size / 1e6:.1f}" for s in subjects)]]
    if all("unpacked_bytes" in s.measures for s in subjects):
        rows.append(["  unpacked MB", *(f"{s.measures['unpacked_bytes'] / 1e6:.1f}" for s in subjects)])
        rows.append(["  Debian packages", *(str(s.measures["debian_packages"]) for s in subjects)])
    for key, label in (
        ("cold_writable_ms", "cold start, fresh container, ms"),
        ("cold_read_only_ms", "cold start, fresh --read-only, ms"),
        ("warm_ms", "warm start, ms"),
    ):
        rows.append([label, *(_ms(s.measures.get(key)) for s in subjects)])
        base = debian.measures[key]["median"]
        rows.append(["  vs debian (<= 1.2x)", *(_ratio(s.measures[key]["median"] / base) for s in subjects)])
    if all("mixed_ms" in s.measures for s in subjects):
        rows.append(["fixed mixed workload, ms: best (median)", *(_best(s.measures["mixed_ms"]) for s in subjects)])
        ratios = (speed_ratio(s.measures["mixed_ms"], debian.measures["mixed_ms"]) for s in subjects)
        rows.append(["  vs debian (>= 1.03x faster)", *(_ratio(r) for r in ratios)])
    rows.append(
        ["pyperformance geomean vs debian (>= 1.05x faster)"]
        + [_ratio(r) if (r := geomean_ratio(s, debian)) else "-" for s in subjects]
    )
    rows.append(["  slowest benchmark vs debian (>= 0.95x)", *(_slowest(s, debian) for s in subjects)])
    for name in report.options["benchmarks"]:
        rows.append([f"  {name}, ms", *(_ms(s.measures.get("pyperf_ms", {}).get(name), ".3g") for s in subjects)])
    compile_times = report.builds["compile_times"]
    for profile in ("release", "fast"):
        known = compile_times.get(profile)
        cell = f"{known['seconds'] / 60:.1f} min ({known['measured']})" if known else "not measured"
        rows.append([f"CPython compile, {profile} profile", cell, *([""] * (len(subjects) - 1))])
        if known and known.get("phases"):
            where = ", ".join(f"{name} {seconds / 60:.1f}" for name, seconds in known["phases"].items())
            rows.append(["  where the minutes go", where, *([""] * (len(subjects) - 1))])
    noop = report.builds["fast-noop"]["wall_seconds"]
    rows.append(["no-op rebuild (fast, all up to date), s", f"{noop:.1f}", *([""] * (len(subjects) - 1))])
    refresh = report.builds["fast-refresh"]
    cold = compile_times.get("fast", {}).get("selection_seconds")
    compiles = 0 if refresh["cpython_status"] != "built" else 1
    share = f" = {100 * refresh['wall_seconds'] / cold:.0f}% of a cold build ({cold:.0f} s)" if cold else ""
    cell = f"{refresh['wall_seconds']:.0f} s{share}; {compiles} CPython compiles"
    rows.append(["refresh (fast, build --refresh), s", cell, *([""] * (len(subjects) - 1))])
    rows.extend(_pull_rows(subjects))
    for name, stats in report.builds["app_smokes"].items():
        rows.append([f"app {name}: smoke, fresh --read-only, ms (incl. docker run)", _ms(stats)])
    text = tabulate(rows, headers=headers, disable_numparse=True)
    lines = [f"machine: {report.cores} cores; timings: median (min-max) of {report.options['repeats']} runs", text]
    return "\n".join([*lines, *(f"note: {n}" for n in report.notes)])


def _pull_rows(subjects: list[Subject]) -> list[list[str]]:
    if not any("pull_first_output_s" in s.measures for s in subjects):
        return []
    return [
        ["pull from 127.0.0.1, s", *(_ms(s.measures.get("pull_s"), ".1f") for s in subjects)],
        ["pull, then first output, s", *(_ms(s.measures.get("pull_first_output_s"), ".1f") for s in subjects)],
        ["  largest layer, MB (share)", *(_layer(s.measures.get("largest_layer")) for s in subjects)],
    ]


def _layer(layer: dict[str, Any] | None) -> str:
    return f"{layer['bytes'] / 1e6:.0f} ({layer['share']:.0%}): {layer['step'][:40]}" if layer else "-"


def chart(report: Report, path: Path) -> None:
    import matplotlib  # type: ignore[import-not-found,unused-ignore]  # optional: only the chart needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]

    subjects = report.subjects
    figure, (starts, perf) = plt.subplots(1, 2, figsize=(13, 5))
    keys = ("cold_writable_ms", "cold_read_only_ms", "warm_ms")
    width = 0.8 / len(subjects)
    for i, subject in enumerate(subjects):
        positions = [k + i * width for k in range(len(keys))]
        starts.bar(positions, [subject.measures[k]["median"] for k in keys], width, label=subject.label)
    starts.set_xticks([k + 0.4 - width / 2 for k in range(len(keys))], ["cold", "cold read-only", "warm"])
    starts.set_ylabel("ms (median)")
    starts.set_title(f"import set start-up ({report.cores} cores)")
    starts.legend()
    debian = next(s for s in subjects if s.label.startswith("debian"))
    names = report.options["benchmarks"]
    for i, subject in enumerate(s for s in subjects if s.pyperf):  # the shell-less image's CPython is not run twice
        mine, theirs = subject.measures["pyperf_ms"], debian.measures["pyperf_ms"]
        positions = [k + i * width for k in range(len(names))]
        perf.bar(positions, [theirs[n]["median"] / mine[n]["median"] for n in names], width, label=subject.label)
    perf.axhline(1.0, color="black", linewidth=0.8)
    perf.set_xticks([k + 0.4 - width / 2 for k in range(len(names))], names, rotation=45, ha="right")
    perf.set_ylabel("speed vs Debian's python (higher is faster)")
    perf.set_title("pyperformance subset")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
