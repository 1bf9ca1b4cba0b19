"""The registry client against broken or hostile servers on 127.0.0.1 (`Scripted`, from tests/integration/servers.py):
answers a real registry would not give. Every failure is one UserError that names the registry, in one line
without a control character, whatever the server wrote."""

from __future__ import annotations

import email.utils
import json
import re
import time
from pathlib import Path

import pytest

from pyfamily.errors import UserError
from pyfamily.oci import index as oci
from pyfamily.oci.layout import Blob
from pyfamily.publish import transport
from pyfamily.publish.registry import RegistryClient

from ..integration.servers import Answer, Request, Scripted

# What a hostile registry writes to take over a terminal or a CI log: a screen clear, colours, a carriage return,
# a line that GitHub Actions would run as a workflow command, C1 controls (0x9b is CSI) and a bidi override.
HOSTILE = "\x1b[2J\x1b[31mall good\r\n::error::spoofed\x9b0m\u202eevil"
HEADER = "\x1b[2J\x1b[31m::error::spoofed\x9b0m"  # what a header can carry (latin-1, no line break)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f]")
NOT_FOUND = (404, {}, b"")


def client(address: str, tmp_path: Path, *, insecure: bool = True, attempts: int = 2) -> RegistryClient:
    return RegistryClient(
        address, insecure=insecure, docker_config=tmp_path, attempts=attempts, backoff=0.01, timeout=5
    )


def registry(routes: dict[tuple[str, str], Answer], reason: str = "") -> Scripted:
    """A registry that answers (method, path without query) from `routes`, 404 for anything else."""
    return Scripted(lambda r: routes.get((r.method, r.path.split("?")[0]), NOT_FOUND), reason=reason)


def assert_clean(message: str, address: str) -> None:
    assert address in message
    assert CONTROL.search(message) is None, repr(message)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(transport.time, "sleep", slept.append)
    return slept


def test_tls_to_a_plain_http_server_is_a_message_naming_the_fix(tmp_path):
    """`invoke pull --from HOST:PORT` of a plain-HTTP registry: the TLS handshake fails; the message says to give
    http://HOST:PORT (the error under requests' has a str `reason`, which once ended in an AttributeError)."""
    with registry({("GET", "/v2/"): (200, {}, b"{}")}) as server, pytest.raises(UserError) as caught:
        client(server.address, tmp_path, insecure=False).check_access("test/tls")
    message = str(caught.value)
    assert_clean(message, server.address)
    assert "http://HOST[:PORT]" in message and "REQUESTS_CA_BUNDLE" in message
    assert server.seen == []  # no request was understood: the handshake was all it got


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("²", None),  # str.isdigit() takes it, float() does not
        ("¹", None),
        ("7.5", None),  # delay-seconds is 1*DIGIT
        ("1e3", None),
        ("-5", None),
        ("7", 7.0),
        ("http-date", 30.0),
    ],
)
def test_retry_after_is_ascii_digits_or_an_http_date_and_nothing_else(tmp_path, sleeps, value, expected):
    if value == "http-date":
        value = email.utils.formatdate(time.time() + 30, usegmt=True)
    body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "slow"}]}).encode()
    with registry({("GET", "/v2/"): (429, {"Retry-After": value}, body)}) as server, pytest.raises(UserError) as e:
        client(server.address, tmp_path, attempts=2).check_access("test/busy")
    assert f"The registry {server.address} failed while reaching its API root /v2/, 2 attempts" in str(e.value)
    assert "HTTP 429 TOOMANYREQUESTS: slow" in str(e.value)
    assert len(server.seen) == 2 and len(sleeps) == 1
    if expected is None:
        assert sleeps == [0.01]  # the client's own backoff
    else:
        assert expected - 5 < sleeps[0] <= expected


def _error_json(status: int) -> Answer:
    errors = {"errors": [{"code": HEADER, "message": HOSTILE}]}
    return status, {"Content-Type": "application/json"}, json.dumps(errors, ensure_ascii=False).encode()


INDEX = json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": []}).encode()
ROOT = {("GET", "/v2/"): (200, {}, b"{}")}
UPLOADS, BLOB = ("POST", "/v2/test/x/blobs/uploads/"), ("HEAD", f"/v2/test/x/blobs/sha256:{'0' * 64}")
CASES: dict[str, dict[tuple[str, str], Answer]] = {
    "error-json": {**ROOT, UPLOADS: _error_json(400)},
    "error-json-of-a-5xx": {**ROOT, UPLOADS: _error_json(503)},
    "reason-phrase": {**ROOT, UPLOADS: (400, {}, b"<html>")},
    "upload-location": {**ROOT, UPLOADS: (202, {"Location": f"file:///etc/{HEADER}"}, b"")},
    "token-realm": {BLOB: (401, {"WWW-Authenticate": f'Bearer realm="file:///etc/{HEADER}"'}, b"")},
    "stored-digest": {
        ("PUT", f"/v2/test/x/manifests/{oci.sha256(INDEX)}"): (201, {"Docker-Content-Digest": HEADER}, b"")
    },
}


def _act(registry_client: RegistryClient, case: str, tmp_path: Path) -> None:
    if case == "upload-location":
        (tmp_path / "blob").write_bytes(b"x")
        registry_client.upload_blob("test/x", Blob(oci.sha256(b"x"), 1, tmp_path / "blob", "application/octet-stream"))
    elif case == "token-realm":
        registry_client.has_blob("test/x", f"sha256:{'0' * 64}")
    elif case == "stored-digest":
        registry_client.put_index("test/x", INDEX, oci.OCI_INDEX)
    else:
        registry_client.check_access("test/x")


@pytest.mark.parametrize("case", list(CASES))
def test_what_a_registry_wrote_reaches_messages_as_one_clean_line(tmp_path, sleeps, case):
    """Error JSON, a reason phrase, a Location, a realm, a digest header: terminal escapes, line breaks (a
    `::error::` workflow command on a line of its own) and bidi overrides never reach the message. A URL that is
    not http(s) (a `file:` Location or realm) is refused before anything is asked (it once escaped as requests'
    InvalidSchema)."""
    with (
        registry(CASES[case], reason=HEADER) as server,
        client(server.address, tmp_path) as registry_client,
        pytest.raises(UserError) as caught,
    ):
        _act(registry_client, case, tmp_path)
    assert_clean(str(caught.value), server.address)
    assert "::error::spoofed" in str(caught.value)  # shown, as inert text inside the one line


def test_a_token_service_redirecting_in_circles_is_asked_a_bounded_number_of_times(tmp_path):
    def answer(request: Request) -> Answer:
        if request.path.startswith("/token"):
            return 307, {"Location": "/token?again=1"}, b""
        return 401, {"WWW-Authenticate": f'Bearer realm="{server.url}/token",service="test"'}, b""

    with Scripted(answer) as server, pytest.raises(UserError) as caught:
        client(server.address, tmp_path).has_blob("test/x", f"sha256:{'0' * 64}")
    assert f"The token service of {server.address} ({server.url}/token) gave no token (HTTP 307" in str(caught.value)
    assert len([r for r in server.seen if r.path.startswith("/token")]) == transport.MAX_REDIRECTS
