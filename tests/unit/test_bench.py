"""The bench's arithmetic and table, on made-up measurements (the measuring itself is `make bench`'s)."""

from __future__ import annotations

import importlib
import io
import math
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from pyfamily.bench import Options, measure, run, workload
from pyfamily.bench.measure import Report, compile_phases
from pyfamily.bench.output import chart, geomean_ratio, table
from pyfamily.bench.subjects import Subject, also_subject, jit_switch
from pyfamily.errors import UserError


def stats(median: float) -> dict[str, object]:
    return {"median": median, "min": median * 0.9, "max": median * 1.1, "values": [median]}


def subject(label: str, start_ms: float, bench_ms: dict[str, float]) -> Subject:
    measures = {key: stats(start_ms) for key in ("cold_writable_ms", "cold_read_only_ms", "warm_ms")}
    measures["pyperf_ms"] = {name: stats(ms) for name, ms in bench_ms.items()}
    return Subject(label, label, "python3.13", size=100_000_000, measures=measures)


def report(
    subjects: list[Subject],
    compile_times: dict | None = None,
    *,
    quick: bool = False,
    repeats: int = 3,
    benchmarks: tuple[str, ...] = ("json_loads",),
) -> Report:
    """A Report of made-up measurements, with a no-op and a refresh that compiled nothing."""
    builds = {
        "compile_times": compile_times or {},
        "fast-noop": {"wall_seconds": 2.5},
        "fast-refresh": {"wall_seconds": 21.0, "cpython_status": "up to date"},
        "app_smokes": {},
    }
    options = {"version": "3.13", "quick": quick, "repeats": repeats, "benchmarks": list(benchmarks)}
    return Report(2, subjects, builds, [], "2026-12-04T00:00:00+00:00", options)


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
    release = {"seconds": 600, "selection_seconds": 700, "measured": "2026-11-23"}
    text = table(report(subjects, {"release": release}, repeats=7))
    assert "machine: 2 cores" in text
    assert "cold start, fresh --read-only, ms" in text and "1.100x" in text
    assert "pyperformance geomean vs debian" in text and "1.200x" in text
    assert "CPython compile, release profile" in text and "10.0 min" in text
    assert "CPython compile, fast profile" in text and "not measured" in text
    assert "0 CPython compiles" in text


def test_a_ratio_just_short_of_its_goal_does_not_read_as_met() -> None:
    # make bench measured a geomean of 1.0485x against the 1.05x goal, and the table printed 1.05x.
    subjects = [
        subject("3.13 release", 100, {"json_loads": 10.0}),
        subject("debian python3.13", 100, {"json_loads": 10.485}),
    ]
    lines = table(report(subjects)).splitlines()
    geomean = next(line for line in lines if line.startswith("pyperformance geomean")).split("faster)")[1]
    assert "1.05x" not in geomean and "1.048x" in geomean
    assert "1.048x (json_loads)" in next(line for line in lines if line.startswith("slowest benchmark"))


def test_an_unknown_benchmark_is_a_user_error_before_anything_is_built(tmp_path) -> None:
    with pytest.raises(UserError, match="unknown benchmark"):
        run(Options(benchmarks=["no_such_benchmark"], out=tmp_path))


def test_the_mixed_workload_runs_and_gives_the_same_checksum_each_time() -> None:
    # The real workload on this interpreter (one round each): the checksum is what shows that every subject
    # computed the same thing, so it must not depend on the run.
    results = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", workload.SOURCE, "1"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        results.append(workload.parse(done.stdout))
    (first_ms, first_sum), (second_ms, second_sum) = results
    assert first_ms > 0 and second_ms > 0
    assert first_sum == second_sum and len(first_sum) == 16


def test_a_workload_output_that_is_not_one_result_is_refused() -> None:
    with pytest.raises(ValueError, match="not 'MS CHECKSUM 1'"):
        workload.parse("Traceback (most recent call last):\n  ...\nMemoryError\n")
    with pytest.raises(ValueError):
        workload.parse("150.0 0b81399fc44b0439 2")  # two rounds computed different results


def test_the_mixed_workload_keeps_the_best_container_and_flags_differing_results() -> None:
    same = workload.summary([260.0, 250.0, 270.0], ["aa", "aa", "aa"])
    assert (same["best"], same["median"], same["checksum"]) == (250.0, 260.0, "aa")
    assert workload.summary([1.0, 2.0], ["aa", "bb"])["checksum"] == "differs: aa bb"
    assert workload.speed_ratio({"best": 200.0}, {"best": 250.0}) == pytest.approx(1.25)


def test_compile_phases_are_read_from_the_build_log() -> None:
    log = (
        "#11 82.57 checking for -O2... yes\n"
        "#11 83.10 build-python: phase configure took 83 s\n"
        "#11 400.0 build-python: phase PGO-instrumented build took 317 s\n"
        "#11 610.0 build-python: phase PGO training took 210 s\n"
        "#12 20.1 pack-stdlib: phase pack took 19 s\n"
    )
    assert compile_phases(log) == {"configure": 83, "PGO-instrumented build": 317, "PGO training": 210, "pack": 19}
    assert compile_phases("#11 1.0 make took 3 s\n") == {}


def test_the_table_shows_the_mixed_workload_slowest_benchmark_and_compile_steps() -> None:
    ours = subject("3.13 release", 100, {"json_loads": 10.0, "nbody": 100.0})
    debian = subject("debian python3.13", 100, {"json_loads": 12.0, "nbody": 90.0})
    ours.measures["mixed_ms"] = workload.summary([240.0, 250.0], ["aa", "aa"])
    debian.measures["mixed_ms"] = workload.summary([264.0, 270.0], ["aa", "aa"])
    ours.measures["pull_first_output_s"] = stats(2.5)
    ours.measures["largest_layer"] = {"bytes": 90_000_000, "share": 0.77, "step": "ADD rootfs-amd64.tar /"}
    phases = {"configure": 90, "PGO training": 180}
    release = {"seconds": 600, "selection_seconds": 700, "measured": "x", "phases": phases}
    lines = table(report([ours, debian], {"release": release}, benchmarks=("json_loads", "nbody"))).splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("fixed mixed workload"))
    assert "240 (245)" in lines[row] and "1.100x" in lines[row + 1]
    assert any(line.startswith("slowest benchmark") and "0.900x (nbody)" in line for line in lines)
    assert any(line.startswith("where the minutes go") and "configure 1.5, PGO training 3.0" in line for line in lines)
    pulled = next(line for line in lines if line.startswith("pull, then first output, s"))
    assert "2.5 (2.2-2.8)" in pulled and pulled.rstrip().endswith("-")  # Debian's not measured here
    assert any(line.startswith("largest layer") and "90 (77%): ADD rootfs" in line for line in lines)


def test_the_start_timer_needs_no_shell_and_prints_microseconds() -> None:
    # run as in the images (python -c TIMER warm-ups interpreter code), here with this interpreter: no shell involved
    done = subprocess.run(
        [sys.executable, "-c", measure.TIMER, "1", sys.executable, "import json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert 1_000 < int(done.stdout.split()[-1]) < 60_000_000


def test_the_footprint_counts_files_and_both_kinds_of_package_records() -> None:
    archive = io.BytesIO()
    files = {
        "usr/bin/python3": b"x" * 1000,
        "var/lib/dpkg/status": b"Package: libc6\nStatus: install ok installed\n\nPackage: tzdata\n",
        "var/lib/dpkg/status.d/libssl3t64": b"Package: libssl3t64\n",
        "var/lib/dpkg/status.d/libssl3t64.md5sums": b"0 usr/lib/x\n",
    }
    with tarfile.open(fileobj=archive, mode="w") as tree:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tree.addfile(member, io.BytesIO(data))
        folder = tarfile.TarInfo("usr/lib")
        folder.type = tarfile.DIRTYPE
        tree.addfile(folder)
    archive.seek(0)
    found = measure._tree_footprint(archive)
    assert found == {"unpacked_bytes": sum(map(len, files.values())), "debian_packages": 3}


def test_the_table_shows_the_unpacked_size_and_packages_and_skips_pyperformance_of_the_same_interpreter() -> None:
    thin = subject("3.13 release", 100, {"json_loads": 10.0})
    debian = subject("debian python3.13", 100, {"json_loads": 12.0})
    shellless = Subject("3.13-distroless release", "x", "python3.13", size=15_000_000, pyperf=False)
    shellless.measures = {key: stats(90) for key in ("cold_writable_ms", "cold_read_only_ms", "warm_ms")}
    for one, unpacked, packages in ((thin, 100e6, 89), (debian, 120e6, 95), (shellless, 40e6, 14)):
        one.measures.update(unpacked_bytes=int(unpacked), debian_packages=packages)
    text = table(report([thin, debian, shellless], quick=True))
    unpacked = next(line for line in text.splitlines() if "unpacked MB" in line)
    assert unpacked.split()[-3:] == ["100.0", "120.0", "40.0"]
    assert next(line for line in text.splitlines() if "Debian packages" in line).split()[-3:] == ["89", "95", "14"]


def test_the_chart_leaves_out_pyperformance_of_a_subject_that_did_not_run_it(tmp_path) -> None:
    thin = subject("3.13 release", 100, {"json_loads": 10.0})
    debian = subject("debian python3.13", 100, {"json_loads": 12.0})
    shellless = Subject("3.13-distroless release", "x", "python3.13", size=15_000_000, pyperf=False)
    shellless.measures = {key: stats(90) for key in ("cold_writable_ms", "cold_read_only_ms", "warm_ms")}
    chart(report([thin, debian, shellless], quick=True), tmp_path / "b.png")
    assert (tmp_path / "b.png").read_bytes().startswith(b"\x89PNG")


def test_a_compile_buildkit_still_held_is_no_compile_time_and_the_last_measurement_stays(tmp_path) -> None:
    module = importlib.import_module("pyfamily.bench.run")  # the package's `run` is the function it re-exports

    (tmp_path / "compile-times.json").write_text('{"release": {"seconds": 330, "phases": {"configure": 17}}}')
    cached = {"cpython_seconds": 3.7, "cpython_phases": {}, "wall_seconds": 20.0}
    compiled = {"cpython_seconds": 95.0, "cpython_phases": {"configure": 16}, "wall_seconds": 120.0}
    known = module._compile_times(tmp_path, {"release": cached, "fast": compiled})
    assert known["release"] == {"seconds": 330, "phases": {"configure": 17}}
    assert (known["fast"]["seconds"], known["fast"]["phases"]) == (95.0, {"configure": 16})


@pytest.mark.parametrize(
    ("spec", "label", "python", "env"),
    [
        ("debian:trixie", "debian:trixie", "python3", {}),
        ("127.0.0.1:5000/py/python:3.14=python3.14", "127.0.0.1:5000/py/python:3.14 python3.14", "python3.14", {}),
        ("py:3.14=PYTHON_JIT=1 python3.14", "py:3.14 PYTHON_JIT=1 python3.14", "python3.14", {"PYTHON_JIT": "1"}),
        ("py:3.14=PYTHON_JIT=1 X=a=b", "py:3.14 PYTHON_JIT=1 X=a=b", "python3", {"PYTHON_JIT": "1", "X": "a=b"}),
    ],
)
def test_also_takes_an_image_its_interpreter_and_the_environment_before_it(spec, label, python, env) -> None:
    found = also_subject(spec)
    assert (found.label, found.ref, found.python, found.env) == (label, spec.partition("=")[0], python, env)


@pytest.mark.parametrize("spec", ["=python3", "py:3.14=python3.14 -X dev", "py:3.14=python3 PYTHON_JIT=1"])
def test_also_with_more_than_one_interpreter_word_or_no_image_is_refused(spec) -> None:
    with pytest.raises(UserError, match=re.escape("IMAGE=[NAME=VALUE ...] COMMAND")):
        also_subject(spec)


@pytest.mark.parametrize(
    "also",
    [
        ["py:3.14=PYTHON_JIT=1 python3.14", "py:3.14=PYTHON_JIT=1 python3.14"],
        ["py:3.14", "py:3.14=python3"],  # python3 is the default interpreter: the same subject, spelled twice
        ["py:3.14=A=1 B=2 python3.14", "py:3.14=B=2 A=1 python3.14"],
    ],
)
def test_the_same_also_twice_is_refused_before_anything_is_built(tmp_path, also) -> None:
    with pytest.raises(UserError, match="same subject twice"):
        run(Options(also=also, out=tmp_path))


def test_a_minor_debian_does_not_package_is_refused_before_any_compile(tmp_path, monkeypatch) -> None:
    # `invoke bench --version 3.14` on a trixie base compiled the release 3.14 (10+ minutes) before apt found no
    # python3.14 to compare it with. The engine is replaced here: base is "built", Debian's image fails.
    module = importlib.import_module("pyfamily.bench.run")

    class Built:
        def check(self) -> None:
            pass

    def no_python(base_image, minor, out, say):
        raise UserError(f"no python{minor} in this suite")

    def compile_first(*args, **kwargs):
        raise AssertionError("a profile was built before Debian's python was found")

    monkeypatch.setattr(module.produce, "run", lambda *args, **kwargs: Built())
    monkeypatch.setattr(module, "_debian_image", no_python)
    monkeypatch.setattr(module, "_build", compile_first)
    with pytest.raises(UserError, match=re.escape("no python3.14")):
        run(Options(version="3.14", out=tmp_path), say=lambda line: None)


def test_a_minor_the_family_lacks_is_named_as_such_before_anything_is_built(tmp_path, monkeypatch) -> None:
    # Once Debian's python was built first, --version 3.10 read as "Debian's suite must package python3.10".
    module = importlib.import_module("pyfamily.bench.run")

    def built(*args, **kwargs):
        raise AssertionError("something was built for a minor the family does not have")

    monkeypatch.setattr(module.produce, "run", built)
    monkeypatch.setattr(module, "_debian_image", built)
    with pytest.raises(UserError, match=re.escape("--version '3.10' is not a Python version of this family")):
        run(Options(version="3.10", out=tmp_path), say=lambda line: None)


def test_two_interpreters_of_one_image_are_two_subjects() -> None:
    # Debian sid's image holds python3.14 and python3.15: both were refused as "the same subject twice".
    specs = ["sid=python3.14", "sid=PYTHON_JIT=1 python3.14", "sid=python3.15", "sid=PYTHON_JIT=1 python3.15"]
    labels = [also_subject(spec).label for spec in specs]
    assert len(set(labels)) == len(specs)


@pytest.mark.parametrize(
    ("config_args", "env"),
    [
        ("'--enable-optimizations' '--with-lto' '--enable-experimental-jit=yes-off'", {"PYTHON_JIT": "1"}),
        ("'--enable-experimental-jit'", {"PYTHON_JIT": "0"}),
        ("'--enable-experimental-jit=yes'", {"PYTHON_JIT": "0"}),
        ("'--enable-experimental-jit=yes-off' '--enable-experimental-jit=no'", {}),  # the last one counts
        ("'--enable-experimental-jit=interpreter'", {}),  # the tier-2 interpreter, no JIT to switch
        ("'--enable-optimizations' '--with-lto'", {}),
        ("", {}),
    ],
)
def test_the_jit_switch_turns_a_built_in_jit_the_other_way_round(config_args, env) -> None:
    assert jit_switch(config_args) == env


def pyperf_calls(monkeypatch) -> list[tuple[str, ...]]:
    """measure.pyperf's docker runs, recorded; each writes one result where the run mounts /bench/out."""
    calls: list[tuple[str, ...]] = []

    def docker(*args: str, timeout: float = 600) -> str:
        calls.append(args)
        _lib, results = (args[i + 1] for i, arg in enumerate(args) if arg == "-v")
        source, target = results.split(":")
        assert target == "/bench/out"
        (Path(source) / "float.json").write_text('{"benchmarks": [{"runs": [{"values": [0.001]}]}]}')
        return ""

    monkeypatch.setattr(measure, "docker", docker)
    return calls


def test_a_subjects_environment_reaches_its_containers_and_pyperfs_workers(tmp_path, monkeypatch) -> None:
    # pyperf starts its workers with a cleaned environment: a variable it does not inherit is lost on the way, and
    # "JIT on" would time the JIT off.
    calls = pyperf_calls(monkeypatch)
    jit = Subject("py:3.14 PYTHON_JIT=1", "py:3.14", "python3.14", env={"PYTHON_JIT": "1"})
    measure.pyperf([jit], tmp_path / "lib", ["float"], tmp_path, lambda line: None)
    (args,) = calls
    assert args[args.index("PYTHON_JIT=1") - 1] == "-e"
    inherited = args[args.index("--inherit-environ") + 1].split(",")
    assert "PYTHON_JIT" in inherited and "PYTHONPATH" in inherited


def test_a_subject_labelled_with_an_image_reference_gets_a_results_folder_docker_can_mount(tmp_path, monkeypatch):
    # The label of `--also 127.0.0.1:5000/py:3.14` was the results folder's name: its ':' split -v SOURCE:TARGET
    # ("invalid mode: /bench/out").
    calls = pyperf_calls(monkeypatch)
    labels = ["127.0.0.1:5000/py:3.14", "127.0.0.1:5000/py/3.14"]  # differ only where the folder name cannot
    measure.pyperf([Subject(label, label, "python3") for label in labels], tmp_path, ["float"], tmp_path, print)
    mounts = {
        args[i + 1] for args in calls for i, arg in enumerate(args) if arg == "-v" and "/bench/out" in args[i + 1]
    }
    assert len(mounts) == 2


def test_a_release_with_its_jit_built_in_is_measured_both_ways_beside_the_others(monkeypatch) -> None:
    bench_run = importlib.import_module("pyfamily.bench.run")
    monkeypatch.setattr(measure, "docker", lambda *args, **kwargs: "'--with-lto' '--enable-experimental-jit=yes-off'\n")
    builds = {"release": {"image": "sha256:r", "distroless": "sha256:d"}, "fast": {"image": "sha256:f"}}
    subjects, reference = bench_run._subjects("3.14", ["release", "fast"], builds, "debian-python:3.14")
    found = [(s.label, s.ref, s.env, s.pyperf) for s in subjects]
    assert found == [
        ("3.14 release", "sha256:r", {}, True),
        ("3.14 release PYTHON_JIT=1", "sha256:r", {"PYTHON_JIT": "1"}, True),
        ("3.14 fast", "sha256:f", {}, True),
        ("debian python3.14", "debian-python:3.14", {}, True),
        ("3.14-distroless release", "sha256:d", {}, False),
    ]
    assert reference is subjects[3]
    monkeypatch.setattr(measure, "docker", lambda *args, **kwargs: "'--with-lto'\n")
    subjects, _ = bench_run._subjects("3.14", ["release", "fast"], builds, "debian-python:3.14")
    assert [s.label for s in subjects] == ["3.14 release", "3.14 fast", "debian python3.14", "3.14-distroless release"]


def test_the_family_file_is_read_once_for_the_whole_run(tmp_path, monkeypatch) -> None:
    # A run read the family file again for each build: edited during a 14-minute run, it ended at the last step
    # with the edited file's mistakes and no table. Here the file breaks once base is built; the first profile
    # build must still be the family the run started with.
    module = importlib.import_module("pyfamily.bench.run")
    family_file = tmp_path / "family.yaml"
    family_file.write_text(f"extends: {Path(__file__).parents[1] / 'fixtures' / 'family.yaml'}\n")
    built: list[str] = []

    class Reached(Exception):
        pass

    class Built:
        def check(self) -> None:
            pass

    def engine_run(selected, settings, say):
        names = [target.name for target in selected.targets]
        if built:
            raise Reached(names)
        built.append(",".join(names))
        family_file.write_text("python: [this is not the family any more\n")
        return Built()

    monkeypatch.setattr(module.produce, "run", engine_run)
    monkeypatch.setattr(module, "_debian_image", lambda base_image, minor, out, say: "debian-python:3.13")
    with pytest.raises(Reached) as reached:
        run(Options(config=str(family_file), out=tmp_path / "out"), say=lambda line: None)
    assert built == ["base"] and "cpython-3.13" in reached.value.args[0]
