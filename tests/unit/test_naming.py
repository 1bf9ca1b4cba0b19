"""The family's images are named as its own: the shipped repository is not another project's, and every README and
example Dockerfile builds FROM the family's repository through a FAMILY build arg defaulting to it."""

import re
from pathlib import Path

from pyfamily import config

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = "snakepacker/python"  # the upstream project's live images: Ubuntu-based, Python in /usr/bin


def dockerfiles() -> dict[str, str]:
    """Every Dockerfile a user reads: the README's Dockerfile blocks and examples/*/Dockerfile."""
    readme = (ROOT / "README.md").read_text()
    found = {
        f"README.md block {n}": block for n, block in enumerate(re.findall(r"```Dockerfile\n(.*?)```", readme, re.S))
    }
    found.update({str(path.relative_to(ROOT)): path.read_text() for path in sorted(ROOT.glob("examples/*/Dockerfile"))})
    return found


def test_shipped_repository_is_the_familys_own():
    family = config.load(ROOT / "images.yaml")
    assert family.repository == "pyfamily/python"
    assert UPSTREAM not in family.repository
    text = (ROOT / "images.yaml").read_text()
    comment = text[: text.index("\nrepository:")].rsplit("\n\n", 1)[-1]
    assert "change this to a namespace of your own" in comment  # documented as the thing to change


def test_every_from_uses_the_family_build_arg_defaulting_to_the_repository():
    repository = config.load(ROOT / "images.yaml").repository
    files = dockerfiles()
    assert len(files) >= 2 and any(name.startswith("README") for name in files)
    for name, text in files.items():
        from_lines = re.findall(r"^FROM\s+(\S+)", text, re.M)
        assert from_lines, name
        stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.M | re.I))
        for image in from_lines:
            assert image.startswith("${FAMILY}:") or image in stages, (name, image)
        defaults = re.findall(r"^ARG FAMILY=(\S+)", text, re.M)
        assert defaults == [repository], (name, defaults)
        assert text.index("ARG FAMILY=") < text.index("FROM "), name  # global: usable in FROM
        assert UPSTREAM not in text.replace("github.com/snakepacker/python", ""), name
