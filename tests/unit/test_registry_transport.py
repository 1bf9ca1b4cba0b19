"""pyfamily.publish.transport: retries, backoff and error summaries (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from pyfamily.errors import UserError
from pyfamily.publish import transport
from pyfamily.publish.transport import Transient, Transport, error_summary


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(transport.time, "sleep", slept.append)
    return slept


def make(attempts: int = 4) -> Transport:
    return Transport(
        "reg.example", "https://reg.example", Path("/nowhere/config.json"), attempts=attempts, backoff=0.5, timeout=5
    )


def test_retry_backs_off_exponentially_then_names_registry_action_and_last_error(sleeps: list[float]) -> None:
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise Transient(f"HTTP 503 number {len(calls)}")

    with pytest.raises(UserError) as caught:
        make().retry("uploading the blob sha256:abc", attempt)
    assert len(calls) == 4 and sleeps == [0.5, 1.0, 2.0]
    assert str(caught.value) == (
        "The registry reg.example failed while uploading the blob sha256:abc, 4 attempts in a row; "
        "last error: HTTP 503 number 4."
    )


def test_retry_returns_the_first_success_and_honours_retry_after(sleeps: list[float]) -> None:
    answers: list[object] = [Transient("HTTP 429", wait=7), Transient("HTTP 429", wait=600), "done"]

    def attempt() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert make().retry("x", attempt) == "done"
    assert sleeps == [7, transport.MAX_RETRY_AFTER]


def test_other_errors_are_not_retried(sleeps: list[float]) -> None:
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise UserError("refused")

    with pytest.raises(UserError, match="refused"):
        make().retry("x", attempt)
    assert calls == [1] and sleeps == []


def response(status: int, body: bytes, reason: str = "") -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer._content, answer.reason = status, body, reason
    return answer


def test_error_summary_uses_the_registry_error_code() -> None:
    body = b'{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}'
    assert (
        error_summary(response(400, body)) == "HTTP 400 DIGEST_INVALID: provided digest did not match uploaded content"
    )
    assert error_summary(response(502, b"<html>bad gateway</html>", "Bad Gateway")) == "HTTP 502 Bad Gateway"
    leaky = b'{"errors":[{"code":"X","message":"see https://u:pw@h.example/p?token=abc"}]}'
    assert error_summary(response(400, leaky)) == "HTTP 400 X: see https://***@h.example/p?***"


def test_describe_names_the_socket_error_without_the_url() -> None:
    try:
        requests.get("http://127.0.0.1:1/v2/x?_state=secret", timeout=2)
    except requests.ConnectionError as exc:
        text = transport.describe(exc)
    assert text == "ConnectionRefusedError: Connection refused"


def test_netrc_never_replaces_our_authorization(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".netrc").write_text("machine reg.example login someone password netrc-secret\n")
    (tmp_path / ".netrc").chmod(0o600)
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    session = make().session
    bearer = session.prepare_request(
        requests.Request("GET", "https://reg.example/v2/", headers={"Authorization": "Bearer t"})
    )
    assert bearer.headers["Authorization"] == "Bearer t"
    assert "Authorization" not in session.prepare_request(requests.Request("GET", "https://reg.example/v2/")).headers
