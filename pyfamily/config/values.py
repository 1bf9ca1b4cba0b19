"""The constrained values of the family schema: each rule about one value stated once, with the words a maintainer sees.

Every string of the model is `Text` (one line: no line break, NUL or other control character) or a type built on it.
A refused value raises `refusal(...)`, a pydantic error whose message says what is wrong and what would be valid.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from typing import Annotated
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import AfterValidator, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from pyfamily.config.paths import KeyPath, clip, show

PLAIN = "plain"  # the variant of images without one; reserved as a variant name
MAX_TEXT = 4096  # characters in any one value
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


def refusal(message: str, kind: str = "family") -> PydanticCustomError:
    """A validation error whose message is `message`, verbatim (braces included)."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def refuse_all(title: str, faults: Sequence[tuple[KeyPath, str, object]]) -> None:
    """Raise every (key path relative to the model, message, value) fault of a cross-key check at once."""
    if faults:
        details = [InitErrorDetails(type=refusal(message), loc=loc, input=value) for loc, message, value in faults]
        raise ValidationError.from_exception_data(title, details)


def _one_line(value: str) -> str:
    found = _CONTROL.search(value)
    if found:
        raise refusal(
            f"{show(value)} contains the control character {found.group()!r} (a line break, NUL or similar) at "
            f"position {found.start()}; a value here is one line of printable text",
            "control_character",
        )
    if len(value) > MAX_TEXT:
        raise refusal(f"{show(value)} is {len(value)} characters long; a value here has at most {MAX_TEXT}", "too_long")
    return value


def _not_empty(value: str) -> str:
    if not value:
        raise refusal("the value is empty; give some text", "empty")
    return value


def matching(pattern: str, what: str, max_length: int = MAX_TEXT) -> AfterValidator:
    """A rule: the whole value matches `pattern` (and is at most `max_length` long); else '<value> is not <what>'."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if len(value) > max_length or not compiled.fullmatch(value):
            too_long = f" (at most {max_length} characters)" if len(value) > max_length else ""
            raise refusal(f"{show(value)} is not {what}{too_long}", "pattern")
        return value

    return AfterValidator(check)


def rule(check: Callable[[str], str | None], kind: str | None = None) -> AfterValidator:
    """A rule from a function that returns the complaint about a value (None: valid); `kind` names the error type."""
    error_type = kind or getattr(check, "__name__", "family").strip("_")

    def apply(value: str) -> str:
        complaint = check(value)
        if complaint is not None:
            raise refusal(complaint, error_type)
        return value

    return AfterValidator(apply)


# One line of text: what every string of the model is at least.
Text = Annotated[str, AfterValidator(_one_line)]
NonEmptyText = Annotated[Text, AfterValidator(_not_empty)]
Port = Annotated[int, Field(ge=1, le=65535)]

Minor = Annotated[Text, matching(r"\d{1,4}\.\d{1,4}", 'a minor version written like "3.13" (quoted)')]
# A Python of the family: a minor, or a minor with "t" for its free-threaded build (python.freethreaded).
PythonName = Annotated[
    Text, matching(r"\d{1,4}\.\d{1,4}t?", 'a Python written like "3.13" (quoted), or "3.14t" for a free-threaded one')
]
FullVersion = Annotated[
    Text, matching(r"\d{1,4}\.\d{1,4}\.\d{1,4}(?:(?:a|b|rc)\d{1,4})?", "a full version like 3.13.15")
]
Sha256 = Annotated[Text, matching(r"[0-9a-f]{64}", "a sha256: 64 lowercase hexadecimal digits")]
_NAME_WORDS = "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
AppName = Annotated[Text, matching(r"[a-z0-9][a-z0-9._-]*", f"an app name: {_NAME_WORDS}", 64)]
ProfileName = Annotated[Text, matching(r"[a-z0-9][a-z0-9._-]*", f"a profile name: {_NAME_WORDS}", 64)]
_VARIANT_WORDS = "a variant name: lowercase letters, digits and '-', starting with a letter or digit"
VariantRef = Annotated[Text, matching(r"[a-z0-9][a-z0-9-]*", _VARIANT_WORDS, 64)]


def _not_plain(value: str) -> str | None:
    return f"{value!r} is reserved for images without a variant; choose another name" if value == PLAIN else None


VariantName = Annotated[VariantRef, rule(_not_plain)]

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"  # a path component of an image name (Docker's grammar)
Repository = Annotated[
    Text,
    matching(
        rf"{_COMPONENT}(?:/{_COMPONENT})*",
        "a repository: lowercase path components like owner/python, without a registry host or tag",
        255,
    ),
]
_LABELS = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"  # host names, IPv4 addresses (unambiguous: no backtracking blow-up)
_HOST = rf"(?:{_LABELS}|\[[0-9A-Fa-f:.]+\])"
# Docker reads the first component as a registry only if it has a '.' or ':' or is localhost.
_DOMAIN = r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|localhost|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?|[A-Za-z0-9-]+:[0-9]{1,5}"
ImageRef = Annotated[
    Text,
    matching(
        rf"(?:(?:{_DOMAIN})/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(?:@sha256:[0-9a-f]{{64}})?",
        "an image reference: [registry[:port]/]lowercase/path[:tag][@sha256:<64 hex digits>], like debian:trixie-slim",
        512,
    ),
]
DebianSuite = Annotated[
    Text,
    matching(r"[a-z][a-z0-9-]*[a-z0-9]", "a Debian suite or codename like trixie, stable or bookworm-backports", 32),
]
DebianPackage = Annotated[
    Text,
    matching(
        r"[a-z0-9][a-z0-9+.-]+",
        "a Debian package name: lowercase letters, digits, '+', '-' and '.', at least two, starting with a letter or "
        "digit (like libssl-dev)",
        256,
    ),
]
Tarball = Annotated[
    Text,
    matching(
        r"[A-Za-z0-9_][A-Za-z0-9_.+-]*\.(?:tar\.xz|tgz|tar\.gz)",
        "a tarball file name ending in .tar.xz, .tgz or .tar.gz, without '/' and not starting with '.' or '-' "
        "(like Python-3.11.2.tgz)",
        255,
    ),
]
ModuleName = Annotated[
    Text,
    matching(
        r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*",
        "a dotted Python module name like ssl or dbm.gnu",
        255,
    ),
]
CommandName = Annotated[
    Text,
    matching(
        r"[A-Za-z0-9_][A-Za-z0-9_.+-]*",
        "a plain command name: letters, digits, '.', '_', '+' and '-', not starting with '.', '-' or '+'; no '/', "
        "spaces or shell characters (like certbot)",
        128,
    ),
]
ConfigureOption = Annotated[
    Text,
    matching(
        r"--[A-Za-z0-9][A-Za-z0-9_-]*(?:=.*)?",
        "one configure option: --option or --option=value, the option's name being letters, digits, '-' and '_' "
        "(like --with-lto or --with-openssl-rpath=auto); give each option as its own item",
    ),
]


def _pip_requirement(value: str) -> str | None:
    try:
        Requirement(value)
    except InvalidRequirement as exc:
        reason = clip(str(exc).splitlines()[0] if str(exc) else "not PEP 508")
        return (
            f"{show(value)} is not a pip requirement ({reason}); write a PEP 508 requirement like uv, "
            "setuptools>=70 or 'name @ https://host/name.whl'"
        )
    return None


def _normalised_requirement(value: str) -> str:
    return str(Requirement(value))


# Parsed the way pip parses it and stored normalised: `setuptools >= 70` becomes `setuptools>=70`.
PipRequirement = Annotated[Text, rule(_pip_requirement), AfterValidator(_normalised_requirement)]


def _absolute_path(value: str) -> str | None:
    normal = posixpath.normpath("/" + value.lstrip("/"))
    if not value.startswith("/"):
        return f"{show(value)} is not an absolute path; write it from the root, like {normal!r}"
    if value != normal:
        return (
            f"{show(value)} is not a normalised path (no '.', '..', '//' or trailing '/'); write {clip(repr(normal))}"
        )
    return None


AbsolutePath = Annotated[Text, rule(_absolute_path)]


def _project_path(value: str) -> str | None:
    parts = value.split("/")
    if "" in parts[1:]:
        return f"{show(value)} is not a normalised path (no '//' or trailing '/'); write it like ./app or /src/app"
    if ".git" in parts:
        return f"{show(value)} names a .git folder; give the project's own folder"
    return None


# A project folder: relative to the family file, or absolute; one line, no empty components.
ProjectPath = Annotated[NonEmptyText, rule(_project_path)]
PackageName = Annotated[
    Text,
    matching(
        r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?",
        "a package, extra or group name (PEP 508: letters, digits, '.', '_' and '-', starting and ending with a "
        "letter or digit; like pyyaml or dev)",
        128,
    ),
]
EnvName = Annotated[
    Text,
    matching(r"[A-Za-z_][A-Za-z0-9_]*", "an environment variable name: letters, digits and '_' (like APP_MODE)", 128),
]
UserName = Annotated[
    Text,
    matching(r"[a-z_][a-z0-9_-]{0,31}", "a user name: lowercase letters, digits, '_' and '-' (like app)", 32),
]


def _http_url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname or not port_ok:
        return f"{show(value)} is not an http(s) URL; write one like https://deb.debian.org/debian"
    if re.search(r"\s", value):
        return f"{show(value)} contains whitespace; write a URL without spaces (percent-encode them as %20)"
    return None


HttpUrl = Annotated[Text, rule(_http_url)]
# A registry is where the Registry API answers, host[:port] and nothing more: publish (its client, and
# --registry, which is read by this very rule) pushes to <host>/v2/<repository>/..., so a namespace belongs in
# `repository:`. tests/unit/test_config_rules.py checks the client takes whatever this rule takes.
_REGISTRY = re.compile(rf"{_HOST}(?::(?P<port>[0-9]{{1,5}}))?")


def registry_host_complaint(value: str) -> str | None:
    """Why `value` is not a registry host[:port] (None: it is one); the registry client asks this too."""
    if "://" in value:
        scheme, _, rest = value.partition("://")
        hint = ", with insecure: true for plain HTTP" if scheme == "http" else ""
        return f"{show(value)} has a scheme; give the host alone, like {clip(rest.rstrip('/'))!r}{hint}"
    host, slash, _ = value.partition("/")
    if slash and registry_host_complaint(host) is None:
        return (
            f"{show(value)} has a path after its host; a registry is host[:port] alone, like {clip(host)!r}, and "
            "publish pushes to <registry>/<repository>: write a namespace at the start of `repository:` instead "
            "(like team/python)"
        )
    found = _REGISTRY.fullmatch(value) if len(value) <= 255 else None
    if found is None or not 0 < int(found.group("port") or 443) <= 65535:
        return f"{show(value)} is not a registry: host[:port] (like ghcr.io or 127.0.0.1:5000)"
    return None


RegistryHost = Annotated[Text, rule(registry_host_complaint)]


def _known_platform(value: str) -> str | None:
    from pyfamily.platforms import PLATFORMS  # the one list of platforms; imported late: it imports errors only

    if value in PLATFORMS:
        return None
    return f"{value!r} is not a platform pyfamily can build; choose from {', '.join(PLATFORMS)}"


PlatformName = Annotated[Text, rule(_known_platform, "platform")]
