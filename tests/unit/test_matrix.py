"""`invoke matrix --format github`: per level, one job per target per platform with the runner that builds it
natively, padded to the workflow's fixed number of level jobs. No engine needed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pyfamily import cli, config, plan, platforms
from pyfamily.cli import planning
from pyfamily.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "images.yaml"
BOTH = ("linux/amd64", "linux/arm64")


def matrix(*, version=(), target=(), platform=(), profile="release") -> dict:
    chosen = cli.selection(version=list(version), target=list(target))
    return json.loads(cli.github_matrix(str(SHIPPED), chosen, profile, list(platform)))


def entries(document: dict) -> list[dict]:
    return [entry for level in document["levels"] for entry in level["include"]]


def test_every_platform_is_the_default_each_with_its_native_runner():
    document = matrix(version=["3.13"])
    selected = plan.select(plan.expand(config.load(SHIPPED), "release", BOTH), cli.selection(version=["3.13"]))
    assert document["platforms"] == list(BOTH)
    for index, level in enumerate(selected.levels):
        got = [(e["target"], e["platform"], e["runner"], e["level"]) for e in document["levels"][index]["include"]]
        assert got == [(t.name, p, platforms.runner(p), index) for t in level for p in BOTH]
    assert document["count"] == len(selected.targets) and document["jobs"] == 2 * len(selected.targets)
    assert {(e["platform"], e["runner"]) for e in entries(document)} == {
        ("linux/amd64", "ubuntu-24.04"),
        ("linux/arm64", "ubuntu-24.04-arm"),
    }


def test_entries_keep_the_fields_of_one_target():
    by_job = {(e["target"], e["platform"]): e for e in entries(matrix(version=["3.13"]))}
    runtime = by_job[("3.13", "linux/arm64")]
    assert runtime["kind"] == "runtime" and runtime["python"] == "3.13" and runtime["variant"] == "plain"
    assert runtime["needs"] == ["base", "cpython-3.13"]
    assert runtime["tags"] == ["3.13", "3.13-trixie", "3.13.15", "3.13.15-trixie"]
    assert by_job[("base", "linux/amd64")]["python"] == "" and by_job[("base", "linux/amd64")]["level"] == 0


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [(["linux/arm64"], ("linux/arm64",)), (["all"], BOTH), (["linux/arm64,linux/amd64"], BOTH)],
)
def test_platform_chooses_as_build_does(requested, chosen):
    document = matrix(target=["base"], platform=requested)
    assert document["platforms"] == list(chosen)
    assert [(e["platform"], e["runner"]) for e in entries(document)] == [(p, platforms.runner(p)) for p in chosen]
    with pytest.raises(UserError, match="--platform linux/sparc: not among"):
        matrix(target=["base"], platform=["linux/sparc"])


def test_levels_are_padded_to_the_workflows_level_jobs():
    document = matrix(target=["3.13"])  # base, cpython-3.13, 3.13: three levels
    assert document["depth"] == 3 and document["level_jobs"] == planning.GITHUB_LEVEL_JOBS
    assert len(document["levels"]) == planning.GITHUB_LEVEL_JOBS
    assert all(level == {"include": []} for level in document["levels"][3:])
    assert [len(level["include"]) for level in document["levels"][:3]] == [2, 2, 2]


def test_a_family_deeper_than_the_workflow_is_refused_not_cut_short(monkeypatch):
    monkeypatch.setattr(planning, "GITHUB_LEVEL_JOBS", 2)
    with pytest.raises(UserError, match=r"3 levels, but \.github/workflows/images\.yml has level jobs for 2 .*level-2"):
        matrix(target=["3.13"])


def test_every_platform_has_a_runner_of_its_own_architecture():
    runners = {name: p.runner for name, p in platforms.PLATFORMS.items()}
    assert len(set(runners.values())) == len(runners)
    assert runners["linux/arm64"].endswith("-arm") and not runners["linux/amd64"].endswith("-arm")


def test_the_task_takes_platform():
    command = ["matrix", "--target", "base", "--platform", "linux/arm64"]
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(ROOT), *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [(e["target"], e["platform"], e["runner"]) for e in entries(document)] == [
        ("base", "linux/arm64", "ubuntu-24.04-arm")
    ]
