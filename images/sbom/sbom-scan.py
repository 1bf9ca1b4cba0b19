"""A BuildKit SBOM generator for the family's images: the Debian packages dpkg records (or status.d) and the Python
distributions installed (site-packages and venvs), as an SPDX 2.3 document in an in-toto statement.

BuildKit runs it (`--attest=type=sbom,generator=<this image>`) with the built root filesystem mounted read-only
at $BUILDKIT_SCAN_SOURCE, other stages' at $BUILDKIT_SCAN_SOURCE_EXTRAS/<name> (when asked), and writes what
it finds in $BUILDKIT_SCAN_DESTINATION/<name>.spdx.json (docs/attestations/sbom-protocol.md of BuildKit). It reads
files only, and the same tree gives the same bytes.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import re
import sys
from pathlib import Path

TOOL = "pyfamily-sbom-scan-1"
STATUS = "var/lib/dpkg/status"
# A tree with no dpkg (the distroless images) keeps one record per package here instead: PKG, beside PKG.md5sums.
STATUS_D = "var/lib/dpkg/status.d"
# Where Python distributions live in the family's images: CPython's site-packages (/usr/local/lib), app and
# project venvs (/usr/share/python3/app), and other usual places.
PYTHON_ROOTS = ("usr/local/lib", "usr/share/python3", "opt", "usr/lib/python3/dist-packages")
MAX_DEPTH = 8


def status_texts(root: Path) -> list[str]:
    """dpkg's status file, and every record of status.d/ (no symlink: they would be read outside the tree)."""
    texts = []
    status, records = root / STATUS, root / STATUS_D
    if status.is_file() and not status.is_symlink():
        texts.append(status.read_text(errors="replace"))
    if records.is_dir() and not records.is_symlink():
        for record in sorted(records.iterdir()):
            if record.is_file() and not record.is_symlink() and not record.name.endswith(".md5sums"):
                texts.append(record.read_text(errors="replace"))
    return texts


def deb_packages(root: Path) -> list[dict[str, str]]:
    """Installed Debian packages, each once: deb822 paragraphs whose Status says installed (a status.d record may
    have no Status: it is there because the package is)."""
    found = {}
    for text in status_texts(root):
        for paragraph in text.split("\n\n"):
            fields: dict[str, str] = {}
            for line in paragraph.splitlines():
                if line and not line[0].isspace() and ":" in line:
                    key, _, value = line.partition(":")
                    fields[key.strip()] = value.strip()
            if fields.get("Package") and "installed" in fields.get("Status", "installed").split():
                found[(fields["Package"], fields.get("Architecture", ""))] = fields
    return [found[key] for key in sorted(found)]


def python_dists(root: Path) -> list[tuple[str, str, str]]:
    """(name, version, where) of every *.dist-info under the Python roots."""
    found = []
    for top in PYTHON_ROOTS:
        base = root / top
        if not base.is_dir():
            continue
        for folder, subfolders, _ in os.walk(base):
            depth = len(Path(folder).relative_to(base).parts)
            if depth >= MAX_DEPTH:
                subfolders[:] = []
            for name in list(subfolders):
                if name.endswith(".dist-info"):
                    subfolders.remove(name)
                    metadata = Path(folder) / name / "METADATA"
                    if metadata.is_file():
                        headers = email.parser.Parser().parsestr(metadata.read_text(errors="replace"), headersonly=True)
                        if headers.get("Name"):
                            where = "/" + str((Path(folder) / name).relative_to(root))
                            found.append((headers["Name"], headers.get("Version", ""), where))
    return sorted(set(found))


def spdx_id(text: str) -> str:
    return "SPDXRef-" + re.sub(r"[^A-Za-z0-9.-]", "-", text)


def document(name: str, root: Path) -> dict[str, object]:
    packages = []
    for fields in deb_packages(root):
        package, version, arch = fields["Package"], fields.get("Version", ""), fields.get("Architecture", "")
        packages.append(
            {
                "name": package,
                "SPDXID": spdx_id(f"deb-{package}-{arch}"),
                "versionInfo": version,
                "supplier": "Organization: Debian",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"pkg:deb/debian/{package}@{version}?arch={arch}",
                    }
                ],
            }
        )
    for dist, version, where in python_dists(root):
        normalized = re.sub(r"[-_.]+", "-", dist).lower()
        packages.append(
            {
                "name": dist,
                "SPDXID": spdx_id(f"python-{normalized}-{hashlib.sha256(where.encode()).hexdigest()[:12]}"),
                "versionInfo": version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "sourceInfo": f"installed at {where}",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"pkg:pypi/{normalized}@{version}",
                    }
                ],
            }
        )
    digest = hashlib.sha256(json.dumps(packages, sort_keys=True).encode()).hexdigest()
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": f"https://spdx.org/spdxdocs/{TOOL}/{digest}",
        "creationInfo": {"created": "1970-01-01T00:00:00Z", "creators": [f"Tool: {TOOL}"]},
        "packages": packages,
        "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": p["SPDXID"]}
            for p in packages
        ],
    }


def statement(name: str, root: Path) -> dict[str, object]:
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://spdx.dev/Document",
        "subject": [],
        "predicate": document(name, root),
    }


def main() -> int:
    destination = Path(os.environ["BUILDKIT_SCAN_DESTINATION"])
    sources = [Path(os.environ["BUILDKIT_SCAN_SOURCE"])]
    extras = Path(os.environ.get("BUILDKIT_SCAN_SOURCE_EXTRAS") or "/nonexistent")
    if extras.is_dir():
        sources += sorted(path for path in extras.iterdir() if path.is_dir())
    destination.mkdir(parents=True, exist_ok=True)
    for source in sources:
        out = destination / f"{source.name}.spdx.json"
        out.write_text(json.dumps(statement(source.name, source), indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
