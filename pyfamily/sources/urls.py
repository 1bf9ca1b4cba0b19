"""Where a pinned CPython tarball may be downloaded from: python.org, Debian's pool, then extra mirrors."""

from __future__ import annotations

import os
from collections.abc import Sequence

from packaging.version import Version

from pyfamily.config import Config, PythonVersion
from pyfamily.sources.apt import debian_archive_roots

PYTHON_ORG = "https://www.python.org/ftp/python"
MIRRORS_ENV = "PYFAMILY_SOURCE_MIRRORS"


def locations(config: Config) -> tuple[list[str], list[str]]:
    """Besides python.org: the Debian archive roots (sources.debian_archive, else the host's apt's) and the extra
    mirrors (sources.mirrors, then $PYFAMILY_SOURCE_MIRRORS). `invoke update-versions` lists releases there too."""
    roots = [config.sources.debian_archive] if config.sources.debian_archive else debian_archive_roots()
    mirrors = [*config.sources.mirrors, *os.environ.get(MIRRORS_ENV, "").split()]
    return roots, mirrors


def candidate_urls(python: PythonVersion, debian_roots: Sequence[str], extra_mirrors: Sequence[str]) -> list[str]:
    """Download URLs for python's tarball, best first: python.org, each Debian root's pool, each extra mirror.

    An extra mirror is either a prefix laid out like python.org's ftp tree ("<prefix>/3.13.15/<filename>")
    or a template with "{version}" and/or "{filename}" placeholders, which are replaced literally.
    Duplicates are dropped, keeping the first.
    """
    urls = [f"{PYTHON_ORG}/{release_dir(python)}/{python.filename}"]
    pool_path = debian_pool_path(python)
    if pool_path is not None:
        urls += [f"{root.strip().rstrip('/')}/{pool_path}" for root in debian_roots if root.strip()]
    urls += [_mirror_url(mirror.strip(), python) for mirror in extra_mirrors if mirror.strip()]
    return list(dict.fromkeys(urls))


def release_dir(python: PythonVersion) -> str:
    """python.org's directory for a version: "3.13.15"; pre-releases live in the final's ("3.14.0rc1" -> "3.14.0")."""
    return ".".join(str(part) for part in Version(python.version).release)


def debian_pool_path(python: PythonVersion) -> str | None:
    """Debian's name for the upstream tarball, "pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz".

    Pre-releases sort before the release with "~" ("3.14.0~rc1"). None when the tarball's compression is one
    Debian's orig tarballs do not use.
    """
    if python.filename.endswith(".tar.xz"):
        compression = "xz"
    elif python.filename.endswith((".tgz", ".tar.gz")):
        compression = "gz"
    else:
        return None
    version = Version(python.version)
    package = "python{}.{}".format(*version.release[:2])
    upstream = release_dir(python) + ("~{}{}".format(*version.pre) if version.pre else "")
    return f"pool/main/{package[0]}/{package}/{package}_{upstream}.orig.tar.{compression}"


def _mirror_url(mirror: str, python: PythonVersion) -> str:
    if "{version}" in mirror or "{filename}" in mirror:
        # str.replace rather than str.format: other braces in a URL must not raise or be interpreted.
        return mirror.replace("{version}", python.version).replace("{filename}", python.filename)
    return f"{mirror.rstrip('/')}/{release_dir(python)}/{python.filename}"
