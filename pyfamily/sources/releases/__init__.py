"""Find the newest patch release of each Python minor, and a checked copy of its tarball, from release listings.

For `invoke update-versions`. Modules: listings (the release sources, python.org, mirrors and Debian archives, and
their directory indexes read and parsed), newest (the newest final release of each minor, asking the sources in
order), tarball (a new release's tarball fetched and checked: its contents, and its published sha256 if any).
"""

from pyfamily.sources.releases.listings import (
    LISTING_LIMITS,
    PYTHON_ORG_ENV,
    Listings,
    ReleaseSource,
    filename_pattern,
    parse_listing,
    parse_version,
    release_sources,
    split_template,
    versions_listed,
)
from pyfamily.sources.releases.newest import (
    MAX_CHECKED,
    Lookup,
    Note,
    Release,
    final_releases,
    find_release,
    find_releases,
    newest_final,
)
from pyfamily.sources.releases.tarball import MAX_UNPACKED, check_tarball, fetch_release, release_check

__all__ = [
    "LISTING_LIMITS",
    "MAX_CHECKED",
    "MAX_UNPACKED",
    "PYTHON_ORG_ENV",
    "Listings",
    "Lookup",
    "Note",
    "Release",
    "ReleaseSource",
    "check_tarball",
    "fetch_release",
    "filename_pattern",
    "final_releases",
    "find_release",
    "find_releases",
    "newest_final",
    "parse_listing",
    "parse_version",
    "release_check",
    "release_sources",
    "split_template",
    "versions_listed",
]
