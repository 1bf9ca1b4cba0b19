"""The family file reader: bounded YAML, `extends` keeping each value's file and line, the package's public API."""

from pathlib import Path

import pytest

from pyfamily import config
from pyfamily.config import rawfile
from pyfamily.errors import ConfigError

from .families import MINIMAL, SHA

ROOT = Path(__file__).resolve().parents[2]
PYTHON = {"default": "3.13", "versions": {"3.13": {"version": "3.13.15", "sha256": SHA}}}


def refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_package_exports_what_other_modules_use():
    for name in [
        "load",
        "validate",
        "config_path",
        "format_key_path",
        "Config",
        "PythonVersion",
        "TagsSpec",
        "AppSpec",
    ]:
        assert hasattr(config, name), name
    for name in ["VariantSpec", "PLAIN", "TAG_FIELDS", "DEFAULT_CONFIG", "CONFIG_ENV", "KeyPath", "RegistrySpec"]:
        assert hasattr(config, name), name
    assert config.RESERVED_TAG_PREFIXES == ("rootfs-", "cpython-", "builder-", "sbom-")
    assert config.DEFAULT_CONFIG == ROOT / "images.yaml" and config.DEFAULT_CONFIG.is_file()
    assert config.TAG_FIELDS["app"] == {"name", "minor", "version", "variant", "suite"}


def test_fixture_registry_and_attributes_other_modules_read():
    family = config.load(ROOT / "tests" / "fixtures" / "family.yaml")
    assert family.registries == [config.RegistrySpec(host="127.0.0.1:5000", insecure=True)]
    spec = family.python.versions["3.11"]
    assert (spec.version, spec.minor, spec.filename) == ("3.11.2", "3.11", "Python-3.11.2.tgz")
    assert family.base.bootstrap is not None and family.base.from_image is None
    assert family.apps["ipython"].requirements == ["ipython"] and family.all.tools == ["uv"]


def test_validate_accepts_parsed_data_with_line_numbers(tmp_path):
    file = tmp_path / "f.yaml"
    with pytest.raises(ConfigError, match=r"f\.yaml: repository \(line 7\): 'Bad' is not a repository"):
        config.validate({"repository": "Bad", "python": PYTHON}, file, {("repository",): 7})
    origin = config.Origin(tmp_path / "parent.yaml", 3)
    with pytest.raises(ConfigError, match=r"repository \(line 3 of .*parent\.yaml, inherited through `extends`\)"):
        config.validate({"repository": "Bad", "python": PYTHON}, file, {("repository",): origin})


PARENT = (
    MINIMAL
    + """all:
  packages: [curl, "bad package"]
  tools: [uv]
apps:
  tool:
    python: "3.13"
    requirements: [tool]
    entrypoint: [tool]
    smoke: [tool]
    volumes: [relative]
"""
)


def test_a_fault_inherited_through_extends_names_the_parent_file_and_line(tmp_path):
    (tmp_path / "parent.yaml").write_text(PARENT)
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: parent.yaml\nrepository: other/python\napps:\n  tool:\n" + PARENT.split("  tool:\n")[1][:-24]
    )
    message = refusal(child)
    assert message.startswith(f"{child}: all.packages[1] (line 7 of {tmp_path / 'parent.yaml'}, inherited through")
    assert "apps.tool" not in message  # the child restated apps.tool without the bad volume


def test_a_fault_the_child_writes_names_the_child_line(tmp_path):
    (tmp_path / "parent.yaml").write_text(MINIMAL)
    child = tmp_path / "child.yaml"
    child.write_text("# the child\nextends: parent.yaml\n\nall:\n  tools: [uv, 'no good']\n")
    assert f"{child}: all.tools[1] (line 5): 'no good'" in refusal(child)


def test_a_child_restating_a_key_clears_the_parents_fault(tmp_path):
    (tmp_path / "parent.yaml").write_text(PARENT)
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: parent.yaml\nall:\n  packages: [curl]\napps: {tool: {python: '3.13', "
        "requirements: [t], cmd: [t], smoke: [t]}}\n"
    )
    family = config.load(child)
    assert family.all.packages == ["curl"] and family.all.tools == ["uv"]


def test_extends_chains_are_bounded_and_name_each_link(tmp_path):
    (tmp_path / "f0.yaml").write_text("repository: [")
    for index in range(1, 4):
        (tmp_path / f"f{index}.yaml").write_text(f"extends: f{index - 1}.yaml\n")
    message = refusal(tmp_path / "f3.yaml")
    assert "not valid YAML" in message and "f0.yaml is extended by" in message and "f2.yaml is extended by" in message
    for index in range(4, 12):
        (tmp_path / f"f{index}.yaml").write_text(f"extends: f{index - 1}.yaml\n")
    assert "more than 8 files extend one another" in refusal(tmp_path / "f11.yaml")


def test_aliases_within_the_limits_are_fine(tmp_path):
    text = MINIMAL + "x-common: &dev [libpng-dev, libjpeg-dev]\n"
    text = (
        MINIMAL
        + "all:\n  packages: &dev [libpng-dev, libjpeg-dev]\nvariants:\n  pillow: {dev_packages: *dev, probe: pillow}\n"
    )
    (tmp_path / "f.yaml").write_text(text)
    family = config.load(tmp_path / "f.yaml")
    assert family.variants["pillow"].dev_packages == family.all.packages == ["libpng-dev", "libjpeg-dev"]


def test_file_size_is_capped_before_parsing(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(MINIMAL + "#" * (rawfile.MAX_BYTES - len(MINIMAL) - 1) + "\n")
    assert config.load(path).repository == "owner/python"  # exactly the limit: read
    path.write_text(MINIMAL + "#" * (rawfile.MAX_BYTES - len(MINIMAL)) + "\n")
    assert "larger than 1024 KiB" in refusal(path)


def test_numbers_where_strings_belong_are_shown_as_written(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(MINIMAL.replace('default: "3.13"', "default: 3.10"))
    assert 'python.default (line 3): expected a string, got the number 3.1; write it as a quoted string ("3.10")' in (
        refusal(path)
    )


def test_many_faults_are_counted_and_long_values_cut(tmp_path):
    path = tmp_path / "f.yaml"
    packages = ", ".join(f'"Bad{index}{"x" * 200}"' for index in range(15))
    path.write_text(MINIMAL + f"all:\n  packages: [{packages}]\n")
    message = refusal(path)
    assert "has 15 mistakes" in message and "; and 5 more" in message
    assert len(message) < 15 * 300 and "x" * 100 not in message


@pytest.mark.parametrize(
    ("port", "fragment"), [("0", "from 1 to 65535"), ("70000", "from 1 to 65535"), ("true", "integer")]
)
def test_ports_are_checked(tmp_path, port, fragment):
    path = tmp_path / "f.yaml"
    path.write_text(
        MINIMAL + f"apps:\n  t:\n    python: '3.13'\n    requirements: [t]\n    cmd: [t]\n    smoke: [t]\n"
        f"    ports: [{port}]\n"
    )
    assert f"apps.t.ports[0] (line 12): {'' if port == 'true' else repr(int(port)) + ' is out of range; '}" in refusal(
        path
    )
    assert fragment in refusal(path)
