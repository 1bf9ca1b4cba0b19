"""Build: run a plan on the engine through a backend, independent targets side by side, skipping what is up to
date. runner.py schedules, backend.py builds one target, cache.py decides up to date, lock.py keeps runs apart,
ca.py chooses the CA bundle, processes.py stops what runs, status.py reports."""

from pyfamily.build.ca import CA_BUNDLE_ENV, HOST_CA_BUNDLE, resolve_ca_bundle
from pyfamily.build.runner import (
    CACHE_ENV,
    Report,
    Settings,
    default_cache_dir,
    default_jobs,
    git_revision,
    held_locks,
    run,
)
from pyfamily.build.status import Result, Status, check, summary

__all__ = [
    "CACHE_ENV",
    "CA_BUNDLE_ENV",
    "HOST_CA_BUNDLE",
    "Report",
    "Result",
    "Settings",
    "Status",
    "check",
    "default_cache_dir",
    "default_jobs",
    "git_revision",
    "held_locks",
    "resolve_ca_bundle",
    "run",
    "summary",
]
