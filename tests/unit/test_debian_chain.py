"""A Debian archive's releases are believed only through its signed chain: InRelease (checked by the real gpgv
against a keyring) -> Sources -> .dsc -> orig tarball. The archive is served on 127.0.0.1 and signed with keys
made for the test (fake_releases.ArchiveKeys); nothing here needs the internet."""

from __future__ import annotations

import lzma
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pyfamily.config import PythonVersion
from pyfamily.errors import ReleaseError, SourceError
from pyfamily.sources.releases import (
    KEYRING_ENV,
    SUITES_ENV,
    Listings,
    Lookup,
    Release,
    ReleaseSource,
    SignedArchives,
    debian_keyring,
    debian_suites,
    fetch_release,
    find_release,
    find_releases,
)
from pyfamily.sources.releases.openpgp import _judge

from .fake_releases import ArchiveKeys, FakeArchive, Upload, fake_tarball, file_server, sha256

SHA = "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76"
PY313 = PythonVersion(version="3.13.15", sha256=SHA)
ORIG = fake_tarball("3.13.16")


@pytest.fixture
def archive(tmp_path: Path, keys: ArchiveKeys) -> Iterator[FakeArchive]:
    with file_server(tmp_path / "www") as server:
        yield FakeArchive(server, keys)


def ask(
    archive: FakeArchive,
    keyring: Path | None = None,
    suites: tuple[str, ...] = ("unstable",),
    notes: list[str] | None = None,
) -> Lookup:
    session = requests.Session()
    session.trust_env = False  # 127.0.0.1 directly, whatever proxy the environment names
    listings = Listings(session)
    signed = SignedArchives(listings, keyring or archive.keys.keyring, suites)
    source = ReleaseSource("Debian test", archive.root, debian=True)
    return find_release("3.13", PY313, [source], listings, (notes if notes is not None else []).append, signed)


def refusal(archive: FakeArchive, **kwargs: object) -> str:
    with pytest.raises(ReleaseError) as raised:
        ask(archive, **kwargs)  # type: ignore[arg-type]
    text = str(raised.value)
    assert "\n" not in text and text.endswith("amily file was not changed.")
    return text


# --- The chain, whole -----------------------------------------------------------------------------------------


def test_signed_chain_gives_the_orig_sha256(archive: FakeArchive) -> None:
    archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG), Upload("python3.14", "3.14.2", b"x")])
    found = ask(archive)
    assert found.release is not None and found.newest == "3.13.16" and found.source == "Debian test"
    release = found.release
    pool = f"{archive.root}/pool/main/p/python3.13"
    assert (release.version, release.filename, release.url) == (
        "3.13.16",
        "Python-3.13.16.tar.xz",
        f"{pool}/python3.13_3.13.16.orig.tar.xz",
    )
    assert release.published_sha256 == sha256(ORIG)
    assert release.published_in == f"{pool}/python3.13_3.13.16-1.dsc"
    assert release.signed_by == (
        f"InRelease of unstable (key {archive.keys.archive}) -> Sources -> python3.13_3.13.16-1.dsc"
    )


def test_a_python_org_release_is_vouched_for_by_the_same_tarball_signed_in_debian(archive: FakeArchive) -> None:
    """python.org's listing says 3.13.16 exists; Debian's signed chain gives its sha256 (Debian's orig tarball is
    python.org's, byte for byte). Without that, the release carries no sha256 and fetch_release() refuses it."""
    server = archive.server
    server.put("ftp/python/3.13.16/Python-3.13.16.tar.xz", ORIG)
    org = ReleaseSource("python.org", f"{server.base}/ftp/python")
    debian = ReleaseSource("Debian test", archive.root, debian=True)
    archive.publish("unstable", [Upload("python3.13", "3.13.9", fake_tarball("3.13.9"))])
    listings = Listings(requests.Session())
    signed = SignedArchives(listings, archive.keys.keyring, ("unstable",))
    found = find_release("3.13", PY313, [org, debian], listings, print, signed)
    assert found.source == "python.org" and found.release is not None
    assert found.release.published_sha256 is None and found.release.signed_by is None
    archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG)])
    listings = Listings(requests.Session())
    signed = SignedArchives(listings, archive.keys.keyring, ("unstable",))
    found = find_release("3.13", PY313, [org, debian], listings, print, signed)
    assert found.source == "python.org" and found.release is not None
    assert found.release.url == f"{server.base}/ftp/python/3.13.16/Python-3.13.16.tar.xz"
    assert found.release.published_sha256 == sha256(ORIG)
    assert found.release.signed_by == (
        f"Debian test: InRelease of unstable (key {archive.keys.archive}) -> Sources -> python3.13_3.13.16-1.dsc"
    )


def test_current_when_nothing_newer_and_never_a_downgrade(archive: FakeArchive) -> None:
    archive.publish("unstable", [Upload("python3.13", "3.13.5", fake_tarball("3.13.5"))])
    found = ask(archive)
    assert found.release is None and found.newest == "3.13.5"


def test_newest_revision_across_suites_and_a_missing_suite_noted(archive: FakeArchive) -> None:
    archive.publish("stable", [Upload("python3.13", "3.13.16", ORIG, revision="1")], codename="trixie")
    archive.publish(
        "unstable", [Upload("python3.13", "3.13.16", ORIG, revision="2"), Upload("python3.13", "3.13.9", b"")]
    )
    notes: list[str] = []
    found = ask(archive, suites=("stable", "oldstable", "unstable"), notes=notes)
    assert found.release is not None and found.release.published_in is not None
    assert found.release.published_in.endswith("python3.13_3.13.16-2.dsc")
    assert found.release.signed_by is not None and found.release.signed_by.startswith("InRelease of unstable ")
    assert notes == [
        f"skipped suite oldstable of Debian test: {archive.root}/dists/oldstable/InRelease: HTTP 404 File not found"
    ]


def test_no_suite_readable_is_a_skipped_source(archive: FakeArchive) -> None:
    listings = Listings(requests.Session())
    signed = SignedArchives(listings, archive.keys.keyring, ("unstable",))
    source = ReleaseSource("Debian test", archive.root, debian=True)
    with pytest.raises(ReleaseError, match=r"Debian test: no suite's index could be read \(unstable: .*HTTP 404"):
        find_releases({"3.13": PY313}, [source], listings, print, signed)


def test_indexes_are_taken_by_hash_when_the_archive_keeps_them_so(archive: FakeArchive) -> None:
    """A mirror mid-update serves the new Sources.xz under its plain name while the InRelease is still the old
    one: by hash, the file that InRelease signed is still there."""
    archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG)], by_hash=True)
    archive.server.put("debian/dists/unstable/main/source/Sources.xz", lzma.compress(b"Package: newer\n"))
    found = ask(archive)
    assert found.release is not None and found.release.published_sha256 == sha256(ORIG)


def test_a_gzipped_sources_index_is_read_when_no_xz_is_listed(archive: FakeArchive) -> None:
    archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG)], compression="gz")
    found = ask(archive)
    assert found.release is not None and found.release.published_sha256 == sha256(ORIG)


def test_an_expired_index_is_noted_and_still_used(archive: FakeArchive) -> None:
    archive.publish(
        "unstable", [Upload("python3.13", "3.13.16", ORIG)], extra="Valid-Until: Sun, 02 Jan 2000 00:00:00 UTC\n"
    )
    notes: list[str] = []
    found = ask(archive, notes=notes)
    assert found.release is not None
    assert notes == [
        f"{archive.root}/dists/unstable/InRelease expired on Sun, 02 Jan 2000 00:00:00 UTC: the mirror or a proxy "
        "serves an old index, so newer releases may be missing from it"
    ]


def test_a_release_nothing_signed_is_refused_before_any_download(tmp_path: Path) -> None:
    """Found at python.org (or a mirror) by its directory index alone: refused, nothing downloaded or cached."""
    tarball = fake_tarball("3.13.16")
    with file_server(tmp_path / "www") as server:
        server.put("ftp/python/3.13.16/Python-3.13.16.tar.xz", tarball)
        url = f"{server.base}/ftp/python/3.13.16/Python-3.13.16.tar.xz"
        found = Lookup("3.13", PY313, "python.org", "3.13.16", Release("3.13.16", "Python-3.13.16.tar.xz", url))
        with pytest.raises(SourceError) as raised:
            fetch_release(found, [ReleaseSource("python.org", f"{server.base}/ftp/python")], tmp_path / "cache")
    text = str(raised.value)
    assert text.startswith(f"Python 3.13.16 was found at python.org ({url}), but no publisher's signature vouches")
    assert "\n" not in text and text.endswith("the family file was not changed.")
    assert not (tmp_path / "cache").exists()


# --- Refusals -------------------------------------------------------------------------------------------------


def test_inrelease_signed_by_another_key_is_refused(archive: FakeArchive) -> None:
    archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG)], signer=archive.keys.other)
    text = refusal(archive)
    assert text.startswith(f"{archive.root}/dists/unstable/InRelease failed its signature check against ")
    assert str(archive.keys.keyring) in text and "signed only by keys that are not in the keyring" in text


def test_inrelease_altered_after_signing_is_refused(archive: FakeArchive) -> None:
    archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG)])
    path = archive.server.root / "debian/dists/unstable/InRelease"
    path.write_bytes(path.read_bytes().replace(b"Suite: unstable", b"Suite: unstabl3"))
    assert "a bad signature by key" in refusal(archive)


def test_unsigned_inrelease_is_refused(archive: FakeArchive) -> None:
    release = archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG)])
    archive.server.put("debian/dists/unstable/InRelease", release)
    assert "it holds 0 clear-signed blocks, where an InRelease holds exactly one" in refusal(archive)


def test_an_inrelease_of_two_signed_blocks_is_refused(archive: FakeArchive) -> None:
    """Two genuine signed texts spliced into one file (an old index's and a new one's): refused as apt does."""
    old = archive.keys.clearsign(archive.publish("stable", [Upload("python3.13", "3.13.9", b"")]))
    archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG)])
    path = archive.server.root / "debian/dists/unstable/InRelease"
    path.write_bytes(path.read_bytes() + old)
    assert "it holds 2 clear-signed blocks, where an InRelease holds exactly one" in refusal(archive)


def test_lines_outside_the_signed_block_are_ignored(archive: FakeArchive) -> None:
    """A forged Sources.xz, and its sha256 added to the InRelease after the signature: gpgv's signed text has the
    genuine sha256 only, so the forged index is refused."""
    archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG)])
    forged = lzma.compress(b"Package: python3.13\nVersion: 3.13.99-1\nDirectory: pool/main/p/python3.13\n")
    archive.server.put("debian/dists/unstable/main/source/Sources.xz", forged)
    path = archive.server.root / "debian/dists/unstable/InRelease"
    added = f"SHA256:\n {sha256(forged)} {len(forged)} main/source/Sources.xz\n".encode()
    path.write_bytes(added + path.read_bytes() + added)
    text = refusal(archive)
    assert f"{archive.root}/dists/unstable/main/source/Sources.xz is not the file the verified " in text
    assert f"it has sha256 {sha256(forged)} ({len(forged)} bytes), not " in text


def test_a_dsc_unlike_the_signed_sources_is_refused(archive: FakeArchive) -> None:
    upload = Upload("python3.13", "3.13.16", ORIG)
    archive.publish("unstable", [upload])
    evil = fake_tarball("3.13.16", declared="3.13.16") + b"\0"
    path = archive.server.root / f"debian/{upload.directory}/{upload.dsc_name}"
    path.write_text(path.read_text().replace(sha256(ORIG), sha256(evil)))
    text = refusal(archive)
    assert text.startswith(f"{archive.root}/{upload.directory}/{upload.dsc_name} is not the file the verified Sources")
    assert f"has sha256 {sha256(path.read_bytes())}" in text


def test_a_signed_index_of_another_suite_is_refused(archive: FakeArchive) -> None:
    archive.publish("oldstable", [Upload("python3.13", "3.13.16", ORIG)], codename="bookworm\x1b[2J")
    (archive.server.root / "debian/dists/oldstable").rename(archive.server.root / "debian/dists/unstable")
    text = refusal(archive)
    assert "is signed, but for suite bookworm?[2J / oldstable, not unstable" in text and "\x1b" not in text


def test_missing_keyring_names_the_package_to_install(archive: FakeArchive, tmp_path: Path) -> None:
    archive.publish("unstable", [Upload("python3.13", "3.13.16", ORIG)])
    text = refusal(archive, keyring=tmp_path / "none.gpg")
    assert f"The keyring {tmp_path / 'none.gpg'} does not exist" in text
    assert "apt-get install debian-archive-keyring" in text and f"${KEYRING_ENV}" in text


def test_judge_wants_a_good_strong_signature_and_no_bad_one() -> None:
    fingerprint = "95F7F69FD3D07B0BF85C3F1E5DE155D3122C0623"
    valid = f"[GNUPG:] VALIDSIG {fingerprint} 2026-12-03 1 0 4 0 22 8 01 {fingerprint}\n"
    good = "[GNUPG:] GOODSIG 5DE155D3122C0623 A\n" + valid
    assert _judge(good) == ((fingerprint,), None)
    missing = "[GNUPG:] ERRSIG 1111111111111111 1 8 01 1 9 F\n[GNUPG:] NO_PUBKEY 1111111111111111\n"
    assert _judge(missing + good) == ((fingerprint,), None)  # Debian signs with several keys; one may be unknown
    bad = "[GNUPG:] BADSIG 2222222222222222 B\n"
    assert _judge(good + bad) == ((), "a bad signature by key 2222222222222222: the signed text was altered")
    assert _judge(good.replace(" 22 8 01", " 22 2 01")) == ((), "signed only with a weak digest (SHA-1 or older)")
    assert _judge("[GNUPG:] EXPKEYSIG 5DE155D3122C0623 A\n" + valid) == ((), None)  # not a good signature


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEYRING_ENV, raising=False)
    monkeypatch.delenv(SUITES_ENV, raising=False)
    assert debian_keyring() == Path("/usr/share/keyrings/debian-archive-keyring.gpg")
    assert debian_suites() == ("unstable", "stable", "oldstable")
    monkeypatch.setenv(KEYRING_ENV, "/k/ring.gpg")
    monkeypatch.setenv(SUITES_ENV, " sid  trixie sid ")
    assert debian_keyring() == Path("/k/ring.gpg") and debian_keyring("/given.gpg") == Path("/given.gpg")
    assert debian_suites() == ("sid", "trixie")
