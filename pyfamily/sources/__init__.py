"""Fetch checksum-pinned CPython source tarballs on the host and keep verified copies in a local cache.

URLs come from candidate_urls() (python.org, the Debian archives the host's apt uses, see
debian_archive_roots(), then extra mirrors); fetch() tries them in order until one serves the pinned bytes.
Modules: urls (where), apt (the host's Debian archives), fetch (the loop and the summary of failures),
download (one URL, within a deadline), cache (files on disk), progress (console lines), releases (the newest patch
release of each minor, from release listings, for `invoke update-versions`).
"""

from pyfamily.sources.apt import debian_archive_roots
from pyfamily.sources.cache import sha256_of
from pyfamily.sources.fetch import fetch, fetch_checked
from pyfamily.sources.progress import Progress, console_progress
from pyfamily.sources.urls import PYTHON_ORG, candidate_urls, locations

__all__ = [
    "PYTHON_ORG",
    "Progress",
    "candidate_urls",
    "console_progress",
    "debian_archive_roots",
    "fetch",
    "fetch_checked",
    "locations",
    "sha256_of",
]
