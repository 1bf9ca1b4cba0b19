"""The fixture family's 3.13-distroless built for real (fast profile): verify passes, there is no shell, it runs as
nonroot and read-only, every package it holds has its status.d record (which the SBOM lists), no file is setuid or
world-writable, and a refresh compares its records with the Debian archive."""

from __future__ import annotations

import stat
import tarfile
from collections.abc import Iterator

import docker.errors
import pytest

from pyfamily import platforms, verify
from pyfamily.kinds import distroless
from pyfamily.kinds.freshness import Probe
from pyfamily.model import FROM, Target
from pyfamily.oci import attestations, layout
from pyfamily.plan import Selection

from . import registries, support

pytestmark = pytest.mark.integration

NAME = "3.13-distroless"
RECORDS = "var/lib/dpkg/status.d/"


@pytest.fixture(scope="module")
def built(docker_client, family_work) -> support.Family:
    family = support.build_family(family_work / "distroless", Selection(names=(NAME,)))
    assert {r.target.name: r.status for r in family.results}[NAME] in ("built", "up to date"), support.summary_of(
        family
    )
    return family


@pytest.fixture(scope="module")
def ref(built) -> str:
    return built.ref(NAME)


def python(ref: str, code: str, *, read_only: bool = False) -> tuple[int, str]:
    """Run `python3 -c code` (no shell involved) in a fresh offline container of the image, as its default user."""
    container = support.client().containers.run(
        ref, ["python3", "-c", code], detach=True, network_mode="none", read_only=read_only,
        tmpfs={"/tmp": ""} if read_only else {},
    )  # fmt: skip
    try:
        status = container.wait(timeout=300)
        return status["StatusCode"], container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


def members(ref: str) -> Iterator[tarfile.TarInfo]:
    """Every entry of the image's flattened filesystem, as root sees it (/root included)."""
    with support.exported(ref) as archive:
        yield from archive


def test_verify_passes_with_its_promises_as_smoke_commands(built):
    checks = verify.verify_target(built.family, built.targets[NAME], platforms.host())
    assert [(c.name, c.passed, c.detail) for c in checks] == [("smoke", True, ""), ("smoke (--read-only)", True, "")]
    assert verify.attested(built.targets[NAME], platforms.host(), built.settings.cache_dir).passed


def test_there_is_no_shell_to_run(ref):
    container = support.client().containers.create(ref, ["-c", "true"], entrypoint=["/bin/sh"])
    try:
        with pytest.raises(docker.errors.APIError):
            container.start()
    finally:
        container.remove(force=True)


def test_it_runs_as_nonroot_in_its_home_by_default(ref):
    config = support.client().images.get(ref).attrs["Config"]
    assert (config["User"], config["WorkingDir"], config["Cmd"]) == ("65532:65532", "/home/nonroot", ["python3"])
    code, output = python(ref, "import os; print(os.getuid(), os.getgid(), os.getcwd())")
    assert (code, output.split()) == (0, ["65532", "65532", "/home/nonroot"])


def test_a_fresh_read_only_container_works(ref):
    code, output = python(
        ref,
        "import ssl, sqlite3, tempfile, zoneinfo\n"
        "assert ssl.create_default_context().cert_store_stats()['x509_ca'] > 50\n"
        "tempfile.TemporaryFile().write(b'/tmp is writable')\n"
        "try:\n    open('/home/nonroot/x', 'w')\nexcept OSError:\n    print('read-only')\n",
        read_only=True,
    )
    assert (code, output.strip()) == (0, "read-only"), output


# What only the modules the kind leaves out load (readline, curses, dbm.gnu, dbm.ndbm, _uuid), on trixie.
LEFT_OUT_PACKAGES = {"libreadline8t64", "libncursesw6", "libtinfo6", "libgdbm6t64", "libgdbm-compat4t64", "libuuid1"}


def test_every_package_copied_has_its_status_record_and_nothing_else_does(built, ref):
    files = dict(support.files_of(ref))
    loaded = set(files["usr/local/share/pkgdeps/python3.13.txt"].decode().split())
    assert loaded >= LEFT_OUT_PACKAGES  # the compiled tree loads them: the kind leaves them out
    expected = {*loaded, *distroless.TREE_PACKAGES, *built.config.python.runtime_packages} - LEFT_OUT_PACKAGES
    records = {name.removeprefix(RECORDS): data.decode() for name, data in files.items() if name.startswith(RECORDS)}
    assert {name for name in records if not name.endswith(".md5sums")} == expected
    assert {name.removesuffix(".md5sums") for name in records if name.endswith(".md5sums")} == expected
    for package in expected:
        assert records[package].splitlines()[:2] == [f"Package: {package}", "Status: install ok installed"]
    assert not [name for name in files if name.startswith(("usr/bin/", "usr/sbin/", "var/lib/dpkg/info"))]


def test_the_modules_left_out_are_gone_and_what_stood_on_them_still_works(ref):
    code, output = python(
        ref,
        "import dbm, importlib, os, shelve, uuid\n"
        "for name in ('readline', 'curses', 'dbm.gnu', 'dbm.ndbm', '_uuid'):\n"
        "    try:\n        importlib.import_module(name)\n    except ImportError:\n        print('gone', name)\n"
        "with shelve.open('/tmp/shelf') as shelf:\n    shelf['key'] = 1\n"
        "print(dbm.whichdb('/tmp/shelf'), uuid.uuid1().version, os.environ['PYTHON_BASIC_REPL'])\n",
    )
    gone = [f"gone {name}" for name in ("readline", "curses", "dbm.gnu", "dbm.ndbm", "_uuid")]
    assert (code, output.splitlines()) == (0, [*gone, "dbm.sqlite3 1 1"]), output


def test_no_file_is_setuid_and_only_tmp_is_world_writable(ref):
    modes = {m.name.rstrip("/"): m.mode for m in members(ref) if not m.issym()}
    assert [name for name, mode in modes.items() if mode & (stat.S_ISUID | stat.S_ISGID)] == []
    assert [name for name, mode in modes.items() if mode & stat.S_IWOTH] == ["tmp"]
    assert modes["tmp"] & 0o7777 == 0o1777 and modes["root"] & 0o777 == 0o700


def test_the_sbom_lists_every_recorded_package(built, ref, tmp_path):
    local = layout.export(support.client(), ref, layout.BlobCache(tmp_path / "cache"))
    document = attestations.sbom(local, platforms.host())
    assert document is not None
    listed = {package["name"] for package in document["packages"] if package["SPDXID"].startswith("SPDXRef-deb-")}
    assert listed == set(distroless.deb822_versions("\n\n".join(distroless.status_records(ref))))
    assert "libc6" in listed and "tzdata" in listed


def test_a_refresh_asks_debian_about_its_records_in_base(built, ref, tmp_path):
    probe = Probe(built.family, built.targets[NAME], tmp_path, None)
    assert distroless.debian_updates(probe) == []  # just built from the archive's current packages
    records = {distroless.deb822_versions(r).popitem()[0]: r for r in distroless.status_records(ref)}
    current = distroless.deb822_versions(records["libc6"])["libc6"]
    old = records["libc6"].replace(f"Version: {current}\n", "Version: 2.0-1\n")
    dockerfile = "FROM scratch\nCOPY libc6 netbase /var/lib/dpkg/status.d/\n"
    stale = "pyfamily-test/python:distroless-stale-records"
    registries.buildx(tmp_path / "stale", stale, dockerfile, {"libc6": old, "netbase": records["netbase"]},
                      (platforms.host(),), "--load")  # fmt: skip
    try:
        target = Target(name="stale", kind="distroless", ref=stale, uses={FROM: "base"})
        assert distroless.debian_updates(Probe(built.family, target, tmp_path, None)) == [
            f"Debian: libc6 2.0-1 -> {current}"
        ]
    finally:
        support.client().images.remove(stale, force=True)


def test_an_image_without_records_is_rebuilt_rather_than_kept(built, tmp_path):
    bare = "pyfamily-test/python:distroless-no-records"
    registries.buildx(tmp_path / "bare", bare, "FROM scratch\nCOPY a /a\n", {"a": "a"}, (platforms.host(),), "--load")
    try:
        target = Target(name="bare", kind="distroless", ref=bare, uses={FROM: "base"})
        reasons = distroless.debian_updates(Probe(built.family, target, tmp_path, None))
        assert len(reasons) == 1 and reasons[0].startswith(f"could not read {distroless.STATUS_D} of {bare}")
    finally:
        support.client().images.remove(bare, force=True)
