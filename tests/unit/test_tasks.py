"""The invoke tasks as a maintainer runs them: tables print, mistakes give one paragraph and a non-zero exit."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVOKE = [sys.executable, "-m", "invoke"]


def invoke(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INVOKE, "--search-root", str(ROOT), *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )


def test_list_and_plan_print_tables():
    listed = invoke("list")
    assert listed.returncode == 0, listed.stderr
    assert "3.13-pillow" in listed.stdout and "certbot" in listed.stdout
    planned = invoke("plan", "--version", "3.11")
    assert planned.returncode == 0, planned.stderr
    assert "cpython-3.11" in planned.stdout and "level" in planned.stdout


def test_every_task_is_documented():
    listed = invoke("--list").stdout
    names = set(re.findall(r"^  (\w[\w-]*) ", listed, re.MULTILINE))
    assert {"list", "plan", "render", "matrix", "build", "verify", "publish", "docs"} <= names
    for name in names:
        helped = invoke("--help", name)
        assert helped.returncode == 0 and "Docstring:" in helped.stdout, name
        assert "none" not in helped.stdout.split("Docstring:")[1].split("Options:")[0].lower(), name


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("plan", "--version", "3.10"), "--version '3.10' is not a Python version"),
        (("list", "--config", "missing.yaml"), "missing.yaml: cannot read"),
        (("matrix", "--target", "nope"), "--target 'nope' is not a target"),
        (("build", "--offline", "--refresh"), "--refresh asks the Debian archive (and PyPI)"),
        (("build", "--offline", "--no-cache"), "--no-cache asks the Debian archive"),
        (("build", "--no-cache", "--parents-from", "127.0.0.1:9"), "--no-cache builds every target from scratch"),
    ],
)
def test_mistakes_exit_non_zero_without_traceback(args, fragment):
    done = invoke(*args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_config_file_names_the_fault(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "images.yaml").read_text().replace("  tools: [uv]", "  toolz: [uv]"))
    done = invoke("list", "--config", str(bad))
    assert done.returncode == 2
    assert f"{bad}: all.toolz (line" in done.stderr and "Traceback" not in done.stderr


def test_render_writes_contexts(tmp_path):
    out = tmp_path / "rendered"
    done = invoke("render", "--version", "3.13", "--no-apps", "--variant", "plain", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".pyfamily-rendered",
        "3.13",
        "3.13-distroless",
        "base",
        "cpython-3.13",
    ]
    again = invoke("render", "--target", "base", "--out", str(out))  # its own folder: replaced whole
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.iterdir()) == [".pyfamily-rendered", "base"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rendered"]  # no temporary folder left


def test_render_never_touches_a_folder_it_did_not_make(tmp_path):
    mine = tmp_path / "mine"
    (mine / "base").mkdir(parents=True)
    (mine / "base" / "notes.txt").write_text("keep me")
    done = invoke("render", "--target", "base", "--out", str(mine))
    assert done.returncode == 2 and "holds files that render did not write" in done.stderr
    assert (mine / "base" / "notes.txt").read_text() == "keep me"
    recipes = invoke("render", "--target", "base", "--out", str(ROOT / "images"))
    assert recipes.returncode == 2 and "not into the checkout's root or its recipes" in recipes.stderr
    assert (ROOT / "images" / "base" / "Dockerfile.j2").is_file()
    assert "Traceback" not in done.stderr + recipes.stderr


@pytest.mark.parametrize("task", ["plan", "matrix", "list"])
def test_output_cut_short_by_a_pipe_is_no_traceback(task):
    done = subprocess.run(
        f"{sys.executable} -m invoke --search-root {ROOT} {task} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_readme_images_table_is_generated_from_images_yaml():
    from pyfamily import cli

    readme = (ROOT / "README.md").read_text()
    assert cli.readme_with_table(readme, cli.images_markdown(None)) == readme, "run `invoke docs`"
