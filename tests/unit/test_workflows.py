"""The GitHub workflows, read as YAML: the scheduled fan-out's jobs against `invoke matrix` (enough level jobs for
the shipped family, each a call of the one reusable level workflow with its level's matrix), and the hygiene the
ecosystem expects: actions pinned by commit SHA, checkouts that keep no token, least permissions per job (a called
workflow's included), tokens to `docker login` only on stdin, no `${{ }}` inside a `run:` step, every `run:` step
clean under shellcheck and every invoke flag in it one the task has. No engine needed."""

from __future__ import annotations

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
LEVEL = WORKFLOWS / "level.yml"  # one level's build jobs, which images.yml calls once per level
LEVEL_CALL = "$/.github/workflows/level.yml"  # GitHub's self-repository form: this repository, this run's commit
BUILD_COMMAND = (
    'sudo .venv/bin/invoke build --target "$TARGET" --platform "$PLATFORM" --profile release '
    '--parents-from "$STAGING" --stage-to "$STAGING" --layer-cache "$STAGING"'
)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), path
    return document


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    on: Any = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    return {on: None} if isinstance(on, str) else dict(on)


def every_workflow() -> list[Path]:
    found = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    assert IMAGES in found
    return found


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in steps(job) if "run" in step]


def called(job: dict[str, Any]) -> dict[str, Any] | None:
    """The reusable workflow a job calls (`uses:` on the job), read from this repository; None for a job of steps."""
    uses = job.get("uses")
    if uses is None:
        return None
    found = re.fullmatch(r"[$.]/(\.github/workflows/[\w.-]+\.ya?ml)", uses)
    assert found, f"{uses}: the workflows call only this repository's own, at the commit running"
    return load(ROOT / found.group(1))


def doing(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The jobs that run steps for this one: itself, or every job of the workflow it calls."""
    inner = called(job)
    return [job] if inner is None else list(inner["jobs"].values())


@pytest.fixture(scope="module")
def images() -> dict[str, Any]:
    return load(IMAGES)


@pytest.fixture(scope="module")
def jobs(images: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = images["jobs"]
    return found


@pytest.fixture(scope="module")
def level() -> dict[str, Any]:
    return load(LEVEL)


def level_jobs(jobs: dict[str, Any]) -> list[str]:
    return [name for name in jobs if re.fullmatch(r"level-\d+", name)]


def test_the_workflow_has_a_level_job_for_every_level_of_the_shipped_family(jobs: dict[str, dict[str, Any]]) -> None:
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


def test_each_level_job_calls_the_level_workflow_with_its_levels_matrix(jobs: dict[str, dict[str, Any]]) -> None:
    """One copy of a level's build job (level.yml): a level job here is its number, its needs, its skip when the
    family has no such level (an empty matrix, which GitHub refuses) and the call, nothing else; no job here
    builds a target itself."""
    for n, name in enumerate(level_jobs(jobs)):
        assert jobs[name] == {
            "name": f"level {n}",
            "needs": ["plan"] + ([f"level-{n - 1}"] if n else []),
            "if": f"fromJSON(needs.plan.outputs.matrix).depth > {n}",
            "permissions": {"contents": "read", "packages": "write"},
            "uses": LEVEL_CALL,
            "with": {"matrix": f"${{{{ toJSON(fromJSON(needs.plan.outputs.matrix).levels[{n}]) }}}}"},
        }, f"{name} is not only a call of {LEVEL.name} with level {n}'s matrix"
    assert set(jobs) == {"plan", "publish", *level_jobs(jobs)}
    assert not [name for name, job in jobs.items() if any("invoke build" in run for run in runs(job))]


def test_the_level_workflow_is_called_with_a_matrix_and_sets_no_concurrency(level: dict[str, Any]) -> None:
    """In a called workflow `github.workflow` is the caller's: a concurrency group here would be the one the
    caller's run already holds, and GitHub cancels such a run as a deadlock. images.yml's group covers it."""
    assert set(triggers(level)) == {"workflow_call"}
    declared = triggers(level)["workflow_call"]
    assert set(declared) == {"inputs"}  # no secrets: the job logs in with its own GITHUB_TOKEN
    assert {key: value for key, value in declared["inputs"]["matrix"].items() if key != "description"} == {
        "required": True,
        "type": "string",
    }
    assert "concurrency" not in level
    assert not [name for name, job in level["jobs"].items() if "concurrency" in job]


def test_a_level_job_builds_one_target_for_one_platform_natively_through_staging(
    images: dict[str, Any], level: dict[str, Any]
) -> None:
    assert list(level["jobs"]) == ["build"]
    job = level["jobs"]["build"]
    assert job["strategy"] == {"fail-fast": False, "matrix": "${{ fromJSON(inputs.matrix) }}"}
    assert job["runs-on"] == "${{ matrix.runner }}"
    # A called workflow gets none of the caller's env:, so both name the same staging registry.
    assert images["env"]["STAGING"] == level["env"]["STAGING"] == "ghcr.io"
    build = [step for step in steps(job) if "invoke build" in step.get("run", "")]
    assert len(build) == 1
    assert " ".join(build[0]["run"].split()) == BUILD_COMMAND
    assert build[0]["env"] == {"TARGET": "${{ matrix.target }}", "PLATFORM": "${{ matrix.platform }}"}
    order = runs(job)
    assert order.index("sudo make setup host") < order.index(logins(job)[0]["run"]) < order.index(build[0]["run"])


def test_plan_asks_invoke_matrix_for_every_platform(jobs: dict[str, dict[str, Any]]) -> None:
    planned = " ".join(runs(jobs["plan"]))
    assert ".venv/bin/invoke matrix --format github --profile release --platform all" in planned
    assert jobs["plan"]["outputs"] == {"matrix": "${{ steps.matrix.outputs.matrix }}"}


def test_publish_runs_after_every_level_only_when_all_passed(jobs: dict[str, dict[str, Any]]) -> None:
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
        'sudo --preserve-env=ACTIONS_ID_TOKEN_REQUEST_URL,ACTIONS_ID_TOKEN_REQUEST_TOKEN env "PATH=$PATH" '
        ".venv/bin/invoke publish --profile release --sign keyless",
    ]
    # keyless signing: the OIDC token is this job's alone, and cosign is installed before the publish step
    assert job["permissions"]["id-token"] == "write"
    uses = [step.get("uses", "") for step in steps(job)]
    assert any(u.startswith("sigstore/cosign-installer@") for u in uses)


def test_jobs_run_on_the_runners_of_pyfamily_platforms(jobs: dict[str, dict[str, Any]]) -> None:
    known = {p.runner for p in platforms.PLATFORMS.values()}
    for name, job in jobs.items():
        for inner in doing(job):
            assert inner["runs-on"] in known | {"${{ matrix.runner }}"}, name


def test_one_run_at_a_time_none_cancelled_on_schedule_and_by_hand(images: dict[str, Any]) -> None:
    assert images["concurrency"] == {"group": "${{ github.workflow }}", "cancel-in-progress": False}
    assert set(triggers(images)) == {"schedule", "workflow_dispatch"}


def test_the_test_workflow_runs_on_pull_requests_and_pushes() -> None:
    assert {"pull_request", "push"} <= set(triggers(load(WORKFLOWS / "test.yml")))


@pytest.mark.parametrize("path", every_workflow(), ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_and_checkouts_keep_no_token(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        called(job)  # a called workflow is this repository's own, at the commit running
        for step in steps(job):
            if "uses" not in step:
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), f"{name}: {step['uses']}"
            if step["uses"].startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, name


@pytest.mark.parametrize("path", every_workflow(), ids=lambda p: p.name)
def test_least_permissions(path: Path) -> None:
    """Nothing granted to the workflow as a whole beyond reading; each job asks for its own, and only the jobs
    that push to ghcr.io may write, and only packages (and id-token, the one that signs keyless). A called
    workflow's jobs get at most what the calling job grants: it grants what they ask for, no more."""
    workflow = load(path)
    assert workflow["permissions"] in ({}, {"contents": "read"}), path.name
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions", {})
        writes = {scope for scope, access in granted.items() if access == "write"}
        pushes = any("--stage-to" in run or "invoke publish" in run for inner in doing(job) for run in runs(inner))
        signs = any("--sign keyless" in run for inner in doing(job) for run in runs(inner))
        assert writes == ({"packages"} if pushes else set()) | ({"id-token"} if signs else set()), name
        if called(job) is not None:
            asked: dict[str, str] = {}
            for inner in doing(job):
                for scope, access in inner.get("permissions", {}).items():
                    asked[scope] = "write" if "write" in (access, asked.get(scope)) else access
            assert granted == asked, f"{name} grants other than what the jobs it calls ask for"
        if workflow["permissions"] == {}:
            assert granted.get("contents") == "read", name


@pytest.mark.parametrize("path", every_workflow(), ids=lambda p: p.name)
def test_no_expression_is_pasted_into_a_run_step(path: Path) -> None:
    """A `${{ }}` in `run:` is pasted into the script before the shell reads it (template injection): values go
    through `env:`."""
    for name, job in load(path)["jobs"].items():
        for run in runs(job):
            assert "${{" not in run, f"{name}: {run}"


def logins(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in steps(job) if "docker login" in step.get("run", "")]


@pytest.mark.parametrize("path", every_workflow(), ids=lambda p: p.name)
def test_tokens_reach_docker_login_on_stdin_and_no_secret_is_inherited(path: Path) -> None:
    """A token on docker's command line is in the process list; `secrets: inherit` hands a called workflow every
    secret of the repository (zizmor flags it): a called workflow is passed the secrets it names, or none."""
    for name, job in load(path)["jobs"].items():
        assert isinstance(job.get("secrets", {}), dict), f"{name}: secrets: {job['secrets']}"
        for step in logins(job):
            assert "--password-stdin" in step["run"] and '"$TOKEN"' in step["run"], name
            assert re.fullmatch(r"\$\{\{ secrets\.\w+ \}\}", step["env"]["TOKEN"]), name


def shellcheck() -> str | None:
    beside = Path(sys.executable).parent / "shellcheck"
    return str(beside) if beside.exists() else shutil.which("shellcheck")


@pytest.mark.parametrize("path", every_workflow(), ids=lambda p: p.name)
def test_run_steps_pass_shellcheck(path: Path, tmp_path: Path) -> None:
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


def test_every_invoke_flag_in_the_workflows_is_one_the_task_has() -> None:
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
