"""The invoke tasks as a maintainer runs them: tables print, mistakes give one paragraph and a non-zero exit."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INVOKE = [sys.executable, "-m", "invoke"]


def invoke(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INVOKE, "--search-root", str(ROOT), *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60, check=False)


def test_list_and_plan_print_tables():
    listed = invoke("list")
    assert listed.returncode == 0, listed.stderr
    assert "3.13-pillow" in listed.stdout and "certbot" in listed.stdout
    planned = invoke("plan", "--version", "3.11")
    assert planned.returncode == 0, planned.stderr
    assert "cpython-3.11" in planned.stdout and "level" in planned.stdout


def test_every_task_is_documented():
    listed = invoke("--list").stdout
    for name in ("list", "plan", "render", "matrix", "build", "verify", "publish", "docs"):
        assert name in listed
        assert invoke("--help", name).returncode == 0


@pytest.mark.parametrize(("args", "fragment"), [
    (("plan", "--version", "3.10"), "--version '3.10' is not a Python version"),
    (("list", "--config", "missing.yaml"), "missing.yaml: cannot read"),
    (("matrix", "--target", "nope"), "--target 'nope' is not a target"),
])
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
    done = invoke("render", "--version", "3.13", "--no-apps", "--variant", "plain", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.13", "base", "cpython-3.13"]


def test_readme_images_table_is_generated_from_images_yaml():
    from pyfamily import cli

    readme = (ROOT / "README.md").read_text()
    assert cli.readme_with_table(readme, cli.images_markdown(None)) == readme, "run `invoke docs`"
