"""Build: run a plan on the engine through a backend, independent targets side by side, skipping what is up to
date. scheduler.py schedules, backend.py builds (every build the tool runs), settings.py says what a run is told,
step.py is what a recipe's prepare step gets, cache.py decides up to date, lock.py keeps runs apart, ca.py chooses
the CA bundle, processes.py and signals.py stop what runs, status.py reports."""

from pyfamily.produce.ca import CA_BUNDLE_ENV, HOST_CA_BUNDLE, resolve_ca_bundle
from pyfamily.produce.lock import held as held_locks
from pyfamily.produce.scheduler import Report, run
from pyfamily.produce.settings import Handover, Settings, default_jobs
from pyfamily.produce.status import Result, Status, check, summary

__all__ = [
    "CA_BUNDLE_ENV",
    "HOST_CA_BUNDLE",
    "Handover",
    "Report",
    "Result",
    "Settings",
    "Status",
    "check",
    "default_jobs",
    "held_locks",
    "resolve_ca_bundle",
    "run",
    "summary",
]
