"""HTTP to one registry: authentication on demand, credentials only where they belong, retries of transient faults,
messages without secrets.

`Transport(host, base_url, config, attempts, backoff, timeout)`:
- `send(method, url, ...)`: one attempt; `url` is a path under `base_url` or a URL the registry gave
  (`location(response)`). A 401 is answered once per call from its `WWW-Authenticate`: Basic -> the docker
  config's credentials on every later request; Bearer -> a token from the realm for `service` and
  `repository:<name>:pull,push` (asked with the credentials when there are some, anonymously otherwise), cached
  per scope. A second 401, or a 403, raises UserError saying how to log in. HTTP 5xx and 429, resets, timeouts,
  and refusals once the registry has answered raise `Transient`; a refused or unresolvable first connection
  raises UserError at once (nothing listens there), as does any other failure of requests (TLS, a bad URL).
- Credentials and tokens go only to the origin they belong to (`may_authenticate`, the one rule): the
  registry's, or the realm's for the token request; a URL elsewhere (an upload on a storage service) is asked
  without them, and its 401 is not answered. A URL that is not http(s), or steps down from https to http, is
  refused before anything is sent (a plain-http realm of an https registry too). requests follows no redirect
  (a realm's are followed here, MAX_REDIRECTS requests at most) and reads no ~/.netrc. TLS is verified against
  requests' CA bundle, or the file REQUESTS_CA_BUNDLE names (a private CA).
- `retry(what, attempt)`: runs `attempt()` up to `attempts` times, sleeping `backoff * 2**n` seconds (or what a
  429's Retry-After asks, in ASCII digits or as an HTTP date, up to 60 s) after a Transient; then raises UserError
  naming the registry, `what` and the last fault. Connect and every read wait at most `timeout` seconds (an
  upload's body is not bounded as a whole: a slow but moving upload goes on).
- `fault(what, response)`: the UserError for an unexpected answer, with the registry's own error code.
Whatever a registry wrote (error text, reasons, headers, URLs) reaches a message only through `remote_text`.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import urljoin

import requests
import urllib3.exceptions

from pyfamily.errors import UserError
from pyfamily.publish import auth
from pyfamily.redaction import remote_text

T = TypeVar("T")
MAX_RETRY_AFTER = 60.0
MAX_REDIRECTS = 5  # requests of one token GET, the realm's redirects followed
_QUERY = re.compile(r"\?[^\s'\"<>()\[\],;]+")  # "url: /v2/x?_state=..." inside urllib3's messages


class Transient(Exception):
    """A fault worth another attempt; the message shows no secret."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def _clean(text: str) -> str:
    return _QUERY.sub("?***", remote_text(text))


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the errors under it (requests wraps urllib3's, which wrap the socket's)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        inner = next((a for a in current.args if isinstance(a, BaseException)), None)
        reason = getattr(current, "reason", None)  # urllib3's wrapped error; but an ssl.SSLError's is a str
        wrapped = reason if isinstance(reason, BaseException) else None
        current = current.__cause__ or inner or wrapped or current.__context__
    return seen


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost OS-level error under a requests exception (its text names no URL)."""
    seen = _chain(exc)
    errors = [e for e in seen if isinstance(e, OSError) and not isinstance(e, urllib3.exceptions.HTTPError)]
    return errors[-1] if errors else seen[-1]


def describe(exc: BaseException) -> str:
    cause = _root_cause(exc)
    text = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
    return _clean(f"{type(cause).__name__}: {text}")


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
    except (ValueError, AttributeError, IndexError, TypeError, RecursionError):
        summary += f" {response.reason}" if response.reason else ""
    return _clean(summary)


def retry_after(value: str) -> float | None:
    """The seconds a Retry-After asks for: ASCII digits, or an HTTP date; None for anything else."""
    if re.fullmatch(r"[0-9]{1,9}", value):  # not str.isdigit(), which takes "²" that float() refuses
        return float(value)
    try:
        when = email.utils.parsedate_tz(value)
        return max(0.0, email.utils.mktime_tz(when) - time.time()) if when else None
    except (ValueError, IndexError, OverflowError):  # what email.utils raises on some malformed dates
        return None


class Transport:
    def __init__(
        self, host: str, base_url: str, config: Path, *, attempts: int, backoff: float, timeout: float
    ) -> None:
        self.host, self.base_url, self.config = host, base_url, config
        self.attempts, self.backoff, self.timeout = max(1, attempts), backoff, timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "pyfamily-publish"
        self.session.auth = auth.NoNetrc()
        self._answered = False  # the registry answered once: later refusals are a restart, worth retrying
        self._basic = False  # it asked for Basic: send the credentials on every request to it
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
        return urljoin(self.base_url, path)

    def location(self, response: requests.Response) -> str:
        """The absolute URL of an answer's Location, resolved against the URL that was asked."""
        return urljoin(response.url or self.base_url, response.headers.get("Location", ""))

    def may_authenticate(self, url: str, owner: str | None = None) -> bool:
        """The one rule for credentials and tokens: only to the origin they belong to, the registry's (or, for
        the token request, that of the realm `owner`); a URL elsewhere is asked without them."""
        return auth.same_origin(url, owner or self.base_url)

    def _authorization(self, scope: str, url: str) -> dict[str, str]:
        if not self.may_authenticate(url):
            return {}
        if scope in self._tokens:
            return {"Authorization": f"Bearer {self._tokens[scope]}"}
        credentials = self.credentials() if self._basic else None
        if credentials is not None and not credentials.identity_token:
            return {"Authorization": auth.basic(credentials)}
        return {}

    def once(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | Path | None = None,
        auth_pair: tuple[str, str] | None = None,
        form: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """One HTTP exchange, no redirect followed; Transient for what another attempt may cure."""
        stream = body.open("rb") if isinstance(body, Path) else None
        data: IO[bytes] | bytes | dict[str, str] | None = form or stream or (body if isinstance(body, bytes) else None)
        try:
            response = self.session.request(
                method,
                url,
                headers=dict(headers or {}),
                data=data,
                params=params,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
                auth=auth_pair,
            )
        except requests.RequestException as exc:
            raise self._failed(url, exc) from None
        finally:
            if stream is not None:
                stream.close()
        self._answered = True
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(error_summary(response), retry_after(response.headers.get("Retry-After", "").strip()))
        return response

    def _failed(self, url: str, exc: requests.RequestException) -> Exception:
        """What an exception of requests means: a Transient to retry, or a UserError saying what to do."""
        if isinstance(exc, requests.exceptions.SSLError):
            return UserError(
                f"The registry {self.host} failed the TLS handshake at {remote_text(url)} ({describe(exc)}): if it "
                "serves plain HTTP, give it as http://HOST[:PORT] (or with insecure: true under `registries`); if "
                "its certificate comes from a private CA, set REQUESTS_CA_BUNDLE to that CA's PEM file."
            )
        cut = isinstance(exc, requests.ConnectionError) and (self._answered or not _cannot_connect(exc))
        if cut or isinstance(exc, requests.Timeout | requests.exceptions.ChunkedEncodingError):
            return Transient(describe(exc))
        if isinstance(exc, requests.ConnectionError):
            failed, hint = "does not answer", "check its name and port, and that it runs"
        else:
            failed, hint = "could not be asked", "check its name, and tell its operators if that URL came from it"
        return UserError(f"The registry {self.host} {failed} at {remote_text(url)} ({describe(exc)}); {hint}.")

    def send(
        self,
        method: str,
        path: str,
        *,
        repository: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | Path | None = None,
        authenticate: bool = True,
    ) -> requests.Response:
        """One attempt at a request, authenticating when the registry asks; raises on 401 and 403 from it."""
        url = auth.hop(self.host, self.url(path), self.base_url)
        scope = f"repository:{repository}:pull,push" if repository else ""
        ours = self.may_authenticate(url)  # another origin (a storage service) is asked without credentials
        for tried in (False, True):
            response = self.once(method, url, headers={**(headers or {}), **self._authorization(scope, url)}, body=body)
            if response.status_code != 401 or not authenticate or not ours:
                break
            if tried:
                raise self._refused(response)
            challenges = auth.parse_challenges(response.headers.get("WWW-Authenticate", ""))
            scope = scope or next((c.params.get("scope", "") for c in challenges), "")
            self._answer(challenges, scope)
        if response.status_code == 403 and ours:
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
                raise auth.refused(self.host, self.config, None, "")
            self._basic = True
        else:
            raise UserError(
                f"The registry {self.host} asks for an authentication this client does not speak "
                f"({remote_text(', '.join(c.scheme for c in challenges) or 'no WWW-Authenticate', 100)})."
            )

    def _token(self, challenge: auth.Challenge, scope: str) -> str:
        realm = auth.hop(self.host, challenge.params["realm"], self.base_url)  # https, unless the registry is http
        params = {k: v for k, v in (("service", challenge.params.get("service", "")), ("scope", scope)) if v}
        credentials = self.credentials()
        if credentials is not None and credentials.identity_token:
            grant = {"grant_type": "refresh_token", "refresh_token": credentials.secret, "client_id": "pyfamily"}
            answer = self.once("POST", realm, form={**params, **grant})
        else:  # a GET, its redirects followed here: the user and password go to the realm's origin only
            pair = (credentials.username, credentials.secret) if credentials is not None else None
            url, query = realm, params
            for _ in range(MAX_REDIRECTS):
                answer = self.once(
                    "GET", url, params=query, auth_pair=pair if self.may_authenticate(url, realm) else None
                )
                if not answer.is_redirect:
                    break
                url, query = auth.hop(self.host, self.location(answer), url), {}  # the Location has its query
        if answer.status_code in (401, 403):
            raise self._refused(answer)
        token = auth.token_in(answer.content) if answer.status_code == 200 else None
        if token is None:  # the last of too many redirects included
            raise UserError(
                f"The token service of {self.host} ({remote_text(realm)}) gave no token ({error_summary(answer)})."
            )
        return token

    def _refused(self, response: requests.Response) -> UserError:
        return auth.refused(self.host, self.config, self.credentials(), error_summary(response))

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
