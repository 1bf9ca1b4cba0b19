"""apt-install's command line, run on the host: `apt-get` and `rm` on its PATH are stubs that record their
arguments, so nothing is installed or removed here, and a test sees exactly what apt-get would have been asked.
(The real helper in the real base image: tests/integration/test_helpers.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "apt-install"
INJECTION = "-oAPT::Get::AllowUnauthenticated=1"
USAGE_ERROR = 2

# Each call appends its arguments, NUL-terminated, then a record separator.
RECORDER = """#!/bin/sh
{ for arg in "$@"; do printf '%s\\0' "$arg"; done; printf '\\036'; } >>"$RECORD_DIR/$(basename "$0").calls"
"""


@dataclass
class Run:
    rc: int
    out: str
    err: str
    apt_get: list[list[str]]  # the arguments of each apt-get call
    rm: list[list[str]]  # the arguments of each rm call (apt-install's cleanup)


def _calls(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [record.split("\0")[:-1] for record in path.read_text().split("\x1e")[:-1]]


def _as_root() -> list[str]:
    """apt-install calls apt-get only as root: run it as root, or as root of a user namespace."""
    if os.geteuid() == 0:
        return []
    unshare = ["unshare", "--user", "--map-root-user"]
    if shutil.which("unshare") and subprocess.run([*unshare, "true"], capture_output=True, check=False).returncode == 0:
        return unshare
    pytest.skip("apt-install needs root (or a user namespace) to get as far as apt-get")


@pytest.fixture
def apt_install(tmp_path: Path) -> Callable[..., Run]:
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name in ("apt-get", "rm", "sleep"):
        (stubs / name).write_text(RECORDER)
        (stubs / name).chmod(0o755)
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "RECORD_DIR": str(tmp_path), "LC_ALL": "C"}
    prefix = _as_root()

    def run(*args: str, stdin: str = "") -> Run:
        for calls in tmp_path.glob("*.calls"):  # each run records afresh
            calls.unlink()
        done = subprocess.run(
            [*prefix, str(SCRIPT), *args], input=stdin, capture_output=True, text=True, env=env, timeout=30, check=False
        )
        return Run(
            done.returncode,
            done.stdout,
            done.stderr,
            _calls(tmp_path / "apt-get.calls"),
            _calls(tmp_path / "rm.calls"),
        )

    return run


def installed(result: Run) -> list[str]:
    """The package names of the install call: what follows its `--`."""
    assert result.rc == 0, result
    update, install = result.apt_get
    assert update[0] == "update", result
    assert install[0] == "install" and "--" in install, result
    assert result.rm, "the cleanup ran, through the stub"
    return install[install.index("--") + 1 :]


@pytest.mark.parametrize(
    "stdin",
    [
        f"{INJECTION}\n",
        f"tree {INJECTION}\n",
        "hello\n--allow-unauthenticated tree\n",
        "tree  # a comment\n-y\n",
        "--\ntree\n",  # on standard input "--" is no end of options: it is a word, and not a package
    ],
)
def test_words_on_stdin_that_look_like_options_are_usage_errors(apt_install, stdin):
    result = apt_install("-", stdin=stdin)
    assert result.rc == USAGE_ERROR, result
    assert result.apt_get == [], "apt-get must not run at all"
    assert result.rm == []
    assert "see apt-install --help" in result.err


def test_double_dash_ends_the_options(apt_install):
    assert installed(apt_install("--", "tree", "hello")) == ["tree", "hello"]
    assert installed(apt_install("-", "--", "tree", stdin="hello\n")) == ["tree", "hello"]


@pytest.mark.parametrize(
    "args",
    [
        ["--", INJECTION],
        ["--", "tree", "-y"],
        ["--", "-"],
        ["--", "--"],
    ],
)
def test_names_after_double_dash_still_may_not_start_with_a_dash(apt_install, args):
    result = apt_install(*args)
    assert result.rc == USAGE_ERROR, result
    assert result.apt_get == []


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["Tree"], ""),
        (["x"], ""),
        (["tree;id"], ""),
        (["tree/trixie"], ""),
        (["./local.deb"], ""),
        (["tree="], ""),
        (["tree:"], ""),
        (["tree", "libc6:"], ""),
        (["tree-"], ""),  # apt-get would read it as "remove tree"
        (["-"], "libfoo_1.0\n"),
        (["-", "tree"], "hello Hello\n"),
    ],
)
def test_invalid_package_names_are_usage_errors(apt_install, args, stdin):
    result = apt_install(*args, stdin=stdin)
    assert result.rc == USAGE_ERROR, result
    assert result.apt_get == []


@pytest.mark.parametrize(
    "word",
    ["tzdata:all-", "tzdata=2024a-", "tzdata:amd64=2024a-", "libc6:amd64+", "tzdata=2024a+", "tzdata:all-+"],
)
@pytest.mark.parametrize("where", ["argument", "stdin"])
def test_apt_action_suffixes_in_any_part_are_usage_errors(apt_install, word, where):
    # apt-get strips a final "-" (remove) or "+" (install) when the whole word names no package: "tzdata:all-"
    # would remove tzdata, "tzdata=2024a+" install another version than the one written.
    result = apt_install(word) if where == "argument" else apt_install("-", stdin=f"tree {word}\n")
    assert result.rc == USAGE_ERROR, result
    assert result.apt_get == [], "apt-get must not run at all"
    assert f"'{word}'" in result.err
    assert "as an action" in result.err


def test_every_debian_name_form_reaches_apt_get(apt_install):
    names = ["g++", "libstdc++6", "python3.13", "0ad", "libc6:amd64", "tree=2.2.1-1+b1", "openssl=1:3.5.4-1~deb13u1"]
    names += ["libc6:i386=2.41-12", "c++:all", "python3=3.13.5-1~", "tree=2.2.1-1+b1.1", "tree=1:2"]
    assert installed(apt_install(*names)) == names


def test_help_shows_double_dash(apt_install):
    result = apt_install("--help")
    assert result.rc == 0
    assert "Usage: apt-install [--] PKG..." in result.out
    assert result.apt_get == []
