"""Build-runner logic that needs no engine: CA bundle choice, the one-build-at-a-time lock, the summary."""

from pathlib import Path

import pytest

from pyfamily import build, config, plan
from pyfamily.errors import BuildError, Interrupted, UserError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def family():
    return config.load(ROOT / "images.yaml")


def test_ca_bundle_precedence(family, tmp_path, monkeypatch):
    flag, env = tmp_path / "flag.pem", tmp_path / "env.pem"
    flag.write_text("x")
    env.write_text("y")
    monkeypatch.setenv(build.CA_BUNDLE_ENV, str(env))
    assert build.resolve_ca_bundle(family, str(flag)) == flag
    assert build.resolve_ca_bundle(family) == env
    assert build.resolve_ca_bundle(family, "none") is None
    monkeypatch.delenv(build.CA_BUNDLE_ENV)
    expected = build.HOST_CA_BUNDLE if build.HOST_CA_BUNDLE.is_file() else None
    assert build.resolve_ca_bundle(family) == expected
    with pytest.raises(UserError, match="does not exist"):
        build.resolve_ca_bundle(family, str(tmp_path / "missing.pem"))


def test_one_build_per_repository_at_a_time(tmp_path):
    settings = build.Settings(profile="fast", cache_dir=tmp_path)
    with build._exclusive(settings, "owner/python"):
        with (pytest.raises(UserError, match="Another build of owner/python is running"),
              build._exclusive(settings, "owner/python")):
            pass
        with build._exclusive(settings, "owner/other"):
            pass
    with build._exclusive(settings, "owner/python"):
        pass


def test_summary_and_check_name_what_failed_and_its_log(family, tmp_path):
    targets = plan.expand(family)
    log = tmp_path / "cpython-3.13.log"
    log.write_text("exit 2")
    results = [
        build.Result(targets["base"], "built", 12.0, "sha256:" + "1" * 64, 80_600_000),
        build.Result(targets["cpython-3.13"], "failed", 3.0, detail=f"exit 2; see {log}", log=log),
        build.Result(targets["3.13"], "skipped", detail="needs cpython-3.13, which did not build"),
    ]
    table = build.summary(results)
    assert "80.6 MB" in table and "111111111111" in table and "needs cpython-3.13" in table
    with pytest.raises(BuildError) as caught:
        build.check(results)
    assert "2 of 3 targets did not build" in str(caught.value)
    assert f"cpython-3.13: failed (log {log})" in str(caught.value)
    with pytest.raises(Interrupted):
        build.check([*results, build.Result(targets["all"], "interrupted")])
    build.check(results[:1])
