"""The GitHub workflows, read as YAML: the scheduled fan-out's jobs against `invoke matrix` (enough level jobs for
the shipped family, each the same but for its number), and the hygiene the ecosystem expects: actions pinned by
commit SHA, checkouts that keep no token, least permissions per job, no `${{ }}` inside a `run:` step, every
`run:` step clean under shellcheck and every invoke flag in it one the task has. No engine needed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyfamily import config, plan, platforms
from pyfamily.cli import planning
from pyfamily.plan import Selection

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
IMAGES = WORKFLOWS / "images.yml"
BUILD_COMMAND = (
    'sudo .venv/bin/invoke build --target "$TARGET" --platform "$PLATFORM" --profile release '
    '--parents-from "$STAGING" --stage-to "$STAGING" --layer-cache "$STAGING"'
)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), path
    return document


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    return {on: None} if isinstance(on, str) else dict(on)


def every_workflow() -> list[Path]:
    found = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    assert IMAGES in found
    return found


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in steps(job) if "run" in step]


@pytest.fixture(scope="module")
def images() -> dict[str, Any]:
    return load(IMAGES)


@pytest.fixture(scope="module")
def jobs(images) -> dict[str, dict[str, Any]]:
    return images["jobs"]


def level_jobs(jobs: dict[str, Any]) -> list[str]:
    return [name for name in jobs if re.fullmatch(r"level-\d+", name)]


def test_the_workflow_has_a_level_job_for_every_level_of_the_shipped_family(jobs):
    """GitHub cannot create jobs at run time: a family one level deeper than the workflow's level jobs would have
    its last level never built. `invoke matrix` refuses such a family too, but only when the schedule runs."""
    shipped = config.load(ROOT / "images.yaml")
    depth = len(plan.select(plan.expand(shipped, "release", tuple(shipped.platforms)), Selection()).levels)
    names = level_jobs(jobs)
    assert names == [f"level-{n}" for n in range(planning.GITHUB_LEVEL_JOBS)], (
        "the level jobs of images.yml are level-0 ... level-N, as many as GITHUB_LEVEL_JOBS in pyfamily/cli/planning.py"
    )
    assert depth <= len(names), (
        f"images.yaml has {depth} levels but {IMAGES.relative_to(ROOT)} has only {len(names)} level jobs: add "
        f"level-{len(names)} (a copy of the last, its number and needs changed) and raise GITHUB_LEVEL_JOBS"
    )


def test_level_jobs_are_one_job_but_for_their_number(jobs):
    def generic(n: int) -> str:
        job = dict(jobs[f"level-{n}"])
        assert job.pop("needs") == ["plan"] + ([f"level-{n - 1}"] if n else []), f"level-{n} needs"
        text = json.dumps(job, sort_keys=True)
        for mine, placeholder in ((f"levels[{n}]", "levels[N]"), (f"depth > {n}", "depth > N")):
            assert mine in text, f"level-{n} lacks {mine}"
            text = text.replace(mine, placeholder)
        return re.sub(rf"\blevel {n}\b", "level N", text)

    first = generic(0)
    for n in range(1, len(level_jobs(jobs))):
        assert generic(n) == first, f"level-{n} differs from level-0 in more than its number"


def test_a_level_job_builds_one_target_for_one_platform_natively_through_staging(images, jobs):
    job = jobs["level-0"]
    assert job["if"] == "fromJSON(needs.plan.outputs.matrix).depth > 0"
    assert job["strategy"] == {"fail-fast": False, "matrix": "${{ fromJSON(needs.plan.outputs.matrix).levels[0] }}"}
    assert job["runs-on"] == "${{ matrix.runner }}"
    assert images["env"]["STAGING"] == "ghcr.io"
    build = [step for step in steps(job) if "invoke build" in step.get("run", "")]
    assert len(build) == 1
    assert " ".join(build[0]["run"].split()) == BUILD_COMMAND
    assert build[0]["env"] == {"TARGET": "${{ matrix.target }}", "PLATFORM": "${{ matrix.platform }}"}
    assert runs(job).index(build[0]["run"]) > runs(job).index("sudo make setup host")


def test_plan_asks_invoke_matrix_for_every_platform(jobs):
    planned = " ".join(runs(jobs["plan"]))
    assert ".venv/bin/invoke matrix --format github --profile release --platform all" in planned
    assert jobs["plan"]["outputs"] == {"matrix": "${{ steps.matrix.outputs.matrix }}"}


def test_publish_runs_after_every_level_only_when_all_passed(jobs):
    job = jobs["publish"]
    assert job["needs"] == ["plan", *level_jobs(jobs)]
    condition = " ".join(job["if"].split())
    for part in (
        "!cancelled()",
        "needs.level-0.result == 'success'",
        "!contains(needs.*.result, 'failure')",
        "!contains(needs.*.result, 'cancelled')",
        "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)",
    ):
        assert part in condition
    commands = [" ".join(run.split()) for run in runs(job)]
    assert commands[-3:] == [
        'sudo .venv/bin/invoke pull --from "$STAGING" --platform all --profile release',
        "sudo .venv/bin/invoke verify --platform all --profile release",
        "sudo .venv/bin/invoke publish --profile release",
    ]


def test_jobs_run_on_the_runners_of_pyfamily_platforms(jobs):
    known = {p.runner for p in platforms.PLATFORMS.values()}
    for name, job in jobs.items():
        assert job["runs-on"] in known | {"${{ matrix.runner }}"}, name


def test_one_run_at_a_time_none_cancelled_on_schedule_and_by_hand(images):
    assert images["concurrency"] == {"group": "${{ github.workflow }}", "cancel-in-progress": False}
    assert set(triggers(images)) == {"schedule", "workflow_dispatch"}


def test_the_test_workflow_runs_on_pull_requests_and_pushes():
    assert {"pull_request", "push"} <= set(triggers(load(WORKFLOWS / "test.yml")))


@pytest.mark.parametrize("path", every_workflow(), ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_and_checkouts_keep_no_token(path):
    for name, job in load(path)["jobs"].items():
        for step in steps(job):
            if "uses" not in step:
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), f"{name}: {step['uses']}"
            if step["uses"].startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, name


@pytest.mark.parametrize("path", every_workflow(), ids=lambda p: p.name)
def test_least_permissions(path):
    """Nothing granted to the workflow as a whole beyond reading; each job asks for its own, and only the jobs
    that push to ghcr.io may write, and only packages."""
    workflow = load(path)
    assert workflow["permissions"] in ({}, {"contents": "read"}), path.name
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions", {})
        writes = {scope for scope, access in granted.items() if access == "write"}
        pushes = any("--stage-to" in run or "invoke publish" in run for run in runs(job))
        assert writes == ({"packages"} if pushes else set()), name
        if workflow["permissions"] == {}:
            assert granted.get("contents") == "read", name


@pytest.mark.parametrize("path", every_workflow(), ids=lambda p: p.name)
def test_no_expression_is_pasted_into_a_run_step(path):
    """A `${{ }}` in `run:` is pasted into the script before the shell reads it (template injection): values go
    through `env:`."""
    for name, job in load(path)["jobs"].items():
        for run in runs(job):
            assert "${{" not in run, f"{name}: {run}"


def shellcheck() -> str | None:
    beside = Path(sys.executable).parent / "shellcheck"
    return str(beside) if beside.exists() else shutil.which("shellcheck")


@pytest.mark.parametrize("path", every_workflow(), ids=lambda p: p.name)
def test_run_steps_pass_shellcheck(path, tmp_path):
    program = shellcheck()
    if program is None:
        pytest.skip("shellcheck is not installed (make setup installs it from the dev extra)")
    workflow = load(path)
    assert workflow.get("defaults", {}).get("run", {}).get("shell", "bash") == "bash"
    scripts = []
    for name, job in workflow["jobs"].items():
        for index, run in enumerate(runs(job)):
            script = tmp_path / f"{name}-{index}.sh"
            script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + run + "\n")
            scripts.append(str(script))
    done = subprocess.run([program, *scripts], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def invoke_commands(path: Path) -> list[tuple[str, list[str]]]:
    """(task, its --flags) of every `.venv/bin/invoke TASK ...` in the workflow's run: steps."""
    found = []
    for job in load(path)["jobs"].values():
        for run in runs(job):
            for match in re.finditer(r"\.venv/bin/invoke ([\w-]+)([^\n|>;&]*)", " ".join(run.split("\\\n"))):
                found.append((match.group(1), re.findall(r"(?<!\S)(--[\w-]+)", match.group(2))))
    return found


def test_every_invoke_flag_in_the_workflows_is_one_the_task_has():
    commands = [command for path in every_workflow() for command in invoke_commands(path)]
    assert {task for task, _ in commands} >= {"matrix", "build", "pull", "verify", "publish"}
    for task in sorted({task for task, _ in commands}):
        helped = subprocess.run(
            [sys.executable, "-m", "invoke", "--search-root", str(ROOT), "--help", task],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert helped.returncode == 0, helped.stderr
        options = set(re.findall(r"(--[\w-]+)", helped.stdout.split("Options:", 1)[1]))
        for flag in (flag for name, flags in commands if name == task for flag in flags):
            assert flag in options, f"invoke {task} has no {flag}"
