"""Verify: run each built image and check what its kind promises (checks.py), and record which image IDs passed
(records.py), which publish reads; the attestations are read by pyfamily.oci. `--signed-by` checks the signatures of
what was published (signatures.py), pulling nothing; a rebuild from scratch is compared with what it rebuilt
(rebuild.py)."""

from pyfamily.verify import rebuild
from pyfamily.verify.checks import Check, Run, attested, check_name, report, run, smoke, verify, verify_target
from pyfamily.verify.signatures import verify_signatures

__all__ = [
    "Check",
    "Run",
    "attested",
    "check_name",
    "rebuild",
    "report",
    "run",
    "smoke",
    "verify",
    "verify_signatures",
    "verify_target",
]
