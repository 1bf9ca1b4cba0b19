"""images/cpython/install-build-deps.sh --backports, in real containers of the fixture family's base: the compile
stage of a minor whose JIT needs an LLVM only the suite's backports have (3.15: LLVM 21, trixie-backports)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_helpers import check, sh, start

pytestmark = pytest.mark.integration

SCRIPTS = Path(__file__).parents[2] / "images" / "cpython"
# Install one small package the base lacks: apt-install updates every list first and fails on one it cannot fetch,
# so a backports source that names no real suite fails the step.
INSTALL = '/src/install-build-deps.sh "$(dpkg --print-architecture)" --backports xz-utils'
DEB822 = """Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.debian.org/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


@pytest.fixture
def stage(docker_client, helper_image) -> Iterator:
    container = start(docker_client, helper_image, volumes={str(SCRIPTS): {"bind": "/src", "mode": "ro"}})
    try:
        yield container
    finally:
        container.remove(force=True)


def test_the_suites_backports_are_added_beside_a_one_line_source(stage):
    first = check(stage, "grep -m1 '^deb ' /etc/apt/sources.list").out.split()
    check(stage, INSTALL, timeout=600)
    added = check(stage, "cat /etc/apt/sources.list.d/backports.list").out.split()
    assert added == [first[0], first[1], f"{first[2]}-backports", *first[3:]]


def test_the_suites_backports_are_added_beside_a_deb822_source(stage):
    # A sources.list of comments alone beside the .sources, as Debian's own images have it: searched, no trace left.
    check(stage, "echo '# moved to debian.sources' > /etc/apt/sources.list")
    check(stage, f"printf '%s' '{DEB822}' > /etc/apt/sources.list.d/debian.sources")
    check(stage, INSTALL, timeout=600)
    added = check(stage, "cat /etc/apt/sources.list.d/backports.sources").out
    assert "Suites: trixie-backports\n" in added
    assert "URIs: http://deb.debian.org/debian\n" in added and "security" not in added
    assert _backports_files(stage) == ["backports.sources"]


def test_no_source_of_the_suite_is_an_error_naming_it(stage):
    check(stage, "echo 'deb http://deb.debian.org/debian bookworm main' > /etc/apt/sources.list")
    failed = sh(stage, INSTALL)
    assert failed.rc == 1 and "no apt source of trixie" in failed.err
    assert sh(stage, "command -v xz").rc != 0  # nothing installed
    assert _backports_files(stage) == []  # nothing half-done


def _backports_files(stage) -> list[str]:
    return check(stage, "ls /etc/apt/sources.list.d/ | grep backports || true").out.split()
