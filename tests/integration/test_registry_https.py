"""Where the registry client sends credentials, against real registries on 127.0.0.1 (Debian's docker-registry, one
of them on HTTPS with a test CA), fronts that misbehave (`Proxy`), a sink on another origin that must never see a
credential and token services (`Scripted`). No engine is needed: blobs are uploaded from files."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
import requests

from pyfamily.errors import UserError
from pyfamily.oci import index
from pyfamily.oci.layout import Blob
from pyfamily.publish.registry import RegistryClient

from .registries import PASSWORD, USER, Proxy, Registry, serve_registry, write_docker_config
from .servers import Request, Scripted, Tls, make_tls

pytestmark = pytest.mark.integration

BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
REPOSITORY = "test/hosts"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory, tls: Tls) -> Iterator[Registry]:
    with serve_registry(tmp_path_factory.mktemp("secure"), users={USER: PASSWORD}, tls=tls) as registry:
        yield registry


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch, tls: Tls) -> Tls:
    """The test CA trusted the way requests reads it from the environment."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))
    return tls


@pytest.fixture
def blob(tmp_path: Path) -> Blob:
    data = secrets.token_bytes(4096)
    (tmp_path / "blob").write_bytes(data)
    return Blob(index.sha256(data), len(data), tmp_path / "blob", "application/octet-stream")


def client(address: str, folder: Path, *, insecure: bool) -> RegistryClient:
    config = write_docker_config(folder / "docker", {address: (USER, PASSWORD)})
    return RegistryClient(address, insecure=insecure, docker_config=config, attempts=2, backoff=0.01, timeout=10)


def moved_to(base: str) -> Callable[[str], str]:
    """A Location rewrite: the same path and query, on the scheme and host of `base`."""
    return lambda value: urlunsplit(urlsplit(base)[:2] + urlsplit(value)[2:])


def storage(request: Request) -> tuple[int, dict[str, str], bytes]:
    """A storage service that takes uploads without asking for credentials (as a presigned URL would)."""
    return {"PUT": 201, "DELETE": 204}.get(request.method, 404), {}, b""


def assert_no_credential(sink: Scripted, *tokens: str) -> None:
    seen = sink.headers_seen()
    assert "authorization" not in seen.lower()
    assert PASSWORD not in seen and BASIC not in seen and not any(token in seen for token in tokens)


def test_an_https_registry_with_a_private_ca(secure, trusted, blob, tmp_path):
    with client(secure.address, tmp_path, insecure=False) as registry:
        registry.check_access(REPOSITORY)
        registry.upload_blob(REPOSITORY, blob)
        assert registry.has_blob(REPOSITORY, blob.digest)
    answer = requests.get(
        f"https://{secure.address}/v2/{REPOSITORY}/blobs/{blob.digest}", auth=(USER, PASSWORD), verify=str(trusted.ca)
    )
    assert answer.status_code == 200 and answer.content == blob.path.read_bytes()


def test_an_untrusted_certificate_is_one_message(secure, monkeypatch, tmp_path):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    with client(secure.address, tmp_path, insecure=False) as registry, pytest.raises(UserError) as caught:
        registry.check_access(REPOSITORY)
    message = str(caught.value)
    assert f"The registry {secure.address} failed the TLS handshake" in message
    assert "REQUESTS_CA_BUNDLE" in message and PASSWORD not in message


def test_a_plain_http_registry_asked_over_https_is_one_message(guarded, tmp_path):
    """`invoke pull --from HOST:PORT` of a plain-HTTP registry (it once ended in an AttributeError)."""
    with client(guarded.address, tmp_path, insecure=False) as registry, pytest.raises(UserError) as caught:
        registry.check_access(REPOSITORY)
    assert f"The registry {guarded.address} failed the TLS handshake" in str(caught.value)
    assert "http://HOST[:PORT]" in str(caught.value)


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_an_upload_location_on_another_host_gets_no_credential(plain, guarded, blob, tmp_path, scheme):
    """The registry sends the upload (and the cancel of check_access) to another origin: that origin is asked,
    and gets the blob, but neither the password nor a token."""
    with Scripted(storage) as sink:
        front = (
            Proxy(guarded.address, location=moved_to(sink.url))
            if scheme == "basic"
            else Proxy(plain.address, bearer=(USER, PASSWORD), location=moved_to(sink.url))
        )
        with front, client(front.address, tmp_path, insecure=True) as registry:
            registry.check_access(REPOSITORY)
            registry.upload_blob(REPOSITORY, blob)
        assert [(r.method, len(r.body)) for r in sink.seen] == [("DELETE", 0), ("PUT", blob.size)]
        assert_no_credential(sink, *front.tokens)


@pytest.mark.parametrize("where", ["sink", "same-host"])
def test_an_https_registry_pointing_to_plain_http_is_refused(guarded, trusted, blob, tmp_path, where):
    """An HTTPS front whose registry writes http:// Locations (another host, or its own host: a TLS-terminating proxy
    that does not say so): nothing is sent there, the credentials least of all."""
    with Scripted(storage) as sink:
        front = Proxy(guarded.address, tls=trusted)
        front.location = moved_to(sink.url if where == "sink" else f"http://{front.address}")
        with front, client(front.address, tmp_path, insecure=False) as registry:
            registry.check_access(REPOSITORY)  # the upload is started; its cancel is not sent, and not needed
            with pytest.raises(UserError) as caught:
                registry.upload_blob(REPOSITORY, blob)
        assert sink.seen == []
    message = str(caught.value)
    assert f"The registry {front.address} points the client at http://" in message
    assert "step down from https to plain http" in message and PASSWORD not in message


def test_a_plain_http_realm_of_an_https_registry_gets_no_credential(plain, trusted, tmp_path):
    with Scripted() as sink, Proxy(plain.address, bearer=(USER, PASSWORD), tls=trusted, realm=f"{sink.url}/token") as f:
        with client(f.address, tmp_path, insecure=False) as registry, pytest.raises(UserError) as caught:
            registry.check_access(REPOSITORY)
        assert sink.seen == []
    assert f"The registry {f.address} points the client at {sink.url}/token" in str(caught.value)


def test_a_realm_that_is_not_http_is_refused(plain, tmp_path):
    with (
        Proxy(plain.address, bearer=(USER, PASSWORD), realm="file:///etc/passwd") as front,
        client(front.address, tmp_path, insecure=True) as registry,
        pytest.raises(UserError) as caught,
    ):
        registry.check_access(REPOSITORY)
    assert f"The registry {front.address} points the client at file:///etc/passwd" in str(caught.value)
    assert "not an http(s) URL" in str(caught.value)


def test_a_token_service_elsewhere_gets_the_credentials_and_what_it_redirects_to_does_not(
    plain, trusted, blob, tmp_path
):
    """Docker Hub's way: the realm is another origin, which gets the password; it redirects to a third one, which
    is asked without it and hands out the token; the registry gets only the token."""

    def issue(request: Request) -> tuple[int, dict[str, str], bytes]:
        token = secrets.token_hex(16)
        with front.lock:
            front.tokens[token] = parse_qs(urlsplit(request.path).query)["scope"][0]
        return 200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode()

    with Scripted(issue, tls=trusted) as issuer:
        query = lambda request: urlsplit(request.path).query  # noqa: E731
        with Scripted(lambda r: (307, {"Location": f"{issuer.url}/issue?{query(r)}"}, b""), tls=trusted) as realm:
            front = Proxy(plain.address, bearer=(USER, PASSWORD), tls=trusted, realm=f"{realm.url}/token")
            with front, client(front.address, tmp_path, insecure=False) as registry:
                registry.check_access(REPOSITORY)
                registry.upload_blob(REPOSITORY, blob)
                assert registry.has_blob(REPOSITORY, blob.digest)
        assert realm.seen and all(r.headers.get("Authorization") == f"Basic {BASIC}" for r in realm.seen)
        assert issuer.seen
        assert_no_credential(issuer, *front.tokens)
    assert set(front.tokens.values()) == {f"repository:{REPOSITORY}:pull,push"}
