"""Loading images.yaml: the shipped file loads, and every mistake is refused with a message naming it."""

from pathlib import Path

import pytest

from pyfamily import config
from pyfamily.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "images.yaml"
FIXTURE = ROOT / "tests" / "fixtures" / "family.yaml"


def test_shipped_file_defines_the_family():
    family = config.load(SHIPPED)
    assert family.minors == ["3.11", "3.12", "3.13", "3.14", "3.15"]
    assert family.python.versions["3.13"].version == "3.13.15"
    assert family.python.default == "3.13"
    assert family.base.bootstrap is not None and family.base.bootstrap.suite == "trixie"
    assert family.base.bootstrap.mirror is None  # the host's apt sources, no hard-coded mirror
    assert set(family.apps) == {"ipython", "certbot", "uv"}
    assert "pillow" in family.variants
    assert set(family.build.profiles) == {"release", "fast"}
    assert family.build.profiles["release"].configure == ["--enable-optimizations", "--with-lto"]


def test_pins_match_the_reference_table():
    # A copy of the team's reference table of CPython tarballs (sha256 as published upstream or by Debian).
    reference = ROOT / "tests" / "fixtures" / "cpython-sources.tsv"
    pins = {}
    for line in reference.read_text().splitlines():
        if line and not line.startswith(("#", "version")):
            version, _, sha256, *_ = line.split("\t")
            pins[version] = sha256
    for spec in config.load(SHIPPED).python.versions.values():
        assert pins[spec.version] == spec.sha256


def test_fixture_uses_the_tgz_tarball_name():
    spec = config.load(FIXTURE).python.versions["3.11"]
    assert spec.filename == "Python-3.11.2.tgz"
    assert config.load(FIXTURE).python.versions["3.13"].filename == "Python-3.13.15.tar.xz"


def test_config_path_prefers_flag_then_environment(monkeypatch):
    monkeypatch.setenv(config.CONFIG_ENV, "/from/env.yaml")
    assert config.config_path("given.yaml") == Path("given.yaml")
    assert config.config_path() == Path("/from/env.yaml")
    monkeypatch.delenv(config.CONFIG_ENV)
    assert config.config_path() == config.DEFAULT_CONFIG


def load_text(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "images.yaml"
    path.write_text(text)
    return config.load(path)


def edited(old: str, new: str) -> str:
    text = SHIPPED.read_text()
    assert old in text, f"test setup: {old!r} is not in images.yaml"
    return text.replace(old, new, 1)


# (case, edit of the shipped file, fragments the message must contain)
BAD_CONFIGS = [
    ("unknown key", ("  tools: [uv]", "  toolz: [uv]"), ["all.toolz", "unknown key", "line 5"]),
    ("wrong type", ("ports: [80, 443]", 'ports: [80, "https"]'), ["apps.certbot.ports[1]", "expected an integer"]),
    ("wrong type for a list", ("requirements: [uv]", "requirements: uv"), ["apps.uv.requirements", "a list"]),
    (
        "minor does not match",
        ('"3.12": {version: 3.12.13', '"3.12": {version: 3.11.13'),
        ['python.versions."3.12".version', "3.11.13 is not a 3.12 release"],
    ),
    ("malformed sha256", ("sha256: c08bc65a", "sha256: c08bc65"), ['python.versions."3.12".sha256', "64"]),
    ("uppercase sha256", ("sha256: c08bc65a", "sha256: C08BC65A"), ["sha256", "lowercase hexadecimal"]),
    (
        "app names a missing Python",
        ('python: "3.13"\n    requirements: [uv]', 'python: "3.10"\n    requirements: [uv]'),
        ["apps.uv.python", "'3.10' is not in the matrix", "3.11, 3.12, 3.13, 3.14, 3.14t, 3.15, 3.15t"],
    ),
    (
        "app names a missing variant",
        ("requirements: [ipython]", "requirements: [ipython]\n    variant: pilow"),
        ["apps.ipython.variant", "'pilow' is not a variant", "plain, pillow"],
    ),
    ("unquoted minor", ('"3.11": {', "3.11: {"), ['python.versions."3.11"', "quoted string"]),
    ("default not in matrix", ('default: "3.13"', 'default: "3.9"'), ["python.default", "'3.9' is not in the matrix"]),
    ("yaml syntax error", ("apps:", "apps: ["), ["not valid YAML", "line"]),
    ("duplicate key", ("  uv:\n", "  ipython:\n"), ["apps.ipython", "given twice"]),
    (
        "unknown tag placeholder",
        ('all: ["all{variant}", "all{variant}-{suite}"]', 'all: ["all{variant}{minr}", "all{variant}-{suite}"]'),
        ["tags.all[0]", "minr"],
    ),
    ("unknown profile", ("  profile: fast", "  profile: fastest"), ["build.profile", "'fastest' is not a profile"]),
    ("both base origins", ("  debian:\n", "  from: debian:trixie-slim\n  debian:\n"), ["base", "not both"]),
    ("bad repository", ("repository: pyfamily/python", "repository: ghcr.io/Snake:latest"), ["repository"]),
    ("app without command", ("    cmd: [ipython]\n", ""), ["apps.ipython", "entrypoint"]),
    ("volume not absolute", ("/etc/letsencrypt,", "etc/letsencrypt,"), ["apps.certbot.volumes[0]", "absolute"]),
]


@pytest.mark.parametrize(("edit", "fragments"), [case[1:] for case in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_is_refused_with_a_precise_message(tmp_path, edit, fragments):
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, edited(*edit))
    message = str(caught.value)
    assert str(tmp_path / "images.yaml") in message
    for fragment in fragments:
        if fragment == "line 5":  # the line number is wherever the key is; just require one
            assert "(line " in message
        else:
            assert fragment in message, message
    assert "\n" not in message


MINIMAL = """
repository: owner/python
python:
  default: "3.13"
  versions:
    "3.13": {version: 3.13.15, sha256: 1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76}
"""


def test_minimal_file_gets_defaults(tmp_path):
    family = load_text(tmp_path, MINIMAL)
    assert family.base.bootstrap is not None and family.base.bootstrap.suite == "trixie"
    assert family.apps == {} and family.variants == {}
    assert family.tags.python == [
        "{minor}{variant}",
        "{minor}{variant}-{suite}",
        "{version}{variant}",
        "{version}{variant}-{suite}",
    ]
    assert family.tags.base == ["base", "base-{suite}"] and family.tags.all == ["all{variant}", "all{variant}-{suite}"]
    assert family.tags.app == ["{name}"] and family.base.debian_suite == "trixie"


def test_empty_matrix_is_refused(tmp_path):
    text = MINIMAL.split("  versions:")[0] + "  versions: {}\n"
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    assert "python.versions" in str(caught.value)
    assert "the matrix is empty" in str(caught.value)


def test_empty_and_missing_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="the file is empty"):
        load_text(tmp_path, "# nothing here\n")
    with pytest.raises(ConfigError, match="cannot read"):
        config.load(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_text(tmp_path, "- a\n- b\n")


def test_several_mistakes_are_all_named(tmp_path):
    text = edited("  tools: [uv]", "  toolz: [uv]").replace("ports: [80, 443]", "ports: [80, 70000]")
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    assert "2 mistakes" in str(caught.value)
    assert "all.toolz" in str(caught.value) and "apps.certbot.ports[1]" in str(caught.value)


def test_base_from_an_image(tmp_path):
    family = load_text(tmp_path, MINIMAL + "base:\n  from: debian:trixie-slim\n  suite: trixie\n")
    assert family.base.from_image == "debian:trixie-slim"
    assert family.base.bootstrap is None and family.base.debian_suite == "trixie"


def test_suite_placeholder_needs_a_suite_when_base_is_from_an_image(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, MINIMAL + "base:\n  from: debian:trixie-slim\n")
    message = str(caught.value)
    assert "base.from (line 8)" in message
    assert "tags.base[1] 'base-{suite}'" in message and "tags.python[3] '{version}{variant}-{suite}'" in message
    assert "with `suite:` under base" in message and "\n" not in message
    # no {suite} in any template: no suite needed
    plain = 'tags:\n  base: [base]\n  python: ["{minor}{variant}"]\n  all: ["all{variant}"]\n'
    family = load_text(tmp_path, MINIMAL + "base:\n  from: debian:trixie-slim\n" + plain)
    assert family.base.debian_suite is None


def test_base_suite_is_only_for_a_base_from_an_image(tmp_path):
    for base in ("base:\n  suite: trixie\n", "base:\n  debian: {suite: trixie}\n  suite: bookworm\n"):
        with pytest.raises(ConfigError, match=r"base\.suite .*names the Debian suite of a `from:` image"):
            load_text(tmp_path, MINIMAL + base)


def test_extends_overlays_sections_key_by_key(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(
        f'extends: {SHIPPED}\nrepository: other/python\npython:\n  default: "3.11"\n  versions:\n'
        '    "3.11": {version: 3.11.2, sha256: '
        "2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849, tarball: Python-3.11.2.tgz}\n"
        '    "3.13": {version: 3.13.15, sha256: '
        "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76}\n"
        "  freethreaded: []\n"
        "apps: {}\n"
    )
    family = config.load(child)
    shipped = config.load(SHIPPED)
    assert family.repository == "other/python"
    assert family.minors == ["3.11", "3.13"]  # a key's value replaces the parent's whole
    assert family.python.build_packages == shipped.python.build_packages  # other keys of the section stay
    assert family.variants == shipped.variants
    assert set(family.apps) == {"ipython", "certbot", "uv"}  # `apps: {}` merges nothing away


def test_extends_cycle_and_missing_parent_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="extends this file again"):
        config.load(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"nowhere\.yaml: cannot read"):
        config.load(tmp_path / "c.yaml")


def test_the_jit_example_is_the_shipped_family_with_the_jit_built_in_but_off():
    # examples/jit.yaml restates the shipped build packages (a list replaces the one it extends): one added to
    # images.yaml and not there would make its figures those of another build.
    shipped, jit = config.load(SHIPPED), config.load(ROOT / "examples" / "jit.yaml")
    extra = set(jit.python.build_packages) - set(shipped.python.build_packages)
    assert set(shipped.python.build_packages) <= set(jit.python.build_packages)
    assert extra == {"clang-18", "llvm-18", "python3"}
    assert jit.python.runtime_packages == shipped.python.runtime_packages  # LLVM at build time only
    release = jit.build.profiles["release"].configure
    assert release == [*shipped.build.profiles["release"].configure, "--enable-experimental-jit=yes-off"]
    assert jit.repository != shipped.repository  # its images never take the shipped family's tags


@pytest.mark.parametrize(
    ("example", "minor", "version"),
    [("python-3.14.4.yaml", "3.14", "3.14.4"), ("python-3.15.0rc1.yaml", "3.15", "3.15.0rc1")],
)
def test_a_jit_example_is_the_shipped_family_but_one_minor(example, minor, version):
    # Each restates the whole matrix (a mapping replaces the one it extends): a pin of images.yaml moved and not
    # followed there would measure the JIT beside another family.
    shipped, example_config = config.load(SHIPPED), config.load(ROOT / "examples" / example)
    differ = {
        name
        for name in shipped.python.versions
        if shipped.python.versions[name] != example_config.python.versions.get(name)
    }
    assert differ == {minor}
    assert example_config.python.versions[minor].version == version
    assert example_config.python.versions[minor].jit is not None
    assert example_config.python.build_packages == shipped.python.build_packages
    assert example_config.build.profiles == shipped.build.profiles
    assert example_config.repository != shipped.repository


@pytest.mark.parametrize(
    ("bare", "base"), [("no-jit-3.14.yaml", "python-3.14.4.yaml"), ("no-jit-3.15.yaml", "python-3.15.0rc1.yaml")]
)
def test_a_no_jit_example_differs_from_its_base_by_the_jit_alone(bare, base):
    with_jit = config.load(ROOT / "examples" / base)
    without = config.load(ROOT / "examples" / bare)
    assert without.python == with_jit.python
    assert with_jit.build.profiles["release"].jit and not without.build.profiles["release"].jit
    assert without.build.profiles["release"].configure == with_jit.build.profiles["release"].configure
    assert without.repository not in {with_jit.repository, config.load(SHIPPED).repository}
