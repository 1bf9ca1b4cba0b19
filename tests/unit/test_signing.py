"""The signing plumbing with the real cosign, no registry: what `publish --sign` checks before anything is pushed,
and what `verify --signed-by` asks for. (Against a registry: tests/integration/test_signing.py.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pyfamily import signing
from pyfamily.config import RegistrySpec
from pyfamily.errors import UserError

PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    env = {"COSIGN_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"}
    subprocess.run(["cosign", "generate-key-pair"], cwd=folder, env=env, check=True, capture_output=True, timeout=60)
    return folder / "cosign.key", folder / "cosign.pub"


def test_a_key_that_opens_gives_its_public_key(key_pair, monkeypatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    public = signing.Signer(str(key_pair[0])).check()
    assert public is not None and public.strip() == key_pair[1].read_bytes().strip()


@pytest.mark.parametrize(
    ("password", "key", "needle"),
    [
        (None, "cosign.key", r"COSIGN_PASSWORD is not set"),  # cosign would wait at a prompt
        ("wrong", "cosign.key", r"cosign cannot open the key .*check COSIGN_PASSWORD"),
        (PASSWORD, "missing.key", r"--sign '.*missing\.key': no such key file"),
    ],
)
def test_a_key_that_cannot_sign_is_refused_before_anything_is_pushed(key_pair, monkeypatch, password, key, needle):
    if password is None:
        monkeypatch.delenv("COSIGN_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("COSIGN_PASSWORD", password)
    with pytest.raises(UserError, match=needle):
        signing.Signer(str(key_pair[0].parent / key)).check()


def test_keyless_needs_no_key_and_verify_needs_its_identity(tmp_path) -> None:
    assert signing.Signer(signing.KEYLESS).check() is None
    registry = RegistrySpec(host="127.0.0.1:1", insecure=True)
    with pytest.raises(UserError, match=r"--certificate-identity and --certificate-oidc-issuer"):
        signing.Trust(identity="https://github.com/o/r/.github/workflows/images.yml@refs/heads/main").check(
            registry, "127.0.0.1:1/o/python:3.13"
        )
    with pytest.raises(UserError, match=r"--signed-by '.*nope\.pub': no such public key file"):
        signing.Trust(key=str(tmp_path / "nope.pub")).check(registry, "127.0.0.1:1/o/python:3.13")


def test_plain_http_is_allowed_only_for_a_registry_marked_insecure() -> None:
    assert signing._registry_flags(RegistrySpec(host="ghcr.io")) == []
    assert "--allow-http-registry" in signing._registry_flags(RegistrySpec(host="127.0.0.1:5000", insecure=True))


def test_what_cosign_says_is_cleaned_and_its_tlog_warning_left_out() -> None:
    done = subprocess.CompletedProcess(
        [], 1, "", "WARNING: Skipping tlog verification\nError: no signatures found\x1b[31m\n::error::x\n"
    )
    why = signing._why(done)
    assert "WARNING" not in why and "\x1b" not in why and "no signatures found" in why


def test_signed_by_a_key_file_or_keyless_with_its_identity() -> None:
    from pyfamily import cli

    assert cli.trust("family.pub", "ignored", "ignored") == signing.Trust(key="family.pub")
    keyless = cli.trust(signing.KEYLESS, "https://github.com/o/r/.github/workflows/images.yml@refs/heads/main", "iss")
    assert keyless.key is None and keyless.identity and keyless.issuer == "iss"
