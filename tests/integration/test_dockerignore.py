"""Issue 19 item 6: a project's build context keeps exactly what `docker build` keeps of the same folder.

Each tree below is sent to the real engine with its .dockerignore (`COPY . /` into a local export); the files and
links the export holds are what pyfamily.kinds.project must copy into the context, no more and no less.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pyfamily.kinds import project

pytestmark = pytest.mark.integration

FILES = [
    ".env",
    "src/.env",
    "src/app/secrets/key.pem",
    "src/app/secrets/public.pem",
    "src/app/main.py",
    "src/cache/blob",
    "src/a/b/cache/blob",
    "src/docs/b.txt",
    "docs/a.md",
    "docs/keep.md",
    "README.md",
    "pyproject.toml",
]
LINKS = {"src/app/current": "main.py", "src/alias": "app", "docs/dangling": "missing.md"}

DOCKERIGNORES = [
    "**/.env\n**/secrets\n",
    "**/secrets\n!src/app/secrets/public.pem\n",  # the docker SDK's own walk would keep key.pem here
    "**/secrets\n!**/secrets/public.pem\n",  # ... and leave public.pem out here
    "**/secrets\n!**/secrets/public.pem\n**/public.pem\n",
    "docs\n!**/keep.md\n*.md\n!README.md\n",
    "/docs/\nsrc/**/cache\n*.md\n",
    "src\n!src/app/secrets/key.pem\n# a comment\n\n  /docs/dangling  \n",
    "*\n!src/app\nsrc/app/secrets\n",
    "**\n!pyproject.toml\n!.dockerignore\n",
    "src/app/secrets/*.pem\n!  src/app/secrets/public.pem\n./docs\nsrc/?ache\n[.]env\nsrc/x/../a\n",
    ".dockerignore\n/src/app/\n!src/app/*.py\n",
]


def kept_by_docker(folder: Path, scratch: Path) -> list[str]:
    """The files and links of `folder` that `docker build` copies, as relative names."""
    dockerfile, out = scratch / "Dockerfile", scratch / "out"
    dockerfile.write_text("FROM scratch\nCOPY . /\n")
    command = ["docker", "buildx", "build", "--quiet", "--file", str(dockerfile)]
    command += ["--output", f"type=local,dest={out}", str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    kept = []
    for root, dirs, files in os.walk(out):
        for name in dirs + files:
            path = Path(root, name)
            if path.is_symlink() or not path.is_dir():
                kept.append(path.relative_to(out).as_posix())
    return sorted(kept)


@pytest.mark.parametrize("dockerignore", DOCKERIGNORES)
def test_the_context_keeps_what_docker_build_keeps(tmp_path: Path, docker_client, dockerignore: str) -> None:
    folder = tmp_path / "p"
    for name in FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)
    for name, target in LINKS.items():
        os.symlink(target, folder / name)
    (folder / ".dockerignore").write_text(dockerignore)
    context = tmp_path / "context"
    names = project.copy_project(folder, context, "demo")
    docker_kept = kept_by_docker(folder, tmp_path)
    assert names == docker_kept
    for name in set(names) & set(LINKS):
        assert os.readlink(context / name) == LINKS[name]
