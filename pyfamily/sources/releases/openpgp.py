"""Check a clear-signed file (a Debian archive's InRelease) with gpgv against a keyring, and keep only what is signed.

gpgv is GnuPG's verify-only tool, the one apt itself runs: pyfamily does no OpenPGP of its own. The text returned is
what gpgv wrote out as signed, never the file as served, so lines a mirror adds around the signed block are dropped.
A signature counts when gpgv reports it good and valid (GOODSIG and VALIDSIG, as apt reads them) with a digest
stronger than SHA-1; one bad signature anywhere refuses the file, as apt does; a signature by a key missing from the
keyring is ignored beside a good one (Debian signs with the keys of several releases at once).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyfamily.errors import ReleaseError
from pyfamily.redaction import redact_url, remote_text

KEYRING_ENV = "PYFAMILY_DEBIAN_KEYRING"
DEFAULT_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
KEYRING_PACKAGE = "debian-archive-keyring"
GPGV_TIMEOUT = 60.0  # seconds; gpgv checks an InRelease in milliseconds
_WEAK_DIGESTS = frozenset({"1", "2", "3"})  # OpenPGP hash algorithm ids: MD5, SHA-1, RIPEMD-160


@dataclass(frozen=True)
class Signed:
    """What a keyring vouches for: the signed text, and the fingerprints of the keys whose signatures are good."""

    text: str
    fingerprints: tuple[str, ...]


def debian_keyring(given: str | Path | None = None) -> Path:
    """The keyring that Debian archives' InRelease files are checked with: given, else $PYFAMILY_DEBIAN_KEYRING,
    else Debian's own. Not checked here: a run that never asks a Debian archive does not need it."""
    chosen = str(given or "").strip() or os.environ.get(KEYRING_ENV, "").strip()
    return Path(chosen).expanduser() if chosen else DEFAULT_KEYRING


def check_keyring(keyring: Path, who: str) -> Path:
    """keyring as an absolute path (gpgv looks a bare name up in its home folder); a ReleaseError saying how to
    get it if it is not a readable file."""
    path = keyring.resolve()
    if path.is_file() and os.access(path, os.R_OK):
        return path
    state = "is not a readable file" if path.exists() else "does not exist"
    raise ReleaseError(
        f"The keyring {keyring} {state}, so the releases of {who} cannot be checked against Debian's signature and "
        f"nothing from there can be pinned. Install Debian's archive keyring (apt-get install {KEYRING_PACKAGE}), "
        f"or point ${KEYRING_ENV} at a binary OpenPGP keyring (gpg --export) holding the archive's signing keys. "
        "The family file was not changed."
    )


def verify_clearsigned(data: bytes, keyring: Path, url: str) -> Signed:
    """The signed part of data (a clear-signed file served at url) if a key of keyring signed it; else a
    ReleaseError naming the file, the keyring and what gpgv reported."""
    blocks = len(re.findall(rb"^-----BEGIN PGP SIGNED MESSAGE-----\r?$", data, re.MULTILINE))
    if blocks != 1:  # as apt: several signed blocks would let a mirror splice genuine texts of different days
        raise _refused(url, keyring, f"it holds {blocks} clear-signed blocks, where an InRelease holds exactly one")
    gpgv = shutil.which("gpgv")
    if gpgv is None:
        raise ReleaseError(
            f"gpgv is not installed, so {redact_url(url)} cannot be checked against {keyring} and nothing from there "
            "can be pinned. Install it (apt-get install gpgv) and run again. The family file was not changed."
        )
    with tempfile.TemporaryDirectory(prefix="pyfamily-gpgv-") as home:  # an empty home: no keyring but the one given
        signed, out = Path(home) / "signed.txt", Path(home) / "verified.txt"
        signed.write_bytes(data)
        command = [gpgv, "--homedir", home, "--keyring", str(keyring), "--status-fd", "1", "--output", str(out)]
        try:
            run = subprocess.run(
                [*command, str(signed)],
                capture_output=True,
                timeout=GPGV_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise _refused(url, keyring, f"gpgv gave no answer within {GPGV_TIMEOUT:g} s") from None
        status = run.stdout.decode("utf-8", errors="replace")
        good, problem = _judge(status)
        if problem or not good:
            raise _refused(url, keyring, problem or _why_not(status, run.stderr))
        return Signed(out.read_text(encoding="utf-8", errors="replace"), good)


def _judge(status: str) -> tuple[tuple[str, ...], str | None]:
    """(fingerprints of good, valid, strong signatures; why the file is refused although one may be good)."""
    good_keys: set[str] = set()
    valid: list[tuple[str, str]] = []  # (fingerprint, hash algorithm)
    for line in status.splitlines():
        words = line.split()
        if len(words) < 3 or words[0] != "[GNUPG:]":
            continue
        if words[1] == "BADSIG":
            return (), f"a bad signature by key {words[2]}: the signed text was altered"
        if words[1] == "GOODSIG":
            good_keys.add(words[2].upper())
        if words[1] == "VALIDSIG" and len(words) >= 10:
            valid.append((words[2].upper(), words[9]))
    good = [key for key, digest in valid if digest not in _WEAK_DIGESTS and any(key.endswith(k) for k in good_keys)]
    if not good and any(digest in _WEAK_DIGESTS for _, digest in valid):
        return (), "signed only with a weak digest (SHA-1 or older)"
    return tuple(dict.fromkeys(good)), None


def _why_not(status: str, stderr: bytes) -> str:
    codes = [words[1] for line in status.splitlines() if len(words := line.split()) >= 2 and words[0] == "[GNUPG:]"]
    if "NO_PUBKEY" in codes or "ERRSIG" in codes:
        return "it is signed only by keys that are not in the keyring"
    if "EXPKEYSIG" in codes or "REVKEYSIG" in codes:
        return "its signing key has expired or been revoked"
    if "NODATA" in codes or not codes:
        return "it carries no OpenPGP signature gpgv could read"
    last = stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:] or codes[-1:]
    return f"gpgv did not accept it ({remote_text(last[0], 160)})"


def _refused(url: str, keyring: Path, why: str) -> ReleaseError:
    return ReleaseError(
        f"{redact_url(url)} failed its signature check against {keyring}: {why}. Nothing it lists can be trusted, so "
        "nothing was pinned. Check that the Debian archive (sources.debian_archive, or the host's apt sources) is a "
        f"real Debian mirror reached without a proxy that rewrites files, and that the keyring is current (apt-get "
        f"install {KEYRING_PACKAGE}, or ${KEYRING_ENV}). The family file was not changed."
    )
