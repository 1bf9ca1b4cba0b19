"""`invoke update-versions` end to end, as a maintainer runs it, against release listings on 127.0.0.1.

A local http.server serves a python.org-style tree (via $PYFAMILY_PYTHON_ORG), a mirror template (sources.mirrors)
and a Debian pool with .dsc files (sources.debian_archive), holding tiny fake tarballs. The family file is a copy of
images.yaml pointed at them; any other request would go to a proxy on a closed 127.0.0.1 port, so nothing leaves
this machine. Every subprocess and server wait is bounded.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pyfamily.cli.versions import _edit_versions
from pyfamily.config import PythonVersion
from pyfamily.sources.releases import Lookup, Release

from .fake_releases import FileServer, dsc, fake_tarball, file_server, sha256
from .families import MINIMAL, SHA

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
def setup(tmp_path: Path) -> Iterator[Setup]:
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
        )
        for version in pinned.values():  # python.org lists every pinned release
            server.folder(f"ftp/python/{version}")
        yield Setup(server, family, tmp_path / "cache" / "sources", pinned, env)


def serve_updates(setup: Setup) -> dict[str, tuple[str, bytes]]:
    """Newer releases of three minors, each from another kind of source; {minor: (version, tarball)}."""
    first, second, third = list(setup.pinned)[-3:]
    server = setup.server
    # python.org: the next patch of `first`; the one after it has only a release candidate so far.
    new_first = bump(setup.pinned[first])
    tarball_first = fake_tarball(new_first)
    server.put(f"ftp/python/{new_first}/Python-{new_first}.tar.xz", tarball_first)
    rc = bump(setup.pinned[first], 2)
    server.put(f"ftp/python/{rc}/Python-{rc}rc1.tar.xz", fake_tarball(f"{rc}rc1"))
    # `second` and `third` are not on python.org; the mirror has `second`.
    for minor in (second, third):
        for path in (setup.server.root / "ftp/python").glob(f"{minor}.*"):
            path.rmdir()
    new_second = bump(setup.pinned[second], 3)
    tarball_second = fake_tarball(new_second)
    server.put(f"mirror/Python-{new_second}.tar.xz", tarball_second)
    server.put(f"mirror/Python-{bump(setup.pinned[first], 5)}.tar.xz", b"never asked: python.org answers first")
    # Debian has `third`, with its checksum published in a .dsc, and a pre-release.
    new_third = bump(setup.pinned[third])
    tarball_third = fake_tarball(new_third)
    pool = f"debian/pool/main/p/python{third}"
    server.put(f"{pool}/python{third}_{new_third}.orig.tar.xz", tarball_third)
    server.put(f"{pool}/python{third}_{new_third}-1.dsc", dsc(f"python{third}", new_third, tarball_third))
    server.put(f"{pool}/python{third}_{bump(new_third)}~rc1.orig.tar.xz", b"a pre-release is never chosen")
    return {first: (new_first, tarball_first), second: (new_second, tarball_second), third: (new_third, tarball_third)}


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
        assert (setup.cache / f"Python-{version}.tar.xz").read_bytes() == tarball  # cached for the next build
    first, second, third = updates
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line[:1].isdigit()}
    assert "python.org" in rows[first] and "mirror" in rows[second] and "Debian 127.0.0.1" in rows[third]
    assert ".dsc" in rows[third]
    untouched = [m for m in setup.pinned if m not in updates]
    assert all(rows[m].split()[2] == "current" for m in untouched)
    assert f"updated 3 of {len(setup.pinned)} Pythons in {setup.family}" in done.stdout
    assert "lists no final release" in done.stderr  # python.org has neither `second` nor `third`

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
    assert "dry run: 3 of" in done.stdout and "nothing written" in done.stdout
    for version, _ in updates.values():
        assert version in done.stdout
    assert setup.family.read_bytes() == original


def test_a_tarball_unlike_its_published_checksum_is_refused(setup: Setup) -> None:
    original = setup.family.read_bytes()
    updates = serve_updates(setup)
    third = list(updates)[-1]
    version = updates[third][0]
    other = fake_tarball(version, declared=version)[:-1] + b"\0"  # other bytes than the .dsc publishes
    setup.server.put(f"debian/pool/main/p/python{third}/python{third}_{version}.orig.tar.xz", other)
    done = setup.run()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "published in" in done.stderr and f"Could not download Python-{version}.tar.xz" in done.stderr
    assert "Traceback" not in done.stderr
    assert setup.family.read_bytes() == original


def test_a_corrupt_download_is_refused(setup: Setup) -> None:
    original = setup.family.read_bytes()
    updates = serve_updates(setup)
    first = next(iter(updates))
    version, tarball = updates[first]
    setup.server.put(f"ftp/python/{version}/Python-{version}.tar.xz", tarball[: len(tarball) // 2] + bytes(64))
    done = setup.run()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is not a readable tar archive" in done.stderr
    assert not (setup.cache / f"Python-{version}.tar.xz").exists()
    assert setup.family.read_bytes() == original
    # A tarball of another release under the new name is refused the same way.
    setup.server.put(f"ftp/python/{version}/Python-{version}.tar.xz", fake_tarball(version, declared="3.0.0"))
    done = setup.run()
    assert done.returncode == 2 and f"holds the sources of Python 3.0.0, not {version}" in done.stderr
    assert setup.family.read_bytes() == original


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
