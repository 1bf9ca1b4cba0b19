"""The `distroless` kind: `X.Y-distroless` and `X.Y-<variant>-distroless`, every Python of the family with no shell,
no package manager and no root.

FROM scratch: the thin runtime's CPython tree and exactly the files of the Debian packages its extension modules
load, unpacked by the `unpack-debs` helper of base with one /var/lib/dpkg/status.d/<package> record each (the
layout of distroless images, which Trivy, Grype, Syft and the family's SBOM read). With no shell in the image, its
checks are one Python program (images/distroless/checks/promises.py) run as the smoke command, and a refresh asks
Debian about its records in base, which has apt and the family's sources.
"""

from __future__ import annotations

import contextlib
import io
import shlex
import tarfile
from typing import Any

import docker.errors
from packaging.requirements import Requirement

from pyfamily import engine
from pyfamily.config import Config
from pyfamily.errors import ConfigError
from pyfamily.kinds.freshness import Probe, ask_apt, newer
from pyfamily.kinds.recipe import Draft, Index, Recipe
from pyfamily.model import FROM, Family, Target
from pyfamily.util import RECIPES

SUFFIX = "distroless"
CHECKS = RECIPES / "distroless" / "checks" / "promises.py"
# What every tree holds besides the packages its modules load (find-libdeps) and python.runtime_packages:
# base-files, first, lays out the tree (the merged-/usr links) and says which Debian it is (/etc/os-release,
# /etc/debian_version, read by scanners); libgcc-s1 is loaded by glibc itself (dlopen, for thread cancellation
# and unwinding), which find-libdeps, reading ELF headers, cannot see; libc-bin has the C.UTF-8 locale that LANG
# names (glibc has none built in; its programs are left out, images/distroless/dpkg.cfg); ca-certificates is the
# CA store.
TREE_PACKAGES = ("base-files", "libgcc-s1", "libc-bin", "ca-certificates")
# Extension modules the shell-less images leave out, with the Python modules that need them: a terminal's line
# editor and screen (readline, curses: libreadline, libncursesw, libtinfo) and GNU dbm files (libgdbm, its compat
# library), which a program in production does not use (the REPL falls back to its basic line input; dbm writes
# dbm.sqlite3 files from 3.13, dbm.dumb ones before), and _uuid (libuuid), without which uuid makes every kind of
# UUID in pure Python. Their six packages are a good part of what scanners report about a Python image.
LEFT_OUT = {
    "readline": ("readline",),
    "_curses": ("curses",),
    "_curses_panel": ("curses.panel",),
    "_gdbm": ("dbm.gnu",),
    "_dbm": ("dbm.ndbm",),
    "_uuid": (),
}
STATUS_D = "/var/lib/dpkg/status.d"
MAX_RECORDS_BYTES = 16 << 20  # the records of a few dozen packages take a few hundred kB


def _refuse_clashes(config: Config) -> None:
    """A variant named `distroless` (or `<variant>-distroless`) would name one of this kind's images."""
    for variant in config.variants:
        stem = variant.removesuffix(f"-{SUFFIX}")
        if variant == SUFFIX or (stem != variant and stem in config.variants):
            raise ConfigError(
                f"variants.{variant}: the distroless images are named X.Y-{SUFFIX} and X.Y-<variant>-{SUFFIX}, so "
                f"a variant named {variant!r} would give its images the same names and tags as theirs; rename it."
            )


def _expand(config: Config, profile: str, index: Index) -> list[Draft]:
    _refuse_clashes(config)
    drafts = []
    for minor in config.pythons:
        uses = {FROM: index.find("base"), "cpython": index.find("cpython", python=minor)}
        fields = {"minor": minor, "version": config.full_version(minor)}
        drafts.append(
            Draft(
                f"{minor}-{SUFFIX}",
                uses=uses,
                python=minor,
                tag_templates=config.tags.python,
                tag_fields={**fields, "variant": f"-{SUFFIX}"},
            )
        )
        drafts += [
            Draft(
                f"{minor}-{variant}-{SUFFIX}",
                uses={**uses, "probe": index.find("builder-variant", python=minor, variant=variant)},
                python=minor,
                variant=variant,
                tag_templates=config.tags.python,
                tag_fields={**fields, "variant": f"-{variant}-{SUFFIX}"},
            )
            for variant in config.variants
        ]
    return drafts


def _describe(config: Config, target: Target) -> str:
    if target.variant:
        return f"the shell-less runtime plus exactly the libraries a source-built {target.variant} needs"
    return (
        "shell-less runtime, FROM scratch: CPython and only the Debian packages it loads, each in status.d for "
        "scanners; no shell, apt or dpkg; user nonroot (65532)"
    )


def _variables(family: Family, target: Target) -> dict[str, Any]:
    config = family.config
    variant = config.variants[target.variant] if target.variant else None
    return {
        "packages": [*TREE_PACKAGES, *config.python.runtime_packages],
        "left_out": sorted(LEFT_OUT),
        "variant": variant,
        "probe_name": Requirement(variant.probe).name if variant else "",
    }


def imports(check_imports: list[str] | tuple[str, ...]) -> list[str]:
    """The family's check_imports but those this kind leaves out, and those below them: `curses.ascii` imports
    `curses` first."""
    gone = {name for names in LEFT_OUT.values() for name in names}
    return [module for module in check_imports if not any(module == g or module.startswith(f"{g}.") for g in gone)]


def _smoke(config: Config, target: Target) -> list[str]:
    """checks/promises.py, told the Python it is about and the modules every X.Y image imports but those it leaves
    out."""
    assert target.python is not None
    return ["python3", "-I", "-c", CHECKS.read_text(), target.python, *imports(config.python.check_imports)]


# --- refresh: Debian asked about the image's records, in base ------------------------------------------------


def records_of(archive: bytes) -> list[str]:
    """The status records in a tar of status.d/ (its PKG.md5sums left out)."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and not m.name.endswith(".md5sums")]
        files = [tar.extractfile(member) for member in members]
        return [handle.read().decode(errors="replace") for handle in files if handle is not None]


def status_records(ref: str) -> list[str]:
    """The status.d records of the image `ref`, read from a container that is created, never started."""
    container = engine.client().containers.create(ref, entrypoint=["true"])  # never started: any command will do
    try:
        stream, _ = container.get_archive(STATUS_D)
        archive = bytearray()
        for chunk in stream:
            archive += chunk
            if len(archive) > MAX_RECORDS_BYTES:
                raise ValueError(f"{ref}: {STATUS_D} holds more than {MAX_RECORDS_BYTES} bytes")
    finally:
        with contextlib.suppress(docker.errors.DockerException):  # already gone: nothing of it stays
            container.remove(force=True)
    return records_of(bytes(archive))


def deb822_versions(text: str) -> dict[str, str]:
    """{package: version} of the deb822 paragraphs in `text` (status records, `apt-cache show` output)."""
    versions = {}
    for paragraph in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in paragraph.splitlines() if line[:1].strip() and ": " in line)
        if fields.get("Package") and fields.get("Version"):
            versions[fields["Package"].strip()] = fields["Version"].strip()
    return versions


def version_changes(installed: dict[str, str], candidates: dict[str, str]) -> list[str]:
    """`pkg old -> new` for each package whose version in the archive is not the image's."""
    return [
        f"{name} {version} -> {candidates.get(name, 'not in the archive')}"
        for name, version in sorted(installed.items())
        if candidates.get(name) != version
    ]


def debian_updates(probe: Probe) -> list[str]:
    """The archive's version of each package the image's records name, asked in its base (apt, the family's
    sources, the run's package lists). Not `apt-get -s dist-upgrade` with the records as dpkg's status: the image
    holds only the dependencies its programs load (no debconf or perl for ca-certificates' and tzdata's scripts),
    which apt calls broken, and then it answers nothing."""
    base, ref = probe.family.refs(probe.target)[FROM], probe.target.ref
    try:
        installed = deb822_versions("\n\n".join(status_records(ref)))
    except (docker.errors.DockerException, tarfile.TarError, ValueError) as exc:
        return [f"could not read {STATUS_D} of {ref}: {str(exc)[-200:]}"]
    show = f"apt-cache show --no-all-versions -- {shlex.join(sorted(installed))}"
    code, output = ask_apt(probe, base, show)
    if code != 0:
        return [f"could not ask Debian for updates (exit {code}): {output.strip()[-200:]}"]
    return newer(version_changes(installed, deb822_versions(output)), "Debian")


DISTROLESS = Recipe(
    kind="distroless",
    expand=_expand,
    describe=_describe,
    selected_by_version=True,
    variables=_variables,
    check_folders=(),  # no shell to run checks/*.sh with: checks/promises.py is the smoke command
    smoke=_smoke,
    freshness=(debian_updates,),
    has_shell=lambda family, target: False,
)
