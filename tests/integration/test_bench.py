"""`invoke bench` on the real engine and apt: a minor the base's Debian suite does not package is refused before
anything of the family is built (the timings themselves are `make bench`'s, never assertions here)."""

from __future__ import annotations

import subprocess

from . import support

INVOKE = str(support.ROOT / ".venv" / "bin" / "invoke")


def test_bench_refuses_a_minor_debian_does_not_package_before_building_it(helper_image):
    # trixie packages python3.13 only; the fixture family has 3.11 too. Before the fix, the bench built 3.11 (and,
    # without --quick, compiled its release) and only then found no python3.11 to compare it with.
    command = [INVOKE, "bench", "--config", str(support.FIXTURE), "--version", "3.11", "--quick"]
    done = subprocess.run(command, cwd=support.ROOT, capture_output=True, text=True, timeout=900, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "Debian's own python3.11" in done.stderr and "nothing was compiled" in done.stderr, output[-3000:]
    assert "Traceback" not in output
    assert "building 3.11" not in output  # no profile of the family was built
