"""Registry credentials as `docker login` stores them, and the challenges of a registry's 401 answers.

- `config_path(explicit)`: the docker config file: `explicit` (a file, or a folder holding config.json), else
  `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
- `credentials_for(host, path)`: what that file holds for `host`, looked up as the docker CLI does:
  `credHelpers[host]`, else `credsStore` (both run `docker-credential-<name> get`), then `auths[host]` (`auth`:
  base64 `user:password`, or `username`/`password`, or `identitytoken`). None when there is nothing.
- `parse_challenges(header)`: the challenges of a `WWW-Authenticate` header (`Basic realm=...`, `Bearer
  realm=...,service=...,scope=...`).
- `api_host(host)`: where the API of a registry name lives (Docker Hub's `docker.io` -> `registry-1.docker.io`).
- Where credentials may go: `same_origin(url, owner)` (credentials and tokens belong to one origin, the scheme,
  host and port of `owner`: the registry's base URL, or a token realm), `hop(host, url, previous)` (`url`, unless it
  may not be asked at all after `previous`: not http(s), or a step down from https to http), and `NoNetrc`
  (a requests auth that keeps ~/.netrc credentials out). `basic(credentials)` is a Basic Authorization value,
  `token_in(body)` the token of a token service's JSON answer.
- `refused(host, path, credentials, summary)`: the error saying how to log in, for no credentials or refused ones.

Secrets never reach a message: `Credentials` hides its secret from repr, and errors name only the file and
the helper, never what they hold.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from pyfamily.errors import UserError
from pyfamily.redaction import redact_text, remote_text

DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")
DOCKER_HUB_KEY = "https://index.docker.io/v1/"  # the key `docker login` uses for Docker Hub
IDENTITY_TOKEN_USER = "<token>"  # what credential helpers return as user name for an identity (refresh) token
HELPER_TIMEOUT = 30.0

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME = re.compile(rf"[\s,]*({_TOKEN})")
_PARAM = re.compile(rf"""[\s,]*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|{_TOKEN})""")
_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Credentials:
    """A user and password (or an identity token, then `identity_token` is True); repr never shows the secret."""

    username: str
    secret: str = field(repr=False)
    identity_token: bool = False
    source: str = ""  # where they came from, for messages: "auths in /root/.docker/config.json"


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "basic", "bearer"
    params: dict[str, str]  # lower-case names: realm, service, scope, error


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge of a WWW-Authenticate value; quoted values may hold commas and escaped quotes."""
    challenges: list[Challenge] = []
    position = 0
    while position < len(header):
        scheme = _SCHEME.match(header, position)
        if scheme is None:
            break
        position = scheme.end()
        params: dict[str, str] = {}
        while (param := _PARAM.match(header, position)) is not None:
            value = param.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[param.group(1).lower()] = value
            position = param.end()
        challenges.append(Challenge(scheme.group(1).lower(), params))
    return challenges


def api_host(host: str) -> str:
    return "registry-1.docker.io" if host.lower() in DOCKER_HUB else host


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, its default port filled in; None for any other URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname, port or _PORTS[scheme]


def same_origin(url: str, owner: str) -> bool:
    """True when `url` may receive what belongs to `owner`: the same scheme, host and port, nothing else being
    the same party (another port of one host may be another service; http is not https)."""
    where = origin(url)
    return where is not None and where == origin(owner)


def hop(host: str, url: str, previous: str) -> str:
    """`url`, when it may be asked at all after `previous`; else a UserError: it is not http(s), or it steps down
    from https to http, where everything sent would travel unencrypted."""
    where = origin(url)
    if where is None:
        problem = "which is not an http(s) URL"
    elif where[0] == "http" and urlsplit(previous).scheme.lower() == "https":
        problem = "a step down from https to plain http, where everything sent would travel unencrypted"
    else:
        return url
    raise UserError(
        f"The registry {host} points the client at {remote_text(url, 200)}, {problem}; refused: the registry (or a "
        "proxy in front of it) is misconfigured; tell its operators."
    )


class NoNetrc(requests.auth.AuthBase):
    """A session-wide auth that adds nothing, so requests never takes ~/.netrc credentials (which would replace
    our Authorization header, tokens included) while proxies from the environment still apply."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def basic(credentials: Credentials) -> str:
    return "Basic " + base64.b64encode(f"{credentials.username}:{credentials.secret}".encode()).decode("ascii")


def token_in(body: bytes) -> str | None:
    """The token of a token service's JSON answer (`token`, or OAuth2's `access_token`), or None."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return None
    token = (answer.get("token") or answer.get("access_token")) if isinstance(answer, dict) else None
    return token if isinstance(token, str) and token else None


def config_path(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit / "config.json" if explicit.is_dir() else explicit
    folder = os.environ.get("DOCKER_CONFIG")
    return Path(folder) / "config.json" if folder else Path.home() / ".docker" / "config.json"


def _normalized(key: str) -> str:
    """`https://Host:5000/v1/` -> `host:5000`: how docker config keys are compared with a registry name."""
    key = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", key.strip())
    key = key.split("/", 1)[0].lower()
    return "index.docker.io" if key in DOCKER_HUB else key


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UserError(f"Cannot read the docker config {path}: {exc.strerror}.") from None
    try:
        loaded = json.loads(text)
    except ValueError:
        raise UserError(
            f"The docker config {path} is not valid JSON; fix it or log in again with `docker login`."
        ) from None
    if not isinstance(loaded, dict):
        raise UserError(f"The docker config {path} is not a JSON object.")
    return loaded


def _entry(table: object, host: str) -> Any:
    """The value of `table` (a dict from the config) whose key names `host`, or None."""
    if not isinstance(table, dict):
        return None
    wanted = _normalized(host)
    return next((value for key, value in table.items() if _normalized(str(key)) == wanted), None)


def _from_helper(helper: str, host: str, path: Path) -> Credentials | None:
    program = f"docker-credential-{helper}"
    server = DOCKER_HUB_KEY if _normalized(host) == "index.docker.io" else host
    try:
        done = subprocess.run(
            [program, "get"], input=server, capture_output=True, text=True, timeout=HELPER_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise UserError(
            f"The docker config {path} names the credential helper {helper!r}, but {program} is not "
            "on PATH; install it, or remove it from the config and use `docker login`."
        ) from None
    except subprocess.TimeoutExpired:
        raise UserError(f"The credential helper {program} did not answer within {HELPER_TIMEOUT:g} s.") from None
    if done.returncode != 0:
        if "not found" in (done.stdout + done.stderr).lower():
            return None
        # The helper's own words may quote what it was given; show only its exit code and a redacted first line.
        said = done.stderr.strip() or done.stdout.strip()
        first = redact_text(said.splitlines()[0][:200]) if said else "no message"
        raise UserError(f"The credential helper {program} failed for {host} (exit {done.returncode}: {first}).")
    try:
        answer = json.loads(done.stdout)
        username, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError):
        raise UserError(f"The credential helper {program} gave an answer that is not its JSON for {host}.") from None
    if not secret:
        return None
    return Credentials(
        username, secret, identity_token=username == IDENTITY_TOKEN_USER, source=f"{program} (named in {path})"
    )


def _from_auths(entry: object, path: Path) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    source = f"auths in {path}"
    if entry.get("identitytoken"):
        return Credentials(
            str(entry.get("username") or IDENTITY_TOKEN_USER),
            str(entry["identitytoken"]),
            identity_token=True,
            source=source,
        )
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(str(entry["auth"]), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise UserError(
                f"The `auth` entry for a registry in {path} is not base64 of user:password; "
                "log in again with `docker login`."
            ) from None
        username, colon, secret = decoded.partition(":")
        if not colon:
            raise UserError(
                f"The `auth` entry for a registry in {path} holds no ':'; log in again with `docker login`."
            )
        return Credentials(username, secret, source=source)
    if entry.get("username") and entry.get("password"):
        return Credentials(str(entry["username"]), str(entry["password"]), source=source)
    return None


def credentials_for(host: str, path: Path) -> Credentials | None:
    """The credentials the docker config at `path` holds for the registry `host`, or None."""
    config = _load(path)
    helper = _entry(config.get("credHelpers"), host) or config.get("credsStore")
    if isinstance(helper, str) and helper:
        found = _from_helper(helper, host, path)
        if found is not None:
            return found
    return _from_auths(_entry(config.get("auths"), host), path)


def refused(host: str, path: Path, credentials: Credentials | None, summary: str) -> UserError:
    """The error for a registry that wants credentials: there are none, or it refused them (its answer was
    `summary`, already cleaned of control characters)."""
    hint = login_hint(host, path)
    if credentials is None:
        return UserError(f"The registry {host} asks for credentials and the docker config has none for it: {hint}.")
    return UserError(
        f"The registry {host} refused the credentials from {credentials.source} ({summary}): they are wrong, "
        f"expired, or may not push here; {hint}."
    )


def login_hint(host: str, path: Path) -> str:
    name = "docker.io" if _normalized(host) == "index.docker.io" else host
    return f"run `docker login {name}` (credentials are read from {path}; set DOCKER_CONFIG to use another folder)"
