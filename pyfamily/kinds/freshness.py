"""What `invoke build --refresh` asks of an image that is up to date with its recipe: has Debian or PyPI published
something newer for it since it was built?

Each check runs in a throwaway container of the image (the CA bundle mounted for the downloads, as root, removed
afterwards: nothing reaches an image) and returns what is newer, a few words per package; an empty list means the
image is current and is kept as it is, same image ID, same digest. A recipe lists the checks that apply to its kind
(`Recipe.freshness`); a check that cannot get an answer (archive unreachable, no apt in the image) returns a reason
too, so the image is rebuilt rather than wrongly kept.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker.errors
from packaging.utils import canonicalize_name

from pyfamily import engine
from pyfamily.model import Family, Target

TIMEOUT_SECONDS = 600
CA_PATH = "/etc/ssl/certs/ca-certificates.crt"
SHOWN = 3  # packages named in a reason; the rest are counted


class AptLists:
    """The Debian package lists of one run: fetched once, in the first image asked, into a host folder that every
    later question mounts read-only (every image of a family has base's apt sources), so a refresh downloads the
    archive's indexes once, not once per image."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._fetched: tuple[int, str] | None = None

    def fetch(self, probe: Probe, ref: str) -> tuple[int, str]:
        """`apt-get update` into the folder, the first time only; its (exit code, output)."""
        with self._lock:
            if self._fetched is None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder.mkdir(parents=True)
                self._fetched = probe.run(ref, "apt-get update -qq", mounts={self.folder: (LISTS, "rw")})
            return self._fetched


@dataclass(frozen=True)
class Probe:
    """What a freshness check gets: the target, its rendered context, the CA bundle for downloads and the run's
    package lists (None: each question fetches its own)."""

    family: Family
    target: Target
    context: Path
    ca_bundle: Path | None
    apt_lists: AptLists | None = None

    def run(
        self,
        ref: str,
        script: str | list[str],
        env: dict[str, str] | None = None,
        mounts: dict[Path, tuple[str, str]] | None = None,
    ) -> tuple[int, str]:
        """Run `sh -c script` (a list: that command, no shell) in a throwaway container of `ref` with network;
        (exit code, output)."""
        volumes = {str(self.ca_bundle): {"bind": CA_PATH, "mode": "ro"}} if self.ca_bundle else {}
        volumes.update({str(host): {"bind": inside, "mode": mode} for host, (inside, mode) in (mounts or {}).items()})
        environment = {"PIP_CERT": CA_PATH, "SSL_CERT_FILE": CA_PATH, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        container = engine.client().containers.run(
            ref,
            ["sh", "-c", script] if isinstance(script, str) else script,
            entrypoint=[],
            user="0",
            environment={**environment, **(env or {})},
            volumes=volumes,
            detach=True,
        )
        try:
            status = container.wait(timeout=TIMEOUT_SECONDS)
            return int(status["StatusCode"]), container.logs().decode(errors="replace")
        finally:
            with contextlib.suppress(docker.errors.DockerException):  # already gone: nothing of it stays
                container.remove(force=True)


Freshness = Callable[[Probe], list[str]]


def newer(changes: list[str], source: str) -> list[str]:
    """`Debian: libssl3t64 3.5.1-1 -> 3.5.4-1, tzdata … and 4 more` as the one reason of a list of changes."""
    if not changes:
        return []
    more = f" and {len(changes) - SHOWN} more" if len(changes) > SHOWN else ""
    return [f"{source}: {', '.join(changes[:SHOWN])}{more}"]


# --- Debian ----------------------------------------------------------------------------------------------------

LISTS = "/var/lib/apt/lists"
# -s simulates: nothing is installed; the lists are only read (no lock taken).
SIMULATE = "apt-get -s -o Debug::NoLocking=1 dist-upgrade"
APT_INST = re.compile(r"^Inst (\S+) \[(\S+)\] \((\S+)", re.MULTILINE)


def parse_apt_simulation(output: str) -> list[str]:
    """`pkg old -> new` for every upgrade `apt-get -s dist-upgrade` would make (new packages are not upgrades of
    anything in the image and are left out)."""
    return [f"{name} {old} -> {new}" for name, old, new in APT_INST.findall(output)]


def ask_apt(probe: Probe, ref: str, command: str) -> tuple[int, str]:
    """Run an apt query in a throwaway container of `ref`, with fresh package lists: the run's shared ones when it
    has them, else its own, fetched into the container. Exit 3: the lists could not be fetched."""
    if probe.apt_lists is None:
        return probe.run(ref, f"apt-get update -qq >/dev/null || exit 3; {command}")
    code, output = probe.apt_lists.fetch(probe, ref)
    if code != 0:
        return code, output
    return probe.run(ref, command, mounts={probe.apt_lists.folder: (LISTS, "ro")})


def apt_updates_of(probe: Probe, ref: str) -> list[str]:
    code, output = ask_apt(probe, ref, SIMULATE)
    if code != 0:
        return [f"could not ask Debian for updates (exit {code}): {output.strip()[-200:]}"]
    return newer(parse_apt_simulation(output), "Debian")


def apt_updates(probe: Probe) -> list[str]:
    return apt_updates_of(probe, probe.target.ref)


# --- PyPI ------------------------------------------------------------------------------------------------------


def parse_pip_outdated(output: str) -> list[str]:
    """`name old -> new` from `pip list --outdated --format=json` (the JSON is its output's last line)."""
    lines = [line for line in output.strip().splitlines() if line.startswith("[")]
    found = json.loads(lines[-1]) if lines else []
    return [f"{item['name']} {item['version']} -> {item['latest_version']}" for item in found]


def pip_updates(probe: Probe) -> list[str]:
    """Newer releases of what pip installed into each Python of a build stage (pip, setuptools, wheel, tools)."""
    changes: list[str] = []
    for minor in probe.target.pythons:
        code, output = probe.run(probe.target.ref, f"python{minor} -m pip list --outdated --format=json")
        if code != 0:
            return [f"could not ask PyPI for updates with python{minor} (exit {code}): {output.strip()[-200:]}"]
        changes += parse_pip_outdated(output)
    return newer(sorted(set(changes)), "PyPI")


LIST_FOLDER = "import os, sys; print(*sorted(os.listdir(sys.argv[1])), sep=chr(10))"
ONE_LINE_REPORT = "import json; print(json.dumps(json.load(open('/tmp/report.json'))))"


def parse_pip_report(output: str) -> dict[str, str]:
    """{name: version} of what `pip install --dry-run --report` would install (the report on its last line)."""
    lines = [line for line in output.strip().splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else {}
    return {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"] for item in report.get("install", [])
    }


DIST_INFO = re.compile(r"^(?P<name>[^/\s]+?)-(?P<version>[^-/\s]+)\.dist-info$", re.MULTILINE)


def parse_dist_infos(output: str) -> dict[str, str]:
    """{name: version} from a listing of a site-packages folder's `*.dist-info` names."""
    return {canonicalize_name(m["name"]): m["version"] for m in DIST_INFO.finditer(output)}


def resolution_changes(installed: dict[str, str], resolved: dict[str, str]) -> list[str]:
    """What a fresh resolution of the requirements would install differently from the venv in the image."""
    changes = []
    for name, version in sorted(resolved.items()):
        if installed.get(name) != version:
            changes.append(f"{name} {installed.get(name, 'not installed')} -> {version}")
    return changes


def app_venv_updates(probe: Probe, prefix: str, requirements: Path) -> list[str]:
    """Resolve the app's requirements afresh with pip in its build stage and compare with the venv it ships."""
    target = probe.target
    builder = probe.family.refs(target)["builder"]
    python = f"python{target.python}"
    resolve = (
        f'printf "%s\\n" "$REQUIREMENTS" > /tmp/r.txt && {python} -m pip install --dry-run --ignore-installed --quiet'
        f" --report /tmp/report.json -r /tmp/r.txt && {python} -c {shlex.quote(ONE_LINE_REPORT)}"
    )
    code, output = probe.run(builder, resolve, env={"REQUIREMENTS": requirements.read_text()})
    if code != 0:
        return [f"could not resolve the requirements on PyPI (exit {code}): {output.strip()[-200:]}"]
    resolved = parse_pip_report(output)
    # listed by the image's own Python, not `ls`: an app on the shell-less runtime has no shell or coreutils
    site = f"{prefix}/lib/{python}/site-packages"
    code, listing = probe.run(target.ref, ["python3", "-c", LIST_FOLDER, site])
    if code != 0:
        return [f"could not list the venv of {target.ref} (exit {code})"]
    return newer(resolution_changes(parse_dist_infos(listing), resolved), "PyPI")
