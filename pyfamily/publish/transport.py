"""HTTP to one registry: authentication on demand, retries of transient faults, messages without secrets.

`Transport(host, base_url, config, attempts, backoff, timeout)`:
- `send(method, url, ...)`: one attempt. A 401 is answered once per call from its `WWW-Authenticate`: Basic ->
  the docker config's credentials on every later request; Bearer -> a token from the realm for `service` and
  `repository:<name>:pull,push` (asked with the credentials when there are some, anonymously otherwise), cached
  per scope. A second 401, or a 403, raises UserError saying how to log in. HTTP 5xx and 429, resets, timeouts,
  and refusals once the registry has answered raise `Transient`; a refused or unresolvable first connection
  raises UserError at once (nothing listens there).
- `retry(what, attempt)`: runs `attempt()` up to `attempts` times, sleeping `backoff * 2**n` seconds (or what a
  429's Retry-After asks, up to 60 s) after a Transient; then raises UserError naming the registry, `what` and
  the last fault. Connect and every read wait at most `timeout` seconds (an upload's body is not bounded as a
  whole: a slow but moving upload goes on).
- `fault(what, response)`: the UserError for an unexpected answer, with the registry's own error code.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TypeVar

import requests
import urllib3.exceptions

from pyfamily.errors import UserError
from pyfamily.publish import auth
from pyfamily.redaction import redact_text, redact_url

T = TypeVar("T")
MAX_RETRY_AFTER = 60.0
_QUERY = re.compile(r"\?[^\s'\"<>()\[\],;]+")  # "url: /v2/x?_state=..." inside urllib3's messages


class Transient(Exception):
    """A fault worth another attempt; the message shows no secret."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def _clean(text: str) -> str:
    return _QUERY.sub("?***", redact_text(text))


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the errors under it (requests wraps urllib3's, which wrap the socket's)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        inner = next((a for a in current.args if isinstance(a, BaseException)), None)
        current = current.__cause__ or inner or getattr(current, "reason", None) or current.__context__
    return seen


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost OS-level error under a requests exception (its text names no URL)."""
    seen = _chain(exc)
    errors = [e for e in seen if isinstance(e, OSError) and not isinstance(e, urllib3.exceptions.HTTPError)]
    return errors[-1] if errors else seen[-1]


def describe(exc: BaseException) -> str:
    cause = _root_cause(exc)
    text = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
    return _clean(f"{type(cause).__name__}: {text}"[:300])


def _cannot_connect(exc: requests.ConnectionError) -> bool:
    """True when no connection was made (refused, no such name, no route), False for a reset or a cut."""
    return any(isinstance(e, urllib3.exceptions.NewConnectionError | ConnectionRefusedError) for e in _chain(exc))


def error_summary(response: requests.Response) -> str:
    """`HTTP 400 DIGEST_INVALID: provided digest did not match` from the registry's JSON errors."""
    summary = f"HTTP {response.status_code}"
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        summary += f" {first.get('code', '')}: {first.get('message', '')}".rstrip(": ")
    except (ValueError, AttributeError, IndexError, TypeError):
        summary += f" {response.reason}" if response.reason else ""
    return _clean(summary[:300])


class _NoNetrc(requests.auth.AuthBase):
    """A session-wide auth that adds nothing, so requests never takes ~/.netrc credentials (which would replace
    our Authorization header, tokens included) while proxies from the environment still apply."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class Transport:
    def __init__(
        self, host: str, base_url: str, config: Path, *, attempts: int, backoff: float, timeout: float
    ) -> None:
        self.host, self.base_url, self.config = host, base_url, config
        self.attempts, self.backoff, self.timeout = max(1, attempts), backoff, timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "pyfamily-publish"
        self.session.auth = _NoNetrc()
        self._answered = False  # the registry answered once: later refusals are a restart, worth retrying
        self._basic = False  # it asked for Basic: send the credentials on every request
        self._tokens: dict[str, str] = {}  # scope -> bearer token
        self._credentials: auth.Credentials | None = None
        self._looked_up = False

    def close(self) -> None:
        self.session.close()

    def credentials(self) -> auth.Credentials | None:
        if not self._looked_up:
            self._credentials, self._looked_up = auth.credentials_for(self.host, self.config), True
        return self._credentials

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def _authorization(self, scope: str) -> dict[str, str]:
        if scope in self._tokens:
            return {"Authorization": f"Bearer {self._tokens[scope]}"}
        credentials = self.credentials() if self._basic else None
        if credentials is not None and not credentials.identity_token:
            pair = f"{credentials.username}:{credentials.secret}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        return {}

    def once(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | Path | None = None,
        redirects: bool = False,
        auth_pair: tuple[str, str] | None = None,
        form: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """One HTTP exchange; Transient for what another attempt may cure."""
        stream = body.open("rb") if isinstance(body, Path) else None
        data: IO[bytes] | bytes | dict[str, str] | None = form
        if data is None:
            data = stream if stream is not None else body if isinstance(body, bytes) else None
        try:
            response = self.session.request(
                method,
                url,
                headers=dict(headers or {}),
                data=data,
                params=params,
                timeout=(self.timeout, self.timeout),
                allow_redirects=redirects,
                auth=auth_pair,
            )
        except requests.exceptions.SSLError as exc:
            raise UserError(
                f"The registry {self.host} failed the TLS handshake ({describe(exc)}); if it serves "
                "plain HTTP it must be marked insecure."
            ) from None
        except (requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise Transient(describe(exc)) from None
        except requests.ConnectionError as exc:
            if not self._answered and _cannot_connect(exc):
                raise UserError(
                    f"The registry {self.host} does not answer at {redact_url(url)} "
                    f"({describe(exc)}); check its name and port, and that it runs."
                ) from None
            raise Transient(describe(exc)) from None
        finally:
            if stream is not None:
                stream.close()
        self._answered = True
        if response.status_code >= 500 or response.status_code == 429:
            wait = response.headers.get("Retry-After", "")
            raise Transient(error_summary(response), float(wait) if wait.isdigit() else None)
        return response

    def send(
        self,
        method: str,
        path: str,
        *,
        repository: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | Path | None = None,
        redirects: bool = False,
        authenticate: bool = True,
    ) -> requests.Response:
        """One attempt at a request, authenticating when the registry asks; raises on 401 and 403."""
        url, scope = self.url(path), f"repository:{repository}:pull,push" if repository else ""
        for tried in (False, True):
            response = self.once(
                method, url, headers={**(headers or {}), **self._authorization(scope)}, body=body, redirects=redirects
            )
            if response.status_code != 401 or not authenticate:
                break
            if tried:
                raise self._refused(response)
            challenges = auth.parse_challenges(response.headers.get("WWW-Authenticate", ""))
            scope = scope or next((c.params.get("scope", "") for c in challenges), "")
            self._answer(challenges, scope)
        if response.status_code == 403:
            raise UserError(
                f"The registry {self.host} refuses access ({error_summary(response)}) to "
                f"{repository or 'its API'}: the account from {self.config} may not push there."
            )
        return response

    def _answer(self, challenges: list[auth.Challenge], scope: str) -> None:
        bearer = next((c for c in challenges if c.scheme == "bearer" and c.params.get("realm")), None)
        if bearer is not None:
            self._tokens[scope] = self._token(bearer, scope)
        elif any(c.scheme == "basic" for c in challenges):
            if self.credentials() is None:
                raise self._no_credentials()
            self._basic = True
        else:
            raise UserError(
                f"The registry {self.host} asks for an authentication this client does not speak "
                f"({', '.join(c.scheme for c in challenges) or 'no WWW-Authenticate'})."
            )

    def _token(self, challenge: auth.Challenge, scope: str) -> str:
        realm = challenge.params["realm"]
        params = {k: v for k, v in (("service", challenge.params.get("service", "")), ("scope", scope)) if v}
        credentials = self.credentials()
        if credentials is not None and credentials.identity_token:
            form = {
                **params,
                "grant_type": "refresh_token",
                "refresh_token": credentials.secret,
                "client_id": "pyfamily",
            }
            answer = self.once("POST", realm, form=form)
        else:
            pair = (credentials.username, credentials.secret) if credentials is not None else None
            answer = self.once("GET", realm, params=params, auth_pair=pair, redirects=True)
        if answer.status_code in (401, 403):
            raise self._refused(answer) if credentials is not None else self._no_credentials()
        try:
            token = answer.json().get("token") or answer.json().get("access_token")
        except (ValueError, AttributeError):
            token = None
        if answer.status_code != 200 or not isinstance(token, str) or not token:
            raise UserError(
                f"The token service of {self.host} ({redact_url(realm)}) gave no token ({error_summary(answer)})."
            )
        return token

    def _no_credentials(self) -> UserError:
        return UserError(
            f"The registry {self.host} asks for credentials and the docker config has none for it: "
            f"{auth.login_hint(self.host, self.config)}."
        )

    def _refused(self, response: requests.Response) -> UserError:
        credentials = self.credentials()
        if credentials is None:
            return self._no_credentials()
        return UserError(
            f"The registry {self.host} refused the credentials from {credentials.source} "
            f"({error_summary(response)}): they are wrong, expired, or may not push here; "
            f"{auth.login_hint(self.host, self.config)}."
        )

    def retry(self, what: str, attempt: Callable[[], T]) -> T:
        last = ""
        for number in range(1, self.attempts + 1):
            try:
                return attempt()
            except Transient as exc:
                last = str(exc)
                if number < self.attempts:
                    time.sleep(min(MAX_RETRY_AFTER, max(exc.wait or 0.0, self.backoff * 2 ** (number - 1))))
        raise UserError(
            f"The registry {self.host} failed while {what}, {self.attempts} attempts in a row; last error: {last}."
        )

    def fault(self, what: str, response: requests.Response) -> UserError:
        return UserError(f"The registry {self.host} answered {error_summary(response)} while {what}.")
