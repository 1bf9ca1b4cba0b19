"""Signatures on published images, made and checked with Debian's `cosign` (the tool users verify with too).

`invoke publish --sign KEY` signs every index digest it pushes, recursively (each platform manifest and its
attestation manifests too), the signature stored in the registry beside the image under cosign's tag scheme
(`sha256-<digest>.sig`). KEY is a cosign key file (its password in `$COSIGN_PASSWORD`, empty for none) or `keyless`
(the CI job's OIDC identity, through Sigstore's Fulcio and Rekor). With a key nothing leaves for Sigstore: no
transparency-log upload, so a verifier says `--insecure-ignore-tlog=true`. `invoke verify --signed-by PUBKEY`
(or `--certificate-identity`/`--certificate-oidc-issuer` for keyless) checks every published tag, pulling nothing.

Why cosign and not code of our own: the signature format, its storage and the keyless flow are cosign's; a
downstream user checks with `cosign verify` before `FROM`, so the family signs with the same tool. Credentials:
cosign reads the same docker config as the publisher and, like it, sends each registry only its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyfamily.config import RegistrySpec
from pyfamily.errors import UserError
from pyfamily.redaction import remote_text

KEYLESS = "keyless"
TIMEOUT_SECONDS = 300  # one cosign call: a few registry round trips


def _cosign() -> str:
    found = shutil.which("cosign")
    if not found:
        raise UserError("cosign is not installed; install Debian's (`apt-get install cosign`, in trixie) and retry.")
    return found


def _registry_flags(registry: RegistrySpec) -> list[str]:
    """A plain-HTTP registry (`insecure: true`, or --registry http://...) is allowed explicitly, never by default."""
    return ["--allow-insecure-registry", "--allow-http-registry"] if registry.insecure else []


def _run(args: Sequence[str], what: str) -> subprocess.CompletedProcess[str]:
    """cosign with no terminal to prompt on (a missing password fails instead of waiting), bounded in time."""
    try:
        return subprocess.run(
            [_cosign(), *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        raise UserError(f"{what}: cosign gave no answer within {TIMEOUT_SECONDS} s.") from None


def _why(done: subprocess.CompletedProcess[str]) -> str:
    """cosign's own error line (what a registry said may be in it: cleaned), without its tlog warnings."""
    lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("WARNING")]
    return remote_text(" ".join(lines[-2:]) or f"exit {done.returncode}")


@dataclass(frozen=True)
class Signer:
    """How `invoke publish --sign` signs: a cosign key file, or `keyless`."""

    key: str

    @property
    def keyless(self) -> bool:
        return self.key == KEYLESS

    def check(self) -> bytes | None:
        """Before anything is pushed: cosign is there and the key opens with $COSIGN_PASSWORD. Returns its public
        key (PEM; None for keyless), which tells an index already signed by it from one to sign."""
        _cosign()
        if self.keyless:
            return None
        if not Path(self.key).is_file():
            raise UserError(f"--sign {self.key!r}: no such key file; give a cosign private key file or `keyless`.")
        if "COSIGN_PASSWORD" not in os.environ:
            raise UserError(
                f"--sign {self.key}: COSIGN_PASSWORD is not set; set it to the key's password (empty for a key "
                "without one) so cosign does not stop to ask."
            )
        done = _run(["public-key", "--key", self.key], f"--sign {self.key}")
        if done.returncode != 0:
            raise UserError(f"--sign {self.key}: cosign cannot open the key ({_why(done)}); check COSIGN_PASSWORD.")
        return done.stdout.encode()

    def sign(self, registry: RegistrySpec, repository: str, digest: str, public_key: bytes | None) -> bool:
        """Sign `digest` in `registry` (recursively); False when this key had signed it already (no new signature:
        cosign would add one more each time)."""
        reference = f"{registry.host}/{repository}@{digest}"
        if public_key is not None and Trust(key_pem=public_key).check(registry, reference) is None:
            return False
        offline = [] if self.keyless else ["--key", self.key, "--tlog-upload=false"]
        done = _run(["sign", "--yes", "--recursive", *offline, *_registry_flags(registry), reference], reference)
        if done.returncode != 0:
            raise UserError(f"signing {reference} failed: {_why(done)}")
        return True


@dataclass(frozen=True)
class Trust:
    """What `invoke verify --signed-by` accepts: a public key (file or PEM bytes), or a keyless identity."""

    key: str | None = None
    key_pem: bytes | None = None
    identity: str | None = None
    issuer: str | None = None

    def _flags(self, folder: Path) -> list[str]:
        if self.key_pem is not None:
            (folder / "key.pub").write_bytes(self.key_pem)
            return ["--key", str(folder / "key.pub"), "--insecure-ignore-tlog=true"]
        if self.key is not None:
            if not Path(self.key).is_file():
                raise UserError(f"--signed-by {self.key!r}: no such public key file; give a cosign public key file.")
            return ["--key", self.key, "--insecure-ignore-tlog=true"]
        if not (self.identity and self.issuer):
            raise UserError(
                "verify --signed-by: give a cosign public key file, or `keyless` with --certificate-identity and "
                "--certificate-oidc-issuer (the signing workflow's identity and its OIDC issuer)."
            )
        return ["--certificate-identity", self.identity, "--certificate-oidc-issuer", self.issuer]

    def check(self, registry: RegistrySpec, reference: str) -> str | None:
        """None when `reference` (registry/repository:tag or @digest) carries a valid signature, else why not."""
        with tempfile.TemporaryDirectory(prefix="pyfamily-trust-") as folder:
            flags = self._flags(Path(folder))
            done = _run(["verify", *flags, *_registry_flags(registry), reference], reference)
        return None if done.returncode == 0 else _why(done)
