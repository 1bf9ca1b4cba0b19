"""Keep secrets out of messages: a URL is shown without its user:password@ part and its query string.

Mirrors and registries are often given as `https://user:token@host/path` or `...?token=...`; every message,
build summary and CI log shows them through `redact_url` (one URL) or `redact_text` (free text)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"

# scheme://[userinfo@]host... up to the next blank, quote or closing bracket.
_URL = re.compile(r"""\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'"<>()\[\]]+""")


def redact_url(url: str) -> str:
    """`https://user:tok@host/p?token=x#f` -> `https://***@host/p?***`; anything unparsable is returned whole
    only when it carries neither '@' nor '?'."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.split("@")[-1].split("?")[0] + (f"?{HIDDEN}" if "?" in url else "")
    netloc = f"{HIDDEN}@{host}{port}" if "@" in parts.netloc else parts.netloc
    query = HIDDEN if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str) -> str:
    """Every URL inside `text` redacted as by redact_url."""
    return _URL.sub(lambda match: redact_url(match.group(0)), text)


# Anything a remote party wrote (a registry's error text, a mirror's listing, a server's header) may carry terminal
# escape sequences, a carriage return that hides what came before, bidi overrides that reorder what a reader sees,
# or a line that starts with `::error::` and becomes a GitHub Actions workflow command. Such text is shown only
# through `remote_text`: every control or format character (Unicode categories Cc and Cf, line breaks included)
# becomes one `?`, so a remote message is always one inert line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")


def remote_text(text: str, limit: int = 300) -> str:
    """`text` from a remote party, safe for a terminal or a CI log: one line, no control or format character,
    at most `limit` characters (an ellipsis marks a cut), URLs redacted as by redact_text."""
    # Redacted before it is cut: a cut through `user:token@` would leave a URL redact_url no longer recognises.
    cleaned = _CONTROL.sub("?", redact_text(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
