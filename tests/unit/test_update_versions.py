"""`invoke update-versions` end to end, as a maintainer runs it, against release listings on 127.0.0.1.

A local http.server serves a python.org-style tree (via $PYFAMILY_PYTHON_ORG), a mirror template (sources.mirrors)
and a Debian archive (sources.debian_archive) signed with a key made for the test ($PYFAMILY_DEBIAN_KEYRING holds
it), holding tiny fake tarballs. The family file is a copy of images.yaml pointed at them; any other request would
go to a proxy on a closed 127.0.0.1 port, so nothing leaves this machine. Every subprocess and server wait is bounded.
A new pin is written only for a tarball the archive's signed chain vouches for; python.org and mirrors only say
which releases exist.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .fake_releases import ArchiveKeys, FakeArchive, FileServer, Upload, fake_tarball, file_server, sha256

ROOT = Path(__file__).resolve().parents[2]
INVOKE = [sys.executable, "-m", "invoke", "--search-root", str(ROOT)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def bump(version: str, by: int = 1) -> str:
    major, minor, patch = version.split(".")
    return f"{major}.{minor}.{int(patch) + by}"


@dataclass
class Setup:
    server: FileServer
    archive: FakeArchive
    family: Path
    cache: Path
    pinned: dict[str, str]  # minor -> version, as images.yaml has them
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*INVOKE, "update-versions", "--config", str(self.family), *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=self.env,
            timeout=120,
            check=False,
        )


@pytest.fixture
def setup(tmp_path: Path, keys: ArchiveKeys) -> Iterator[Setup]:
    text = (ROOT / "images.yaml").read_text()
    pinned = {m: str(v["version"]) for m, v in yaml.safe_load(text)["python"]["versions"].items()}
    assert len(pinned) >= 3, "these tests move three minors of images.yaml"
    with file_server(tmp_path / "www") as server:
        family = tmp_path / "family" / "images.yaml"
        family.parent.mkdir()
        sources = (
            "sources:\n"
            f'  mirrors: ["{server.base}/mirror/{{filename}}"]   # a template mirror\n'
            f"  debian_archive: {server.base}/debian\n"
        )
        copied, count = re.subn(r"^sources:\n(?:  .*\n)+", sources, text, flags=re.MULTILINE)
        assert count == 1, "images.yaml has no `sources:` section to point at the local server"
        family.write_text(copied)
        dead_proxy = f"http://127.0.0.1:{closed_port()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYFAMILY_") and "proxy" not in k.lower()}
        env.update(
            PYFAMILY_PYTHON_ORG=f"{server.base}/ftp/python",
            PYFAMILY_CACHE=str(tmp_path / "cache"),
            HTTP_PROXY=dead_proxy,
            HTTPS_PROXY=dead_proxy,
            http_proxy=dead_proxy,
            https_proxy=dead_proxy,
            NO_PROXY="127.0.0.1",
            no_proxy="127.0.0.1",
            PYFAMILY_DEBIAN_KEYRING=str(keys.keyring),
            PYFAMILY_DEBIAN_SUITES="unstable",
        )
        for version in pinned.values():  # python.org lists every pinned release
            server.folder(f"ftp/python/{version}")
        archive = FakeArchive(server, keys)
        yield Setup(server, archive, family, tmp_path / "cache" / "sources", pinned, env)


def serve_updates(setup: Setup) -> dict[str, tuple[str, bytes]]:
    """Newer releases of two minors in the signed Debian archive; {minor: (version, tarball)}. python.org answers
    for a third minor (current: the folder after its pin holds only a release candidate), the mirror for none."""
    first, second, third = list(setup.pinned)[-3:]
    server = setup.server
    rc = bump(setup.pinned[first])
    server.put(f"ftp/python/{rc}/Python-{rc}rc1.tar.xz", fake_tarball(f"{rc}rc1"))
    for minor in (second, third):  # not on python.org
        for path in (setup.server.root / "ftp/python").glob(f"{minor}.*"):
            path.rmdir()
    server.put("mirror/Python-2.7.18.tar.xz", b"no release of any minor asked about")
    updates, uploads = {}, []
    for minor, by in ((second, 3), (third, 1)):
        version = bump(setup.pinned[minor], by)
        updates[minor] = (version, fake_tarball(version))
        package = f"python{minor}"
        uploads += [
            Upload(package, setup.pinned[minor], fake_tarball(setup.pinned[minor])),
            Upload(package, version, updates[minor][1], revision="2"),
            Upload(package, f"{bump(version)}~rc1", b"a pre-release is never chosen"),
        ]
    setup.archive.publish("unstable", uploads, codename="sid")
    return updates


def expected_text(original: str, pinned: dict[str, str], updates: dict[str, tuple[str, bytes]]) -> str:
    """original with only each updated minor's version and sha256 replaced, on its own line."""
    lines = original.splitlines(keepends=True)
    for minor, (version, tarball) in updates.items():
        (index,) = [i for i, line in enumerate(lines) if line.lstrip().startswith(f'"{minor}": {{version: ')]
        line = lines[index].replace(f"version: {pinned[minor]},", f"version: {version},")
        lines[index] = re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {sha256(tarball)}", line)
    return "".join(lines)


def test_update_then_everything_current(setup: Setup) -> None:
    original = setup.family.read_text()
    updates = serve_updates(setup)
    done = setup.run()
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    after = setup.family.read_text()
    assert after == expected_text(original, setup.pinned, updates)  # comments, quoting, layout: byte for byte
    for minor, (version, tarball) in updates.items():
        row = next(line for line in done.stdout.splitlines() if line.startswith(minor + " "))
        assert row.split()[:4] == [minor, setup.pinned[minor], version, sha256(tarball)[:16]], row
        assert "Debian 127.0.0.1" in row and f"(signed: InRelease of unstable (key {setup.archive.keys.archive})" in row
        assert f"-> Sources -> python{minor}_{version}-2.dsc)" in row
        assert (setup.cache / f"Python-{version}.tar.xz").read_bytes() == tarball  # cached for the next build
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line[:1].isdigit()}
    untouched = [m for m in setup.pinned if m not in updates]
    assert all(rows[m].split()[2] == "current" for m in untouched)
    assert "python.org" in rows[untouched[-1]]
    assert f"updated 2 of {len(setup.pinned)} Pythons in {setup.family}" in done.stdout
    assert "lists no final release" in done.stderr  # python.org and the mirror have neither `second` nor `third`

    again = setup.run()
    assert again.returncode == 0, again.stderr
    assert f"every Python is at its newest patch release; {setup.family} is unchanged" in again.stdout
    assert setup.family.read_text() == after
    assert "newest there" not in again.stdout  # the folder with only a release candidate is not a release
    assert all(rows.split()[2] == "current" for rows in again.stdout.splitlines() if rows[:1].isdigit())


def test_dry_run_prints_the_table_and_writes_nothing(setup: Setup) -> None:
    original = setup.family.read_bytes()
    updates = serve_updates(setup)
    done = setup.run("--dry-run")
    assert done.returncode == 0, done.stderr
    assert "dry run: 2 of" in done.stdout and "nothing written" in done.stdout
    for version, _ in updates.values():
        assert version in done.stdout
    assert setup.family.read_bytes() == original


def refused(setup: Setup, original: bytes) -> str:
    """The one error paragraph of a run that must refuse and write nothing."""
    done = setup.run()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0] == done.stderr.splitlines()[-1], done.stderr
    assert setup.family.read_bytes() == original
    return errors[0]


@pytest.mark.parametrize("where", ["python.org", "mirror"])
def test_a_release_nothing_signed_is_not_pinned(setup: Setup, where: str) -> None:
    """python.org (or a mirror) lists a newer release and serves a good tarball: no verified signature vouches for
    it, so it is refused, not pinned."""
    original = setup.family.read_bytes()
    serve_updates(setup)
    first = list(setup.pinned)[-3]
    version = bump(setup.pinned[first], 2)
    if where == "python.org":
        setup.server.put(f"ftp/python/{version}/Python-{version}.tar.xz", fake_tarball(version))
    else:
        for path in (setup.server.root / "ftp/python").glob(f"{first}.*"):
            shutil.rmtree(path)
        setup.server.put(f"mirror/Python-{version}.tar.xz", fake_tarball(version))
    error = refused(setup, original)
    assert error.startswith(f"error: Python {version} was found at {where}")
    assert "no publisher's signature vouches for that tarball" in error
    assert not (setup.cache / f"Python-{version}.tar.xz").exists()


def test_a_python_org_release_is_pinned_when_debian_signed_the_same_tarball(setup: Setup) -> None:
    original = setup.family.read_text()
    updates = serve_updates(setup)
    first = list(setup.pinned)[-3]
    version, tarball = bump(setup.pinned[first], 2), fake_tarball(bump(setup.pinned[first], 2))
    setup.server.put(f"ftp/python/{version}/Python-{version}.tar.xz", tarball)
    kept = [Upload(f"python{m}", v, t, revision="2") for m, (v, t) in updates.items()]
    setup.archive.publish("unstable", [*kept, Upload(f"python{first}", version, tarball)])
    done = setup.run()
    assert done.returncode == 0, done.stderr
    updates[first] = (version, tarball)
    assert setup.family.read_text() == expected_text(original, setup.pinned, updates)
    row = next(line for line in done.stdout.splitlines() if line.startswith(first + " "))
    assert "python.org at " in row and "(signed: Debian 127.0.0.1" in row and f"python{first}_{version}-1.dsc)" in row


def test_a_debian_index_signed_by_another_key_or_no_keyring_is_refused(setup: Setup, tmp_path: Path) -> None:
    original = setup.family.read_bytes()
    serve_updates(setup)
    inrelease = setup.server.root / "debian/dists/unstable/InRelease"
    release = (setup.server.root / "debian/dists/unstable/Release").read_text()
    inrelease.write_bytes(setup.archive.keys.clearsign(release, setup.archive.keys.other))
    error = refused(setup, original)
    assert error.startswith(f"error: {setup.server.base}/debian/dists/unstable/InRelease failed its signature check")
    assert not setup.cache.exists() or not list(setup.cache.glob("*.tar.xz"))
    setup.env["PYFAMILY_DEBIAN_KEYRING"] = str(tmp_path / "no-keyring.gpg")
    error = refused(setup, original)
    assert f"The keyring {tmp_path / 'no-keyring.gpg'} does not exist" in error
    assert "apt-get install debian-archive-keyring" in error


def test_a_tarball_unlike_its_signed_checksum_is_refused(setup: Setup) -> None:
    original = setup.family.read_bytes()
    updates = serve_updates(setup)
    third = list(updates)[-1]
    version, tarball = updates[third]
    other = fake_tarball(version, declared=version)[:-1] + b"\0"  # other bytes than the .dsc lists
    setup.server.put(f"debian/pool/main/p/python{third}/python{third}_{version}.orig.tar.xz", other)
    error = refused(setup, original)
    assert f"Could not download Python-{version}.tar.xz" in error
    assert f"with sha256 {sha256(other)}, not the {sha256(tarball)} published in " in error
    assert f"is the one signed by InRelease of unstable (key {setup.archive.keys.archive})" in error


def test_a_corrupt_tarball_is_refused_even_when_signed(setup: Setup) -> None:
    """The signature says which bytes; the contents must still be that release (defence in depth)."""
    original = setup.family.read_bytes()
    updates = serve_updates(setup)
    third = list(updates)[-1]
    version, tarball = updates[third]

    def sign_with(orig: bytes) -> None:
        kept = [Upload(f"python{m}", v, t, revision="2") for m, (v, t) in updates.items() if m != third]
        setup.archive.publish("unstable", [*kept, Upload(f"python{third}", version, orig, revision="2")])

    sign_with(tarball[: len(tarball) // 2] + bytes(64))
    assert "is not a readable tar archive" in refused(setup, original)
    assert not (setup.cache / f"Python-{version}.tar.xz").exists()
    # A tarball of another release under the new name is refused the same way.
    sign_with(fake_tarball(version, declared="3.0.0"))
    assert f"holds the sources of Python 3.0.0, not {version}" in refused(setup, original)


def test_unreachable_listings_are_one_paragraph_and_change_nothing(setup: Setup) -> None:
    original = setup.family.read_bytes()
    dead = f"http://127.0.0.1:{closed_port()}"
    setup.family.write_text(setup.family.read_text().replace(setup.server.base, dead))
    original = setup.family.read_bytes()
    setup.env["PYFAMILY_PYTHON_ORG"] = f"{dead}/ftp/python"
    done = setup.run()
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0] == done.stderr.splitlines()[-1], done.stderr
    assert errors[0].startswith(f"error: No release source answered for Python {', '.join(setup.pinned)}: ")
    assert "connection refused" in errors[0] and "The family file was not changed." in errors[0]
    assert "note: skipped python.org at " in done.stderr
    assert setup.family.read_bytes() == original
