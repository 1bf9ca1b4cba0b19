"""The Debian archive roots the host's apt uses, read from one-line `.list` and deb822 `.sources` files.

Only real Debian archives count (a Debian path and suite, component "main"): security archives and third-party
repositories that borrow Debian's codenames are left out. Their pools carry CPython's orig tarballs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from debian.deb822 import Deb822

_DEBIAN_CODENAMES = frozenset(
    {
        "buzz", "rex", "bo", "hamm", "slink", "potato", "woody", "sarge", "etch", "lenny", "squeeze",
        "wheezy", "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky", "duke",
        "sid", "experimental", "oldoldstable", "oldstable", "stable", "testing", "unstable",
    }
)  # fmt: skip
_DEBIAN_SUITE_SUFFIXES = frozenset({"", "updates", "backports", "backports-sloppy", "proposed-updates"})
_SNAPSHOT_STAMP = re.compile(r"\d{8}T\d{6}Z")
_DISABLED = frozenset({"no", "false", "0"})


@dataclass(frozen=True)
class _AptSource:
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]


def debian_archive_roots(apt_dir: Path = Path("/etc/apt")) -> list[str]:
    """Archive roots the host's apt uses for Debian (e.g. ["http://deb.debian.org/debian"]), in apt's order.

    Reads sources.list, sources.list.d/*.list and deb822 sources.list.d/*.sources. Security archives and
    third-party repositories are left out; an empty list means none was found.
    """
    roots = [
        uri.rstrip("/") for source in _apt_sources(apt_dir) for uri in source.uris if _is_debian_archive(uri, source)
    ]
    return list(dict.fromkeys(roots))


def _apt_files(apt_dir: Path) -> list[Path]:
    files = [apt_dir / "sources.list"]
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    return [f for f in files if f.is_file()]


def _apt_sources(apt_dir: Path) -> Iterator[_AptSource]:
    for path in _apt_files(apt_dir):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # unreadable for this user: apt's business, and the mirrors are only a fallback
        yield from (_parse_deb822(text) if path.suffix == ".sources" else _parse_one_line(text))


def _parse_one_line(text: str) -> Iterator[_AptSource]:
    """`deb [arch=amd64 signed-by=...] URI SUITE COMPONENT...` lines; the options block may span words."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] not in ("deb", "deb-src"):
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            closing = next((i for i, word in enumerate(words) if word.endswith("]")), len(words))
            words = words[closing + 1 :]
        if len(words) >= 2:
            uri, suite, *components = words
            yield _AptSource((uri,), (suite,), tuple(components))


def _parse_deb822(text: str) -> Iterator[_AptSource]:
    # A list of lines, not the text: given one line that names an existing file, Deb822 would read that file.
    for stanza in Deb822.iter_paragraphs(text.splitlines()):
        if stanza.get("Enabled", "yes").strip().lower() in _DISABLED:
            continue
        if not {"deb", "deb-src"} & set(stanza.get("Types", "").split()):
            continue
        yield _AptSource(
            tuple(stanza.get("URIs", "").split()),
            tuple(stanza.get("Suites", "").split()),
            tuple(stanza.get("Components", "").split()),
        )


def _is_debian_archive(uri: str, source: _AptSource) -> bool:
    # A codename + "main" alone is not enough: many third-party repos (HashiCorp, Microsoft, sury.org)
    # use exactly that, so the path must also look like a Debian archive root.
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
    except ValueError:  # "http://[oops": apt will complain about it, not us
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(hostname)
        and "main" in source.components
        and _is_debian_path(parts.path)
        and any(_is_debian_suite(suite) for suite in source.suites)
    )


def _is_debian_path(path: str) -> bool:
    """True for ".../debian" or a snapshot root ".../debian/20250520T000000Z", not "debian-security"."""
    segments = [s for s in path.split("/") if s]
    if segments and segments[-1] == "debian":
        return True
    return len(segments) >= 2 and segments[-2] == "debian" and bool(_SNAPSHOT_STAMP.fullmatch(segments[-1]))


def _is_debian_suite(suite: str) -> bool:
    name, _, suffix = suite.strip("/").partition("-")
    return name in _DEBIAN_CODENAMES and suffix in _DEBIAN_SUITE_SUFFIXES
