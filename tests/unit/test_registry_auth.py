"""pyfamily.publish.auth: WWW-Authenticate parsing, docker config credential lookup, where credentials may go
(no network)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from pyfamily.errors import UserError
from pyfamily.publish.auth import (
    Challenge,
    Credentials,
    api_host,
    config_path,
    credentials_for,
    hop,
    parse_challenges,
    same_origin,
)

SECRET = "s3cr3t-do-not-show"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_config(folder: Path, config: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder / "config.json"


# --- parse_challenges ----------------------------------------------------------------------------------------


def test_bearer_challenge_of_docker_hub() -> None:
    header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"'
    assert parse_challenges(header) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:a/b:pull,push",
            },
        )
    ]


def test_basic_challenge_and_case() -> None:
    assert parse_challenges('BASIC Realm="Registry Realm"') == [Challenge("basic", {"realm": "Registry Realm"})]


def test_several_challenges_escapes_and_unquoted_values() -> None:
    header = (
        r'Basic realm="a \"quoted\" realm", Bearer realm="https://t.example/token", service=reg,error=invalid_token'
    )
    assert parse_challenges(header) == [
        Challenge("basic", {"realm": 'a "quoted" realm'}),
        Challenge("bearer", {"realm": "https://t.example/token", "service": "reg", "error": "invalid_token"}),
    ]


@pytest.mark.parametrize("header", ["", "   ", ",", '="x"'])
def test_empty_or_garbage_gives_no_challenge(header: str) -> None:
    assert parse_challenges(header) == []


# --- config_path and api_host -----------------------------------------------------------------------------------


def test_config_path_explicit_env_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_path(tmp_path) == tmp_path / "config.json"
    assert config_path(tmp_path / "other.json") == tmp_path / "other.json"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "env"))
    assert config_path() == tmp_path / "env" / "config.json"
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_path() == tmp_path / "home" / ".docker" / "config.json"


def test_docker_hub_api_host() -> None:
    assert api_host("docker.io") == "registry-1.docker.io"
    assert api_host("ghcr.io") == "ghcr.io"


# --- credentials_for ---------------------------------------------------------------------------------------------


def test_auths_entry_by_host_and_by_url_key(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "auths": {
                "reg.example:5000": {"auth": b64(f"alice:{SECRET}")},
                "https://other.example/v1/": {"auth": b64("bob:pw:x")},
            }
        },
    )
    found = credentials_for("reg.example:5000", path)
    assert found is not None and (found.username, found.secret, found.identity_token) == ("alice", SECRET, False)
    assert credentials_for("OTHER.example", path) == Credentials("bob", "pw:x", source=f"auths in {path}")
    assert credentials_for("third.example", path) is None


def test_docker_hub_names_share_one_entry(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"auths": {"https://index.docker.io/v1/": {"auth": b64("hub:pw")}}})
    for name in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        assert credentials_for(name, path) == Credentials("hub", "pw", source=f"auths in {path}")


def test_username_password_and_identity_token_entries(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, {"auths": {"a.example": {"username": "u", "password": "p"}, "b.example": {"identitytoken": "tok"}}}
    )
    assert credentials_for("a.example", path) == Credentials("u", "p", source=f"auths in {path}")
    token = credentials_for("b.example", path)
    assert token is not None and token.identity_token and token.secret == "tok"


def test_no_file_means_no_credentials(tmp_path: Path) -> None:
    assert credentials_for("reg.example", tmp_path / "missing.json") is None


def test_broken_config_and_entries_fail_without_showing_secrets(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json " + SECRET)
    with pytest.raises(UserError, match="not valid JSON") as caught:
        credentials_for("reg.example", tmp_path / "bad.json")
    assert SECRET not in str(caught.value)
    path = write_config(tmp_path / "b", {"auths": {"reg.example": {"auth": "!!" + SECRET}}})
    with pytest.raises(UserError, match="not base64") as caught:
        credentials_for("reg.example", path)
    assert SECRET not in str(caught.value)
    path = write_config(tmp_path / "c", {"auths": {"reg.example": {"auth": b64(SECRET)}}})
    with pytest.raises(UserError, match="holds no ':'") as caught:
        credentials_for("reg.example", path)
    assert SECRET not in str(caught.value)


def test_repr_hides_the_secret() -> None:
    assert SECRET not in repr(Credentials("alice", SECRET))


@pytest.fixture
def helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """docker-credential-fake on PATH: knows reg.example (and logs what it was asked to tmp/asked)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "docker-credential-fake"
    script.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 3\nread -r server\necho "$server" >> {tmp_path}/asked\n'
        'case "$server" in\n'
        f'  reg.example) echo \'{{"ServerURL":"reg.example","Username":"helped","Secret":"{SECRET}"}}\' ;;\n'
        '  https://index.docker.io/v1/) echo \'{"ServerURL":"x","Username":"<token>","Secret":"refresh"}\' ;;\n'
        "  broken.example) echo 'boom' >&2; exit 4 ;;\n"
        "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "asked"


def test_cred_helpers_and_creds_store(tmp_path: Path, helper: Path) -> None:
    path = write_config(tmp_path / "h", {"credHelpers": {"reg.example": "fake"}})
    found = credentials_for("reg.example", path)
    assert found is not None and (found.username, found.secret) == ("helped", SECRET)
    assert "docker-credential-fake" in found.source
    store = write_config(tmp_path / "s", {"credsStore": "fake", "auths": {"other.example": {"auth": b64("file:pw")}}})
    hub = credentials_for("docker.io", store)
    assert hub is not None and hub.identity_token and hub.secret == "refresh"
    assert credentials_for("other.example", store) == Credentials("file", "pw", source=f"auths in {store}")  # fallback
    assert credentials_for("nobody.example", store) is None
    assert helper.read_text().split() == [
        "reg.example",
        "https://index.docker.io/v1/",
        "other.example",
        "nobody.example",
    ]


def test_helper_failures_are_user_errors(tmp_path: Path, helper: Path) -> None:
    path = write_config(tmp_path / "h", {"credsStore": "fake"})
    with pytest.raises(UserError, match=r"docker-credential-fake failed for broken.example \(exit 4: boom\)"):
        credentials_for("broken.example", path)
    missing = write_config(tmp_path / "m", {"credHelpers": {"reg.example": "absent"}})
    with pytest.raises(UserError, match="docker-credential-absent is not on PATH"):
        credentials_for("reg.example", missing)


# --- where credentials may go ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "owner", "same"),
    [
        ("https://reg.example/v2/x?_state=1", "https://reg.example", True),
        ("https://REG.example:443/v2/", "https://reg.example", True),  # the default port, a host's case
        ("http://reg.example/v2/", "https://reg.example", False),  # the scheme
        ("https://reg.example:5000/v2/", "https://reg.example", False),  # another port may be another service
        ("https://reg.example.evil.example/v2/", "https://reg.example", False),
        ("https://reg.example@evil.example/v2/", "https://reg.example", False),  # user info is not the host
        ("file:///etc/passwd", "https://reg.example", False),
        ("https://[::1/v2/", "https://reg.example", False),  # not a URL at all
    ],
)
def test_credentials_belong_to_one_scheme_host_and_port(url: str, owner: str, same: bool) -> None:
    assert same_origin(url, owner) is same


@pytest.mark.parametrize(
    ("url", "previous", "problem"),
    [
        ("http://reg.example/v2/x", "https://reg.example/v2/", "step down from https to plain http"),
        ("http://storage.example/x", "https://reg.example/v2/", "step down from https to plain http"),
        ("file:///etc/passwd", "https://reg.example/v2/", "not an http"),
        ("ftp://reg.example/x", "http://reg.example/v2/", "not an http"),
    ],
)
def test_a_hop_that_is_not_http_or_steps_down_to_http_is_refused(url: str, previous: str, problem: str) -> None:
    with pytest.raises(UserError, match=problem) as caught:
        hop("reg.example", url, previous)
    assert "The registry reg.example points the client at" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "previous"),
    [
        ("https://storage.example/u?sig=1", "https://reg.example/v2/"),  # another origin: asked, without credentials
        ("https://reg.example/v2/", "http://reg.example/v2/"),
        ("http://other.example/v2/", "http://reg.example/v2/"),  # a plain-HTTP registry's own choice
    ],
)
def test_other_hops_are_taken(url: str, previous: str) -> None:
    assert hop("reg.example", url, previous) == url
