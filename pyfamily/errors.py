"""Errors that are the user's to fix: the tasks print them as one paragraph and exit non-zero."""


class UserError(Exception):
    """A mistake in input or environment that a maintainer can fix; printed without a traceback."""

    exit_code = 2


class ConfigError(UserError):
    """images.yaml (or the file given with --config) is not valid."""


class SourceError(UserError):
    """A CPython source tarball could not be fetched or did not match its pinned checksum."""


class EngineError(UserError):
    """No usable Docker engine or CLI."""


class BuildError(UserError):
    """One or more targets failed to build."""

    exit_code = 1


class Interrupted(BuildError):
    """Ctrl-C during a build: what ran was stopped, nothing was left half-tagged."""

    exit_code = 130
