"""Finding the newest patch release of a minor: listings parsed, pre-releases left out, sources tried in order,
and a new tarball checked by its contents and its published checksum. No network: listings are given as text."""

from __future__ import annotations

import lzma
from pathlib import Path
from typing import Any

import pytest
import requests

from pyfamily.config import PythonVersion
from pyfamily.errors import ReleaseError
from pyfamily.sources.download import Served, Skip
from pyfamily.sources.releases import (
    PYTHON_ORG_ENV,
    Listings,
    Release,
    ReleaseSource,
    check_tarball,
    final_releases,
    find_release,
    find_releases,
    newest_final,
    parse_listing,
    release_check,
    release_sources,
    split_template,
    versions_listed,
)
from pyfamily.sources.urls import PYTHON_ORG

from .fake_releases import fake_tarball, sha256

SHA = "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76"
PY313 = PythonVersion(version="3.13.15", sha256=SHA)
PY311_TGZ = PythonVersion(version="3.11.2", sha256=SHA, tarball="Python-3.11.2.tgz")


def index(*names: str) -> str:
    """A directory index as nginx's autoindex writes it."""
    links = "\n".join(f'<a href="{name}">{name}</a>  01-Jan-2026 00:00  -' for name in names)
    return f'<html><head><title>Index of /x/</title></head><body><pre><a href="../">../</a>\n{links}</pre></html>'


class FakeListings(Listings):
    """Listings served from a dict; a URL missing from it is refused like a closed port."""

    def __init__(self, pages: dict[str, str]) -> None:
        super().__init__(requests.Session())
        self.pages = pages
        self.asked: list[str] = []

    def text(self, url: str) -> str:
        self.asked.append(url)
        if url not in self.pages:
            raise Skip(f"{url}: connection refused")
        return self.pages[url]


# --- Listings and versions ------------------------------------------------------------------------------------


def test_parse_listing_keeps_entries_and_drops_parents_queries_and_fragments() -> None:
    page = """<html><body><h1>Index of /ftp/python/</h1>
    <a href="?C=N;O=D">Name</a> <a href="/ftp/">Parent Directory</a> <a href="../">../</a>
    <a href="3.13.15/">3.13.15/</a> <A HREF="3.13.16/">3.13.16/</A>
    <a href="https://www.python.org/ftp/python/3.14.0/">3.14.0/</a>
    <a href="python3.14_3.14.0%7Erc1.orig.tar.xz">python3.14_3.14.0~rc1.orig.tar.xz</a>
    <a href="Python-3.13.15.tar.xz#top">x</a> <a name="anchor">no href</a></body></html>"""
    assert parse_listing(page) == [
        "ftp/",
        "3.13.15/",
        "3.13.16/",
        "3.14.0/",
        "python3.14_3.14.0~rc1.orig.tar.xz",
        "Python-3.13.15.tar.xz",
    ]


def test_newest_final_compares_numerically_and_skips_pre_releases() -> None:
    listed = ["3.13.9", "3.13.10", "3.13.2", "3.13.11rc1", "3.13.12a1", "3.14.0", "3.13.1.post1", "junk", "3.13"]
    assert newest_final(listed, "3.13") == "3.13.10"
    assert list(final_releases(listed, "3.13").values()) == ["3.13.10", "3.13.9", "3.13.2"]
    assert newest_final(["3.14.0~rc1", "3.14.0b2"], "3.14") is None
    assert newest_final(["3.14.0~rc1", "3.14.0"], "3.14") == "3.14.0"
    assert newest_final([], "3.13") is None


def test_versions_listed_fits_folders_files_and_debian_names() -> None:
    entries = [
        "3.13.15/",
        "3.13.16",
        "Python-3.13.16.tar.xz",
        "Python-3.13.16.tar.xz.asc",
        "python3.13_3.13.5.orig.tar.xz",
    ]
    assert versions_listed(entries, "{version}", folder=True) == ["3.13.15"]
    assert versions_listed(entries, "Python-{version}.tar.xz", folder=False) == ["3.13.16"]
    debian = ["python3.13_3.13.5.orig.tar.xz", "python3.13_3.14.0~rc1.orig.tar.xz", "python3.13_3.13.5-2.dsc"]
    assert versions_listed(debian, "python3.13_{version}.orig.tar.xz", folder=False) == ["3.13.5", "3.14.0~rc1"]
    twice = ["Python-3.13.16-3.13.16.tgz", "Python-3.13.16-3.13.15.tgz"]
    assert versions_listed(twice, "Python-{version}-{version}.tgz", folder=False) == ["3.13.16"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            "https://h/ftp/python/{version}/Python-{version}.tar.xz",
            ("https://h/ftp/python/", ["{version}", "Python-{version}.tar.xz"]),
        ),
        ("https://h/m/Python-{version}.tgz", ("https://h/m/", ["Python-{version}.tgz"])),
        ("https://h/{version}/x", ("https://h/", ["{version}", "x"])),
        ("https://{version}.h/x", None),
        ("https://h{version}/x", None),
        ("https://h/get?file=Python-{version}.tar.xz", None),
        ("https://h/no-placeholder", None),
    ],
)
def test_split_template(template: str, expected: tuple[str, list[str]] | None) -> None:
    assert split_template(template) == expected


def test_source_templates_follow_the_download_urls() -> None:
    assert (
        ReleaseSource("p", "https://h/ftp/python/").template(PY313)
        == "https://h/ftp/python/{version}/Python-{version}.tar.xz"
    )
    assert ReleaseSource("m", "https://m/c/{filename}").template(PY311_TGZ) == "https://m/c/Python-{version}.tgz"
    assert (
        ReleaseSource("m", "https://m/{version}/{filename}").url(PY313, "3.13.16")
        == "https://m/3.13.16/Python-3.13.16.tar.xz"
    )
    debian = ReleaseSource("d", "http://deb/debian/", debian=True)
    assert debian.template(PY313) == "http://deb/debian/pool/main/p/python3.13/python3.13_{version}.orig.tar.xz"
    assert debian.template(PY311_TGZ) == "http://deb/debian/pool/main/p/python3.11/python3.11_{version}.orig.tar.gz"
    odd = PythonVersion(version="3.13.15", sha256=SHA, tarball="cpython.tar.xz")
    assert debian.template(odd) is None


def test_release_sources_in_order_without_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PYTHON_ORG_ENV, raising=False)
    found = release_sources(
        ["http://deb.debian.org/debian", "http://deb.debian.org/debian/"],
        ["https://user:token@m.example/python/", "https://m.example/{filename}", " "],
    )
    assert [(s.name, s.root, s.debian) for s in found] == [
        ("python.org", PYTHON_ORG, False),
        ("mirror https://***@m.example/python", "https://user:token@m.example/python/", False),
        ("mirror https://m.example/{filename}", "https://m.example/{filename}", False),
        ("Debian deb.debian.org", "http://deb.debian.org/debian", True),
    ]
    monkeypatch.setenv(PYTHON_ORG_ENV, "http://127.0.0.1:9/ftp/python")
    assert release_sources([], [])[0].root == "http://127.0.0.1:9/ftp/python"


# --- Asking the sources ---------------------------------------------------------------------------------------

ORG = ReleaseSource("python.org", "https://py/ftp/python")
MIRROR = ReleaseSource("mirror https://m", "https://m/{filename}")


def test_newest_folder_with_only_a_pre_release_is_passed_over() -> None:
    listings = FakeListings(
        {
            "https://py/ftp/python/": index("3.12.9/", "3.13.15/", "3.13.16/", "3.13.17/", "3.14.0/"),
            "https://py/ftp/python/3.13.17/": index("Python-3.13.17rc1.tar.xz", "Python-3.13.17rc1.tgz"),
            "https://py/ftp/python/3.13.16/": index("Python-3.13.16.tgz", "Python-3.13.16.tar.xz"),
        }
    )
    found = find_release("3.13", PY313, [ORG], listings, print)
    assert found.release == Release(
        "3.13.16", "Python-3.13.16.tar.xz", "https://py/ftp/python/3.13.16/Python-3.13.16.tar.xz"
    )
    assert found.source == "python.org" and found.newest == "3.13.16"
    pinned = PythonVersion(version="3.13.16", sha256=SHA)
    found = find_release("3.13", pinned, [ORG], listings, print)
    assert found.release is None and found.newest == "3.13.16"  # not 3.13.17: only its candidate is out


def test_unreachable_source_is_noted_and_the_next_one_answers() -> None:
    listings = FakeListings(
        {
            "https://m/": index("Python-3.13.14.tar.xz"),  # answers for no newer release: not newer than the pin
            "https://m2/python/": index("3.13.16/", "3.13.17/"),
            "https://m2/python/3.13.16/": index("Python-3.13.16.tar.xz"),
            "https://m2/python/3.13.17/": index("Python-3.13.17rc1.tar.xz"),
        }
    )
    second = ReleaseSource("mirror https://m2", "https://m2/python")
    notes: list[str] = []
    found = find_release("3.13", PY313, [ORG, MIRROR, second], listings, notes.append)
    assert notes == ["skipped python.org: https://py/ftp/python/: connection refused"]
    # The mirror lists 3.13.14 only: it answers (current, never a downgrade), the next one is not asked.
    assert found.release is None and found.source == "mirror https://m" and found.newest == "3.13.14"
    listings.pages["https://m/"] = index("Python-3.12.1.tar.xz")  # nothing of 3.13: the next source answers
    found = find_release("3.13", PY313, [MIRROR, second], listings, notes.append)
    assert notes[-1] == "mirror https://m lists no final release of Python 3.13"
    assert found.release == Release(
        "3.13.16", "Python-3.13.16.tar.xz", "https://m2/python/3.13.16/Python-3.13.16.tar.xz"
    )
    assert found.release.published_sha256 is None  # a directory index vouches for nothing


def test_no_source_answering_is_one_error_for_every_minor() -> None:
    notes: list[str] = []
    listings = FakeListings({"https://m/": index("Python-3.13.16.tar.xz")})
    versions = {"3.11": PY311_TGZ, "3.13": PY313, "3.14": PythonVersion(version="3.14.1", sha256=SHA)}
    with pytest.raises(ReleaseError) as raised:
        find_releases(versions, [ORG, MIRROR], listings, notes.append)
    text = str(raised.value)
    assert text.startswith("No release source answered for Python 3.11, 3.14: ")
    assert "python.org: https://py/ftp/python/: connection refused;" in text
    assert "mirror https://m: lists no final release of Python 3.11 (and 1 more like it)" in text
    assert "The family file was not changed." in text and "\n" not in text
    assert notes.count("skipped python.org: https://py/ftp/python/: connection refused") == 1


def test_a_tarball_name_without_its_version_cannot_be_followed() -> None:
    odd = PythonVersion(version="3.13.15", sha256=SHA, tarball="cpython.tar.xz")
    with pytest.raises(ReleaseError, match=r'python.versions."3.13": the tarball name cpython.tar.xz does not contain'):
        find_releases({"3.13": odd}, [ORG], FakeListings({}), print)


def test_listings_are_read_once_and_failures_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, bool]] = []

    def fake_download(session: object, url: str, out: Any, limits: object, **kwargs: Any) -> Served:
        calls.append((url, kwargs.get("html", False)))
        if "closed" in url:
            raise Skip("connection refused")
        out.write(index("3.13.15/").encode())
        return Served("", 0)

    monkeypatch.setattr("pyfamily.sources.releases.listings.download", fake_download)
    listings = Listings(requests.Session())
    for _ in range(3):
        assert listings.entries("https://py/ftp/python/") == ["3.13.15/"]
        with pytest.raises(Skip, match=r"^https://closed/: connection refused$"):
            listings.entries("https://closed/")
    assert calls == [("https://py/ftp/python/", True), ("https://closed/", True)]


# --- Checking a tarball ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["xz", "gz"])
def test_check_tarball_accepts_the_release_it_claims_to_be(tmp_path: Path, compression: str) -> None:
    path = tmp_path / "t"
    path.write_bytes(fake_tarball("3.13.16", compression))
    assert check_tarball(path, "3.13.16") is None
    assert (
        check_tarball(path, "3.13.17")
        == "has no Python-3.13.17/Include/patchlevel.h, so it is not the source tarball of Python 3.13.17"
    )


def test_check_tarball_refuses_corrupt_cut_and_mislabelled_files(tmp_path: Path) -> None:
    path = tmp_path / "t"
    path.write_bytes(b"<html>not found</html>")
    assert (check_tarball(path, "3.13.16") or "").startswith("is not a readable tar archive")
    good = fake_tarball("3.13.16")
    path.write_bytes(good[: len(good) - 20])
    assert (check_tarball(path, "3.13.16") or "").startswith("is not a readable tar archive")
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    path.write_bytes(bytes(flipped))
    assert (check_tarball(path, "3.13.16") or "").startswith("is not a readable tar archive")
    path.write_bytes(fake_tarball("3.13.16", declared="3.13.15"))
    assert check_tarball(path, "3.13.16") == "holds the sources of Python 3.13.15, not 3.13.16"
    path.write_bytes(lzma.compress(b"\0" * 1024))  # an empty tar archive
    assert "has no Python-3.13.16/Include/patchlevel.h" in (check_tarball(path, "3.13.16") or "")
    path.write_bytes(fake_tarball("3.13.16", "gz"))  # a gzipped tarball named .tar.xz
    assert (check_tarball(path, "3.13.16", "Python-3.13.16.tar.xz") or "").startswith("is not a readable tar archive")
    assert check_tarball(path, "3.13.16", "Python-3.13.16.tgz") is None


def test_release_check_wants_the_published_sha256_first(tmp_path: Path) -> None:
    data = fake_tarball("3.13.16")
    path = tmp_path / "t"
    path.write_bytes(data)
    served = Served(sha256(data), len(data))
    plain = Release("3.13.16", "Python-3.13.16.tar.xz", "http://x/a")
    assert release_check(plain)(path, served) is None
    published = Release("3.13.16", "Python-3.13.16.tar.xz", "http://x/a", "f" * 64, "http://x/a.dsc")
    reason = release_check(published)(path, served)
    assert reason is not None and f"not the {'f' * 64} published in http://x/a.dsc" in reason
    matching = Release("3.13.16", "Python-3.13.16.tar.xz", "http://x/a", sha256(data), "http://x/a.dsc")
    assert release_check(matching)(path, served) is None
