"""Tests for pyfamily.sources' URL candidates and the host's Debian archives (pure: no network, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyfamily.config import PythonVersion
from pyfamily.sources import PYTHON_ORG, candidate_urls, debian_archive_roots

SHA = "0" * 64
PY313 = PythonVersion(version="3.13.15", sha256=SHA)


# --- candidate_urls ----------------------------------------------------------------------------------------


def test_candidate_urls_tar_xz_order() -> None:
    urls = candidate_urls(
        PY313,
        ["http://deb.debian.org/debian/", "https://mirror.example.org/debian"],
        ["https://py.example.org/ftp/python/", "https://cdn.example.org/{version}/src/{filename}"],
    )
    assert urls == [
        f"{PYTHON_ORG}/3.13.15/Python-3.13.15.tar.xz",
        "http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz",
        "https://mirror.example.org/debian/pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz",
        "https://py.example.org/ftp/python/3.13.15/Python-3.13.15.tar.xz",
        "https://cdn.example.org/3.13.15/src/Python-3.13.15.tar.xz",
    ]


@pytest.mark.parametrize(
    ("version", "tarball", "mirror", "expected"),
    [
        pytest.param(
            "3.11.2",
            "Python-3.11.2.tgz",
            "https://files.example.org/{filename}",
            [
                f"{PYTHON_ORG}/3.11.2/Python-3.11.2.tgz",
                "http://deb.debian.org/debian/pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz",
                "https://files.example.org/Python-3.11.2.tgz",
            ],
            id="tgz uses orig.tar.gz",
        ),
        pytest.param(
            "3.14.0rc1",
            None,
            "https://m.example.org/{version}/{filename}",
            [
                f"{PYTHON_ORG}/3.14.0/Python-3.14.0rc1.tar.xz",
                "http://deb.debian.org/debian/pool/main/p/python3.14/python3.14_3.14.0~rc1.orig.tar.xz",
                "https://m.example.org/3.14.0rc1/Python-3.14.0rc1.tar.xz",
            ],
            id="release candidate",
        ),
        pytest.param(
            "3.15.0a2",
            None,
            "https://m.example.org/python",
            [
                f"{PYTHON_ORG}/3.15.0/Python-3.15.0a2.tar.xz",
                "http://deb.debian.org/debian/pool/main/p/python3.15/python3.15_3.15.0~a2.orig.tar.xz",
                "https://m.example.org/python/3.15.0/Python-3.15.0a2.tar.xz",
            ],
            id="alpha",
        ),
        pytest.param(
            "3.10.10",
            None,
            "https://m.example.org/{version}/{filename}{x}",
            [
                f"{PYTHON_ORG}/3.10.10/Python-3.10.10.tar.xz",
                "http://deb.debian.org/debian/pool/main/p/python3.10/python3.10_3.10.10.orig.tar.xz",
                "https://m.example.org/3.10.10/Python-3.10.10.tar.xz{x}",
            ],
            id="two-digit minor, other braces kept",
        ),
    ],
)
def test_candidate_urls_layouts(version: str, tarball: str | None, mirror: str, expected: list[str]) -> None:
    python = PythonVersion(version=version, sha256=SHA, tarball=tarball)
    assert candidate_urls(python, ["http://deb.debian.org/debian"], [mirror]) == expected


def test_candidate_urls_python_org_first_and_deduplicated() -> None:
    urls = candidate_urls(
        PY313,
        ["http://deb.debian.org/debian", "http://deb.debian.org/debian/", ""],
        [PYTHON_ORG + "/", PYTHON_ORG, "  ", "https://m.example.org/python//"],
    )
    assert urls == [
        f"{PYTHON_ORG}/3.13.15/Python-3.13.15.tar.xz",
        "http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz",
        "https://m.example.org/python/3.13.15/Python-3.13.15.tar.xz",
    ]
    assert candidate_urls(PY313, [], []) == [f"{PYTHON_ORG}/3.13.15/Python-3.13.15.tar.xz"]


# --- debian_archive_roots ----------------------------------------------------------------------------------

SOURCES_LIST = """\
# deb http://commented.example.org/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian.gpg] http://ftp.de.debian.org/debian/ bookworm main contrib
deb-src http://ftp.de.debian.org/debian bookworm main
deb http://security.debian.org/debian-security bookworm-security main
deb http://security.debian.org bookworm/updates main
deb [arch=amd64] https://download.docker.com/linux/debian bookworm stable
deb https://apt.releases.hashicorp.com bookworm main
deb https://packages.microsoft.com/debian/12/prod bookworm main
deb http://apt.postgresql.org/pub/repos/apt/debian bookworm-pgdg main
deb [ arch=amd64 ] http://spaced-options.example.org/debian trixie main
deb http://[broken/debian bookworm main
"""

DEBIAN_SOURCES = """\
Types: deb deb-src
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian https://mirror.example.org/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example.org/debian
Suites: bookworm
Components: main
Enabled: no

types: deb
uris: http://lowercase.example.org/debian
suites: trixie
components: main
enabled: False

Types: deb
URIs: http://snapshot.debian.org/archive/debian/20250520T000000Z/
Suites:
 bookworm
Components: main
"""

NODESOURCE_SOURCES = """\
Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
"""

# A deb822 file whose keys are lowercase and whose values continue on indented lines, with a comment inside.
CONTINUED_SOURCES = """\
types: deb
uris:
 http://continued.example.org/debian
# a comment inside the stanza
 http://second.example.org/debian
suites: sid
components: contrib
 main
"""


def test_debian_archive_roots_reads_both_formats(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(SOURCES_LIST)
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "debian.sources").write_text(DEBIAN_SOURCES)
    (parts / "nodesource.sources").write_text(NODESOURCE_SOURCES)
    (parts / "backports.list").write_text("deb http://deb.debian.org/debian bookworm-backports main\n")
    (parts / "old.list.save").write_text("deb http://saved.example.org/debian bookworm main\n")
    (parts / "zz-continued.sources").write_text(CONTINUED_SOURCES)

    assert debian_archive_roots(tmp_path) == [
        "http://ftp.de.debian.org/debian",
        "http://spaced-options.example.org/debian",
        "http://deb.debian.org/debian",  # from backports.list, which sorts before debian.sources
        "https://mirror.example.org/debian",
        "http://snapshot.debian.org/archive/debian/20250520T000000Z",
        "http://continued.example.org/debian",
        "http://second.example.org/debian",
    ]


def test_debian_archive_roots_empty(tmp_path: Path) -> None:
    assert debian_archive_roots(tmp_path) == []
    assert debian_archive_roots(tmp_path / "missing") == []
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "empty.sources").write_text("\n\n# nothing\n")
    assert debian_archive_roots(tmp_path) == []
