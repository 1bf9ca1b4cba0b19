"""What a distroless image promises, checked inside a fresh container of it.

The image has no shell, so `invoke verify` cannot run checks/*.sh in it: the recipe's smoke command runs this file
instead, `python3 -I -c <this file> MINOR MODULE...` (pyfamily/kinds/distroless.py), in a fresh container and then
in a fresh read-only one. Every check runs; the failed ones are printed last (verify shows the output's end) and
make the exit status 1. Only the standard library is used: it is what the image holds.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

NONROOT = 65532
STATUS_D = Path("/var/lib/dpkg/status.d")
# Shells, package managers and the tools that come with them: none may be on PATH.
ABSENT_TOOLS = ("sh", "bash", "dash", "busybox", "apt", "apt-get", "dpkg", "perl", "ls", "cat", "env", "su")
# Where the engine mounts its own files and file systems (not the image's).
NOT_THE_IMAGE = ("/proc", "/sys", "/dev", "/tmp", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf")


def no_shell() -> None:
    assert not os.path.lexists("/bin/sh"), "/bin/sh exists"
    # A shell would exit 42 when told to. The exec fails with FileNotFoundError, except under qemu-user (a foreign
    # platform, emulated): its execve starts the emulator, which then cannot open the file and exits 127.
    try:
        exited = subprocess.run(["/bin/sh", "-c", "exit 42"], check=False).returncode
    except FileNotFoundError:
        exited = None
    assert exited != 42, "/bin/sh ran"
    found = [name for name in ABSENT_TOOLS if shutil.which(name)]
    assert not found, f"on PATH: {found}"


def nonroot() -> None:
    assert (os.getuid(), os.getgid()) == (NONROOT, NONROOT), (os.getuid(), os.getgid())
    user = pwd.getpwuid(NONROOT)
    assert user.pw_name == "nonroot", user
    assert os.getcwd() == user.pw_dir == os.path.expanduser("~"), (os.getcwd(), user.pw_dir)
    assert {pwd.getpwnam(name).pw_uid for name in ("root", "nobody")} == {0, 65534}


def python_version(minor: str) -> None:
    """X.Y, or X.Yt for a free-threaded build, whose GIL must stay off once the modules are imported."""
    threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert f"{sys.version_info[0]}.{sys.version_info[1]}{'t' if threaded else ''}" == minor, sys.version
    if threaded:
        assert not sys._is_gil_enabled(), "an imported module turned the GIL back on"  # type: ignore[attr-defined]


def modules(names: list[str]) -> None:
    """The family's check_imports, then every extension module of the tree: each library it loads is there."""
    dynload = Path(sysconfig.get_path("platstdlib"), "lib-dynload")
    for name in [*names, *sorted(path.name.split(".")[0] for path in dynload.glob("*.so"))]:
        importlib.import_module(name)


def tls() -> None:
    import ssl

    stats = ssl.create_default_context().cert_store_stats()
    assert stats["x509_ca"] >= 50, f"the default context loaded {stats} from {ssl.get_default_verify_paths()}"


def stdlib() -> None:
    import bz2
    import ctypes
    import datetime
    import decimal
    import locale
    import lzma
    import socket
    import sqlite3
    import uuid
    import zlib
    import zoneinfo

    paris = datetime.datetime(2026, 7, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    assert paris.utcoffset() == datetime.timedelta(hours=2), paris.utcoffset()
    assert sqlite3.connect(":memory:").execute("select 6 * 7").fetchone() == (42,)
    assert ctypes.CDLL("libc.so.6").getpid() == os.getpid()
    assert str(decimal.Decimal(1) / decimal.Decimal(8)) == "0.125"
    importlib.import_module("_decimal")  # libmpdec, not the pure-Python fallback
    data = b"distroless " * 100
    assert all(m.decompress(m.compress(data)) == data for m in (bz2, lzma, zlib))
    assert uuid.uuid4().version == 4 and uuid.uuid1().version == 1  # libuuid left out: uuid makes them itself
    assert socket.getservbyname("https", "tcp") == 443  # netbase's /etc/services, through nsswitch.conf
    assert locale.setlocale(locale.LC_ALL, "") == "C.UTF-8", "the C.UTF-8 locale LANG names is not there"
    with tempfile.TemporaryFile() as scratch:  # /tmp is writable, also in a read-only container
        scratch.write(data)


def walk(top: str) -> Iterator[os.DirEntry[str]]:
    """Every entry below `top` but the engine's, the folders nonroot may not read (/root) left closed."""
    try:
        with os.scandir(top) as entries:
            listed = [entry for entry in entries if entry.path not in NOT_THE_IMAGE]
    except PermissionError:
        return
    for entry in listed:
        yield entry
        if entry.is_dir(follow_symlinks=False):
            yield from walk(entry.path)


def file_modes() -> None:
    """No setuid or setgid file; nothing world-writable but /tmp, which is 1777."""
    bad = []
    for entry in walk("/"):
        mode = entry.stat(follow_symlinks=False).st_mode
        if not stat.S_ISLNK(mode) and mode & (stat.S_ISUID | stat.S_ISGID | stat.S_IWOTH):
            bad.append(f"{entry.path} {stat.filemode(mode)}")
    assert not bad, bad[:10]
    assert stat.S_IMODE(os.stat("/tmp").st_mode) == 0o1777, oct(os.stat("/tmp").st_mode)


def recorded() -> None:
    """Every package file under /usr is in a status.d/<package>.md5sums record, with that sum: scanners see all."""
    sums = {}
    for record in STATUS_D.glob("*.md5sums"):
        assert (STATUS_D / record.stem).is_file(), f"{record} has no status record beside it"
        for line in record.read_text().splitlines():
            digest, _, path = line.partition("  ")
            sums["/" + path] = digest
    unrecorded, changed = [], []
    for entry in walk("/usr"):
        if entry.path.startswith("/usr/local/") or not entry.is_file(follow_symlinks=False):
            continue
        if entry.path not in sums:
            unrecorded.append(entry.path)
        elif hashlib.md5(Path(entry.path).read_bytes(), usedforsecurity=False).hexdigest() != sums[entry.path]:
            changed.append(entry.path)
    assert not unrecorded and not changed, f"in no record: {unrecorded[:5]}; not as packaged: {changed[:5]}"


def main(minor: str, names: list[str]) -> int:
    checks: dict[str, Callable[[], None]] = {
        "no shell": no_shell,
        "nonroot": nonroot,
        "modules": lambda: modules(names),
        "python version": lambda: python_version(minor),  # after the imports: none may turn a GIL back on
        "tls": tls,
        "stdlib": stdlib,
        "file modes": file_modes,
        "recorded": recorded,
    }
    failed = []
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # every check runs and says why it failed
            failed.append(f"FAILED {name}: {type(exc).__name__}: {exc}")
        else:
            print(f"ok {name}")
    for line in failed:
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
