"""Find the newest patch release of each Python minor, and a checked copy of its tarball, from release listings.

For `invoke update-versions`. Modules: listings (the release sources, python.org, mirrors and Debian archives, and
their directory indexes read and parsed), newest (the newest final release of each minor, asking the sources in
order), debian (a Debian archive's signed chain InRelease -> Sources -> .dsc, read and checked), openpgp (gpgv and
the archive keyring), tarball (a new release's tarball fetched and checked against the sha256 a verified signature
gives, and by its contents; a release nothing signed is refused).
"""

from pyfamily.sources.releases.debian import DEFAULT_SUITES, SUITES_ENV, SignedArchives, debian_suites
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
from pyfamily.sources.releases.openpgp import DEFAULT_KEYRING, KEYRING_ENV, debian_keyring, verify_clearsigned
from pyfamily.sources.releases.tarball import MAX_UNPACKED, check_tarball, fetch_release, release_check

__all__ = [
    "DEFAULT_KEYRING",
    "DEFAULT_SUITES",
    "KEYRING_ENV",
    "LISTING_LIMITS",
    "MAX_CHECKED",
    "MAX_UNPACKED",
    "PYTHON_ORG_ENV",
    "SUITES_ENV",
    "Listings",
    "Lookup",
    "Note",
    "Release",
    "ReleaseSource",
    "SignedArchives",
    "check_tarball",
    "debian_keyring",
    "debian_suites",
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
    "verify_clearsigned",
    "versions_listed",
]
