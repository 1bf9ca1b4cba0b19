"""The bench's arithmetic and table, on made-up measurements (the measuring itself is `make bench`'s)."""

from __future__ import annotations

import math

import pytest

from pyfamily.bench import Options, run
from pyfamily.bench.measure import Report, Subject
from pyfamily.bench.output import geomean_ratio, table
from pyfamily.errors import UserError


def stats(median: float) -> dict[str, object]:
    return {"median": median, "min": median * 0.9, "max": median * 1.1, "values": [median]}


def subject(label: str, start_ms: float, bench_ms: dict[str, float]) -> Subject:
    measures = {key: stats(start_ms) for key in ("cold_writable_ms", "cold_read_only_ms", "warm_ms")}
    measures["pyperf_ms"] = {name: stats(ms) for name, ms in bench_ms.items()}
    return Subject(label, label, "python3.13", size=100_000_000, measures=measures)


def test_geomean_ratio_is_above_one_when_faster_than_the_reference() -> None:
    debian = subject("debian python3.13", 100, {"json_loads": 20.0, "float": 80.0})
    ours = subject("3.13 release", 100, {"json_loads": 10.0, "float": 80.0})
    assert geomean_ratio(ours, debian) == pytest.approx(math.sqrt(2))
    assert geomean_ratio(debian, debian) == pytest.approx(1.0)


def test_the_table_has_the_rows_the_issue_asks_for() -> None:
    subjects = [
        subject("3.13 release", 110, {"json_loads": 10.0}),
        subject("debian python3.13", 100, {"json_loads": 12.0}),
    ]
    builds = {
        "compile_times": {"release": {"seconds": 600, "selection_seconds": 700, "measured": "2026-11-23"}},
        "fast-noop": {"wall_seconds": 2.5},
        "fast-refresh": {"wall_seconds": 21.0, "cpython_status": "up to date"},
        "app_smokes": {},
    }
    options = {"version": "3.13", "quick": False, "repeats": 7, "benchmarks": ["json_loads"]}
    text = table(Report(2, subjects, builds, [], "2026-11-23T00:00:00+00:00", options))
    assert "machine: 2 cores" in text
    assert "cold start, fresh --read-only, ms" in text and "1.10x" in text
    assert "pyperformance geomean vs debian" in text and "1.20x" in text
    assert "CPython compile, release profile" in text and "10.0 min" in text
    assert "CPython compile, fast profile" in text and "not measured" in text
    assert "0 CPython compiles" in text


def test_an_unknown_benchmark_is_a_user_error_before_anything_is_built(tmp_path) -> None:
    with pytest.raises(UserError, match="unknown benchmark"):
        run(Options(benchmarks=["no_such_benchmark"], out=tmp_path))
