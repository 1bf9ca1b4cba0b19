"""`invoke update-versions` edits the file that writes each version: with `extends:`, maybe the file extended."""

from __future__ import annotations

from pathlib import Path

from pyfamily.cli.versions import _edit_versions
from pyfamily.config import PythonVersion
from pyfamily.sources.releases import Lookup, Release

from .families import MINIMAL, SHA


def test_versions_are_edited_in_the_file_that_writes_them(tmp_path: Path) -> None:
    """With `extends:`, the versions may be written in the file extended: that file is the one edited."""
    parent, child = tmp_path / "images.yaml", tmp_path / "child.yaml"
    parent.write_text(MINIMAL)
    child.write_text("extends: images.yaml  # only the repository differs\nrepository: other/python\n")
    current = PythonVersion(version="3.13.15", sha256=SHA)
    found = Lookup("3.13", current, "python.org", "3.13.16", Release("3.13.16", "Python-3.13.16.tar.xz", "http://x"))
    new_sha = "b" * 64
    edited = _edit_versions(child, [found], {"3.13": new_sha})
    bumped = MINIMAL.replace(f"version: 3.13.15, sha256: {SHA}", f"version: 3.13.16, sha256: {new_sha}")
    assert edited == {str(parent): (MINIMAL, bumped)}
    child.write_text(f'extends: images.yaml\npython:\n  versions:\n    "3.13": {{version: 3.13.15, sha256: {SHA}}}\n')
    assert list(_edit_versions(child, [found], {"3.13": new_sha})) == [str(child)]
