"""The fixture family (CPython 3.11.2 and 3.13.15, fast profile) built for real: base, X.Y, all and friends."""

from __future__ import annotations

import pytest

from pyfamily import config, kinds, plan, platforms, produce, verify
from pyfamily.errors import BuildError
from pyfamily.kinds import Draft, Recipe
from pyfamily.model import FROM
from pyfamily.plan import Selection
from pyfamily.produce.dated import dated_tags

from . import support

pytestmark = pytest.mark.integration

MINORS = ("3.11", "3.13")


def test_every_target_built(family):
    bad = {r.target.name: r.detail for r in family.results if r.status not in {"built", "up to date"}}
    assert not bad


@pytest.mark.parametrize("name", ["base", "3.11", "3.13", "all", "builder-3.11", "3.13-pillow", "all-pillow"])
def test_verify_checks_pass(family, name):
    checks = verify.verify_target(family.family, family.targets[name], platforms.host())
    assert checks
    assert [c for c in checks if not c.passed] == []


@pytest.mark.parametrize("minor", MINORS)
def test_runtime_imports_the_stdlib_extension_modules(family, minor):
    modules = "ssl, sqlite3, ctypes, lzma, bz2, zlib, readline, curses, dbm.gnu, uuid, decimal, zoneinfo"
    code, output = support.run(
        family.ref(minor),
        f"""python3 -c '
import {modules}, sys, datetime
assert sys.version.startswith("{minor}."), sys.version
print(datetime.datetime(2026, 7, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).utcoffset())
print(ssl.OPENSSL_VERSION, sqlite3.sqlite_version)
'""",
        network="none",
    )
    assert code == 0, output
    assert "2:00:00" in output


@pytest.mark.parametrize("minor", MINORS)
def test_runtime_has_no_compiler_headers_or_pip(family, minor):
    code, output = support.run(
        family.ref(minor),
        f"""
        command -v gcc || command -v cc || command -v pip3 || test -e /usr/local/include/python{minor} \
          || ls /usr/local/lib/python{minor}/site-packages | grep -i pip""",
        network="none",
    )
    assert code != 0, output


@pytest.mark.parametrize("minor", MINORS)
def test_runtime_and_all_hold_byte_identical_interpreters(family, minor):
    # The interpreter is static (#11), so the runtime has no libpython; `all` and the builder keep it, identical,
    # for programs that embed Python.
    interpreter, library = f"/usr/local/bin/python{minor}", f"/usr/local/lib/libpython{minor}.so.1.0"
    digests = {}
    both = f"{interpreter} {library}"
    for name, paths in ((minor, interpreter), ("all", both), (f"builder-{minor}", both)):
        code, output = support.run(family.ref(name), f"sha256sum {paths}", network="none")
        assert code == 0, output
        digests.update({(name, path): digest for digest, path in (line.split() for line in output.splitlines())})
    assert digests[(minor, interpreter)] == digests[("all", interpreter)] == digests[(f"builder-{minor}", interpreter)]
    assert digests[("all", library)] == digests[(f"builder-{minor}", library)]


def test_python3_in_all_is_the_default(family):
    default = family.config.python.default
    code, output = support.run(
        family.ref("all"), "python3 --version; python --version; pip --version; uv --version", network="none"
    )
    assert code == 0, output
    assert output.count(f"Python {default}.") == 2
    assert f"(python {default})" in output


def test_images_carry_oci_labels(family):
    client = support.client()
    for name in ("base", "3.13", "all"):
        labels = client.images.get(family.ref(name)).labels
        for key in ("title", "description", "version", "created", "source", "revision", "base.name"):
            assert labels.get(f"org.opencontainers.image.{key}"), (name, key)
    labels = client.images.get(family.ref("3.13")).labels
    assert labels["org.opencontainers.image.version"] == "3.13.15"
    assert labels["org.opencontainers.image.licenses"] == "PSF-2.0"
    assert labels["org.pyfamily.profile"] == "fast"
    assert labels["org.opencontainers.image.base.name"] == family.ref("base")  # made here: no registry to name
    assert "org.opencontainers.image.base.digest" not in labels  # a local image has no registry digest
    assert "org.pyfamily.profile" not in client.images.get(family.ref("base")).labels


def test_every_moving_and_dated_tag_exists(family):
    client = support.client()
    for target in family.targets.values():
        dated = dated_tags(family.config.tags, target, client.images.get(target.ref))
        ids = {support.image_id(f"{family.config.repository}:{tag}") for tag in (*target.tags, *dated)}
        assert ids == ({support.image_id(target.ref)} if target.public else set())
        assert len(dated) == (1 if target.public else 0), (target.name, dated)


def test_ca_bundle_is_in_no_image(family):
    marker = family.ca_marker.encode()
    client = support.client()
    for target in family.targets.values():
        if target.kind == "cpython":
            continue  # FROM scratch, made of the compile stage, which downloads nothing
        image = client.images.get(target.ref)
        assert family.ca_marker not in str(image.attrs), target.name
        hits = [path for path, data in support.files_of(target.ref) if marker in data]
        assert hits == [], (target.name, hits)


def test_base_is_slim(family):
    code, output = support.run(
        family.ref("base"),
        """
        test -z "$(ls /usr/share/man 2>/dev/null)"
        test -z "$(find /usr/share/doc -type f ! -name copyright | head -1)"
        test -z "$(ls /usr/share/locale 2>/dev/null)"
        test "$(readlink /etc/localtime)" = /usr/share/zoneinfo/Etc/UTC
        test "$LANG" = C.UTF-8
        apt-config dump | grep -q 'APT::AutoRemove::SuggestsImportant "false"'
        echo slim""",
        network="none",
    )
    assert code == 0 and "slim" in output, output


def test_second_build_rebuilds_nothing(family, tmp_path):
    before = {t.name: support.image_id(t.ref) for t in family.targets.values()}
    again = produce.run(plan.select(family.family, Selection()), family.settings, say=print).results
    assert {r.target.name: r.status for r in again} == {name: "up to date" for name in before}
    assert {t.name: support.image_id(t.ref) for t in family.targets.values()} == before


def test_failed_target_stops_only_its_dependents(family, tmp_path):
    broken_file = tmp_path / "broken.yaml"
    broken_file.write_text(f"""
extends: {support.FIXTURE}
repository: pyfamily-fail/python
base: {{debian: null, from: "{family.ref("base")}", suite: trixie}}
python:
  versions:
    "3.11": {{version: 3.11.2, sha256: "{"a" * 64}", tarball: Python-3.11.2.tgz}}
    "3.13": {{version: 3.13.15, sha256: {family.config.python.versions["3.13"].sha256}}}
""")
    broken = plan.expand(config.load(broken_file))
    settings = produce.Settings(jobs=2, cache_dir=tmp_path / "cache", work_dir=tmp_path / "work")
    (tmp_path / "cache" / "sources").mkdir(parents=True)
    selection = plan.select(broken, Selection(names=("base", "3.11")))
    try:
        results = {r.target.name: r for r in produce.run(selection, settings, say=print).results}
        assert results["base"].status.good
        assert results["cpython-3.11"].status == "failed"
        assert "a" * 64 in results["cpython-3.11"].detail  # the message names the pinned digest
        assert results["3.11"].status == "skipped"
        with pytest.raises(BuildError, match=r"cpython-3\.11: failed"):
            produce.check(list(results.values()))
        assert support.image_id("pyfamily-fail/python:3.11") == ""
    finally:
        support.untag("pyfamily-fail/python")


def test_a_recipe_whose_template_breaks_fails_only_its_own_target(family, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "Dockerfile.j2").write_text("FROM {{ parent }}\nRUN {{ no_such_variable }}\n")
    kinds.register(
        Recipe(
            kind="broken",
            folder=folder,
            describe=lambda config, target: "a broken recipe",
            expand=lambda config, profile, index: [Draft("broken", uses={FROM: index.find("base")})],
        )
    )
    try:
        broken = plan.expand(family.config)
        report = produce.run(plan.select(broken, Selection(names=("broken",))), family.settings, say=print)
    finally:
        kinds.unregister("broken")
    results = {r.target.name: r for r in report.results}
    assert results["base"].status == "up to date"
    assert results["broken"].status == "failed" and "no_such_variable" in results["broken"].detail
