"""Verify: run each built image and check what its kind promises (checks.py), and record which image IDs passed
(records.py), which publish reads; the attestations are read by pyfamily.oci."""

from pyfamily.verify.checks import Check, Run, attested, check_name, report, run, smoke, verify, verify_target

__all__ = ["Check", "Run", "attested", "check_name", "report", "run", "smoke", "verify", "verify_target"]
