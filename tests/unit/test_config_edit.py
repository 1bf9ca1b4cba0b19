"""Editing a family file in place: only the changed values move, every other byte (comments, quoting, flow
mappings, multi-line flow lists, block-list indentation, line endings) stays; the whole text is compared."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pyfamily import config as configuration
from pyfamily.config.edit import replace_values, rewrite
from pyfamily.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
NEW_SHA = "0123456789abcdef" * 4
VERSIONS = ("python", "versions")


def only_line_changed(text: str, line_start: str, old: str, new: str) -> str:
    """text with `old` replaced by `new` on the one line that starts with line_start, nowhere else."""
    lines = text.splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.lstrip().startswith(line_start)]
    assert old in lines[index]
    lines[index] = lines[index].replace(old, new)
    return "".join(lines)


def test_images_yaml_changes_only_the_two_values() -> None:
    file = ROOT / "images.yaml"
    text = file.read_text()
    current = configuration.load(file).python.versions["3.13"]
    edited = replace_values(
        text, {(*VERSIONS, "3.13", "version"): "3.13.99", (*VERSIONS, "3.13", "sha256"): NEW_SHA}, file
    )
    expected = only_line_changed(
        text,
        '"3.13":',
        f"{{version: {current.version}, sha256: {current.sha256}}}",
        f"{{version: 3.13.99, sha256: {NEW_SHA}}}",
    )
    assert edited == expected
    assert (
        "build_packages: [dpkg-dev, gcc, libc6-dev, make, pkgconf, xz-utils, libbluetooth-dev, libbz2-dev,\n" in edited
    )
    assert "registries:\n  - " in edited  # block lists keep their indentation (ruamel's dump would not)


def test_multi_line_flow_mapping_with_tarball(tmp_path: Path) -> None:
    text = (ROOT / "tests/fixtures/family.yaml").read_text()
    edits = {
        (*VERSIONS, "3.11", "version"): "3.11.15",
        (*VERSIONS, "3.11", "sha256"): NEW_SHA,
        (*VERSIONS, "3.11", "tarball"): "Python-3.11.15.tgz",
    }
    edited = replace_values(text, edits, Path("family.yaml"))
    old_entry = text[
        text.index('"3.11": {') : text.index("tarball: Python-3.11.2.tgz}") + len("tarball: Python-3.11.2.tgz}")
    ]
    new_entry = (
        old_entry.replace("3.11.2,", "3.11.15,")
        .replace("2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849", NEW_SHA)
        .replace("Python-3.11.2.tgz", "Python-3.11.15.tgz")
    )
    assert "\n             tarball:" in new_entry  # the continuation line keeps its alignment
    assert edited == text.replace(old_entry, new_entry)


def test_quoting_styles_and_block_mappings_are_kept() -> None:
    text = (
        "# head comment\n"
        "python:\n"
        "  versions:\n"
        "    '3.12':                 # single-quoted key\n"
        "      version: '3.12.1'     # stays single-quoted\n"
        '      sha256: "aaaa"\n'
        '    "3.13": {version: "3.13.1", sha256: bbbb}   # trailing comment\n'
        '    "3.14": {version: 3.14.0,   sha256: cccc }\n'
        "# tail\n"
    )
    edits = {
        (*VERSIONS, "3.12", "version"): "3.12.2",
        (*VERSIONS, "3.12", "sha256"): NEW_SHA,
        (*VERSIONS, "3.13", "version"): "3.13.2",
        (*VERSIONS, "3.13", "sha256"): NEW_SHA,
        (*VERSIONS, "3.14", "version"): "3.14.1",
    }
    assert replace_values(text, edits, Path("f.yaml")) == (
        "# head comment\n"
        "python:\n"
        "  versions:\n"
        "    '3.12':                 # single-quoted key\n"
        "      version: '3.12.2'     # stays single-quoted\n"
        f'      sha256: "{NEW_SHA}"\n'
        f'    "3.13": {{version: "3.13.2", sha256: {NEW_SHA}}}   # trailing comment\n'
        '    "3.14": {version: 3.14.1,   sha256: cccc }\n'
        "# tail\n"
    )


def test_a_plain_value_that_would_not_read_as_a_string_is_quoted() -> None:
    text = "a: {sha256: abc, other: x}\n"
    assert replace_values(text, {("a", "sha256"): "1234"}, Path("f")) == 'a: {sha256: "1234", other: x}\n'
    assert replace_values(text, {("a", "sha256"): "1e10"}, Path("f")) == 'a: {sha256: "1e10", other: x}\n'
    assert replace_values(text, {("a", "sha256"): "a b"}, Path("f")) == 'a: {sha256: "a b", other: x}\n'


def test_crlf_line_endings_and_a_bom_are_kept() -> None:
    text = '\ufeff# c\r\npython:\r\n  versions:\r\n    "3.13": {version: 3.13.1, sha256: aa}\r\n'
    edited = replace_values(text, {(*VERSIONS, "3.13", "version"): "3.13.2"}, Path("f"))
    assert edited == text.replace("3.13.1", "3.13.2")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: {v: &x 1.2.3}\nb: *x\n", "carries an anchor (&x) or is an alias"),
        ("a: {w: 1}\n", "a.v is not in the file"),
        ("a: [1, 2]\n", "a is not a mapping"),
        ("a:\n  v: |\n    3.13.1\n", "is not a one-line value"),
        ("a: {v: [1]}\n", "is not a one-line value"),
        ("a: {v: 1\n", "is not valid YAML"),
    ],
)
def test_what_cannot_be_edited_in_place_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        replace_values(text, {("a", "v"): "3.13.2"}, Path("f.yaml"))


def test_rewrite_is_atomic_keeps_the_mode_and_refuses_a_file_changed_meanwhile(tmp_path: Path) -> None:
    file = tmp_path / "images.yaml"
    file.write_text("a: 1\n")
    os.chmod(file, 0o640)
    rewrite(file, "a: 1\n", "a: 2\n")
    assert file.read_text() == "a: 2\n" and stat.S_IMODE(file.stat().st_mode) == 0o640
    with pytest.raises(ConfigError, match="changed while the new versions were found; nothing was written"):
        rewrite(file, "a: 1\n", "a: 3\n")
    assert file.read_text() == "a: 2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images.yaml"]  # no temporary file left behind
