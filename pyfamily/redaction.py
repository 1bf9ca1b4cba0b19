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
