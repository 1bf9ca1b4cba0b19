"""Issue 21: identical inputs, identical images, on the real engine.

`invoke rebuild-check` builds the fixture family's base again from scratch (Debian bootstrapped again with
mmdebstrap, no BuildKit cache) and its platform manifest must come out with the digest it had. A rebuild whose
inputs' time differs ($SOURCE_DATE_EPOCH) must be reported as different, with where: the config's created time and
the files of the layer whose times moved.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyfamily import cli, config, kinds, oci, plan, produce
from pyfamily.cli.rebuild import RebuildDiffers
from pyfamily.config import Config
from pyfamily.kinds import Draft, Index, Recipe
from pyfamily.model import FROM
from pyfamily.plan import Selection
from pyfamily.util import git_revision

from . import support

pytestmark = pytest.mark.integration

BASE = Selection(names=("base",))


@pytest.fixture
def own_base(tmp_path: Path) -> Iterator[Path]:
    """The fixture family under a repository of its own, its base built once the usual way."""
    file = tmp_path / "family.yaml"
    file.write_text(f"extends: {support.FIXTURE}\nrepository: pyfamily-rebuild/python\n")
    family = plan.expand(config.load(file))
    work = tmp_path / "work"
    settings = produce.Settings(jobs=1, ca_bundle=support.HOST_CA_BUNDLE, work_dir=work, revision=git_revision())
    produce.run(plan.select(family, BASE), settings, say=print).check()  # at this checkout's revision
    yield file
    support.untag("pyfamily-rebuild/python")


def test_base_rebuilt_from_scratch_is_identical(own_base):
    """`invoke rebuild-check` as a user runs it; the image it compares with was built at this revision."""
    family = plan.expand(config.load(own_base))
    before = oci.export(family["base"].ref, produce.Settings().cache_dir)
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(support.ROOT), "rebuild-check", "--config",
         str(own_base), "--target", "base"],
        capture_output=True, text=True, timeout=1200, check=False, cwd=support.ROOT,
        env={k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "[base] bootstrapping Debian trixie" in done.stdout  # from scratch: not the cached tree
    assert "from scratch (--no-cache)" in done.stdout
    (platform,) = before.index.images
    assert f"base {platform.platform}: identical ({platform.digest})" in done.stdout
    assert "1 of 1 platform manifests identical" in done.stdout


def test_a_rebuild_at_another_time_is_reported_with_where_it_differs(own_base, monkeypatch, capsys):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000000000")  # the inputs' time, moved to 2001-09-09
    with pytest.raises(RebuildDiffers, match="differs for base"):
        cli.rebuild_check(str(own_base), BASE, profile=None, jobs=1, ca_bundle=None, docker=None)
    shown = capsys.readouterr().out
    assert "base linux/amd64: DIFFERS (sha256:" in shown, shown[-3000:]
    config_line = next(line for line in shown.splitlines() if "config differs: " in line)
    keys = set(config_line.split(": ", 1)[1].split(", "))
    assert {"config.Labels.org.opencontainers.image.created", "created", "history"} <= keys, config_line
    assert not any("revision" in key for key in keys)  # built at this very revision
    # $SOURCE_DATE_EPOCH is every image's time, the bootstrapped tree's too: its layer is the first that differs
    assert "layer 1 of 2 differs" in shown
    files = shown.split("layer 1 of 2 differs", 1)[1].splitlines()[1:6]
    assert all(", mtime 2001-09-09 01:46:40, " in line.split(" -> ")[1] for line in files), files
    assert "0 of 1 platform manifests identical" in shown


def _tools(config: Config, profile: str, index: Index) -> list[Draft]:
    return [Draft("tools", uses={FROM: index.find("base")}, tag_templates=["tools"])]


@pytest.fixture
def own_tools(tmp_path: Path, own_base: Path) -> Iterator[Path]:
    """A kind of the test's own on base, its RUN step writing what a clock would stamp (apt, a user, .pyc)."""
    folder = tmp_path / "tools"
    folder.mkdir()
    (folder / "Dockerfile.j2").write_text(
        "FROM {{ parent }}\n"
        "RUN apt-install python3-minimal && useradd --system --no-create-home tool"
        " && mkdir /opt/tool && echo 'x = 1' > /opt/tool/m.py && python3 -m compileall -q /opt/tool\n"
    )
    kinds.register(Recipe(kind="tools", expand=_tools, folder=folder, describe=lambda config, target: "tools"))
    try:
        family = plan.expand(config.load(own_base))
        work = tmp_path / "work"
        settings = produce.Settings(jobs=1, ca_bundle=support.HOST_CA_BUNDLE, work_dir=work, revision=git_revision())
        produce.run(plan.select(family, Selection(names=("tools",))), settings, say=print).check()
        yield own_base
    finally:
        kinds.unregister("tools")


def test_an_image_built_on_a_rebuilt_parent_is_identical(own_tools, capsys):
    """The child names its parent by its platform manifests, not its index (whose provenance records when it was
    built): its labels, hence its manifest, stay the same when base is rebuilt bit for bit."""
    verdicts = cli.rebuild_check(
        str(own_tools), Selection(names=("tools",)), profile=None, jobs=1, ca_bundle=None, docker=None
    )
    shown = capsys.readouterr().out
    assert [(v.target, v.identical) for v in verdicts] == [("base", True), ("tools", True)], shown[-3000:]
