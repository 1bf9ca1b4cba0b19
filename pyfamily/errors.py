"""Errors that are the user's to fix: the tasks print them as one paragraph and exit non-zero."""

import signal


class UserError(Exception):
    """A mistake in input or environment that a maintainer can fix; printed without a traceback."""

    exit_code = 2


class ConfigError(UserError):
    """images.yaml (or the file given with --config) is not valid."""


class SourceError(UserError):
    """A CPython source tarball could not be fetched or did not match its pinned checksum."""


class ReleaseError(UserError):
    """No release listing answered for a Python minor, so its newest patch release is unknown."""


class EngineError(UserError):
    """No usable Docker engine or CLI."""


class BuildError(UserError):
    """One or more targets failed to build."""

    exit_code = 1


class Interrupted(BuildError):
    """Ctrl-C or SIGTERM during a run: what ran was stopped, nothing was left half-tagged.

    Exits 128 + the signal's number, as a shell does: 130 for Ctrl-C (SIGINT), 143 for SIGTERM."""

    def __init__(self, message: str, signal_number: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = 128 + (signal_number or signal.SIGINT)
