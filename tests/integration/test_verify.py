"""`invoke verify`'s container runs on the real engine: a check that runs too long is a failed check with a reason,
never a traceback, and a foreign platform's checks are told they run emulated."""

from __future__ import annotations

import pytest

from pyfamily import platforms, verify
from pyfamily.verify import checks

pytestmark = pytest.mark.integration


def test_a_check_that_runs_too_long_fails_with_a_reason(helper_image, monkeypatch):
    monkeypatch.setattr(checks, "TIMEOUT_SECONDS", 2)
    outcome = verify.run(helper_image, ["-c", "sleep 60"], entrypoint=["sh"])
    assert outcome.exit_code == 124
    assert "no result within 2 s" in outcome.output


def test_checks_run_on_the_platform_asked_for(helper_image):
    outcome = verify.run(helper_image, ["-c", "uname -m"], entrypoint=["sh"], platform=platforms.host())
    assert outcome.exit_code == 0
    assert outcome.output.strip() in platforms.PLATFORMS[platforms.host()].machines
