"""`invoke build --refresh` on the real engine, against the real Debian archive and PyPI (#9): an image with nothing
newer is kept (same image ID, so publishing it again sends nothing), one with an update is rebuilt and says why,
and CPython is never recompiled for a refresh."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyfamily import plan, produce, publish, verify
from pyfamily.config import RegistrySpec
from pyfamily.kinds.apps import APP_PREFIX
from pyfamily.kinds.freshness import Probe, app_venv_updates, apt_updates_of
from pyfamily.plan import Selection
from pyfamily.render import render

from . import registries, support

RUNTIME = Selection(names=("3.13",))  # base, cpython-3.13 and 3.13: the cheapest selection with a CPython


def _refreshing(family: support.Family) -> produce.Settings:
    return dataclasses.replace(family.settings, refresh=True)


def refresh(family: support.Family, selection: Selection) -> dict[str, produce.Result]:
    report = produce.run(plan.select(family.family, selection), _refreshing(family), say=print)
    print(produce.summary(report.results))
    return {r.target.name: r for r in report.results}


def derived(ref: str, tag: str, script: str) -> str:
    """An image made from `ref` by one RUN step: same labels, so the build takes it for the one it made."""
    dockerfile = f"FROM {ref}\nUSER 0\nRUN {script}\n".encode()
    image, _ = support.client().images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, forcerm=True)
    return str(image.id)


# dpkg's record of tzdata says an old version: apt then offers the archive's tzdata as an upgrade.
OLD_TZDATA = "sed -i '/^Package: tzdata$/,/^$/ s/^Version: .*/Version: 0.0-1/' /var/lib/dpkg/status"


@pytest.fixture
def restored(family) -> Iterator[None]:
    """Whatever a test does to the family's tags, every target's tags point at its first image again afterwards."""
    yield
    for result in family.results:
        image = support.client().images.get(result.image_id)
        for tag in result.target.tags or (result.target.ref.rsplit(":", 1)[1],):
            image.tag(result.target.repository, tag)


def test_a_refresh_with_nothing_new_keeps_every_image_and_compiles_nothing(family, restored):
    before = {name: support.image_id(family.ref(name)) for name in ("base", "cpython-3.13", "3.13")}
    results = refresh(family, RUNTIME)
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(before, "up to date")
    assert {name: r.image_id for name, r in results.items()} == before
    # Asked: the bootstrapped tree (in base's prepare step) and the runtime; the CPython tree has nothing to ask.
    assert results["3.13"].detail == "no Debian or PyPI updates"
    assert results["cpython-3.13"].detail == ""


def test_a_debian_update_rebuilds_the_image_that_has_it_and_never_cpython(family, restored):
    runtime = family.targets["3.13"]
    outdated = derived(runtime.ref, runtime.ref, OLD_TZDATA)
    cpython = support.image_id(family.ref("cpython-3.13"))
    results = refresh(family, RUNTIME)
    assert results["cpython-3.13"].status == "up to date" and results["cpython-3.13"].image_id == cpython
    assert results["3.13"].status == "built", results["3.13"].detail
    assert "Debian: tzdata 0.0-1 -> " in results["3.13"].detail
    fresh = support.image_id(runtime.ref)
    assert fresh != outdated
    code, output = support.run(runtime.ref, "dpkg-query -W -f '${Version}' tzdata", network="none")
    assert code == 0 and output != "0.0-1", output
    # The rebuilt image is what its recipe says: a plain build keeps it.
    again = produce.run(plan.select(family.family, RUNTIME), family.settings, say=print).results
    assert {r.target.name: r.status for r in again} == dict.fromkeys(results, "up to date")
    assert support.image_id(runtime.ref) == fresh


def test_the_debian_probe_reads_apt_in_the_image(family, helper_image, restored):
    probe = Probe(family.family, family.targets["base"], Path("/nonexistent"), support.HOST_CA_BUNDLE)
    assert apt_updates_of(probe, helper_image) == []
    outdated = derived(helper_image, "pyfamily-test/refresh:outdated-tzdata", OLD_TZDATA)
    (reason,) = apt_updates_of(probe, outdated)
    assert reason.startswith("Debian: tzdata 0.0-1 -> "), reason
    support.client().images.remove(outdated, force=True)


def test_the_pypi_probe_compares_a_fresh_resolution_with_the_app_venv(family, tmp_path, restored):
    app = family.targets["ipython"]
    # The session's app image was built minutes ago, and PyPI may have published a release of its unpinned
    # requirements since (ipython 9.19.1 did, during a CI run): the app alone is refreshed first, which rebuilds it
    # if so, so "nothing newer" is asked of a venv as new as PyPI is now.
    refreshed = produce.run(plan.Plan(family.family, levels=((app,),)), _refreshing(family), say=print).results
    assert [r.status for r in refreshed] in (["up to date"], ["built"]), produce.summary(refreshed)
    context = render(family.family, app, tmp_path / "context").directory
    probe = Probe(family.family, app, context, support.HOST_CA_BUNDLE)
    assert app_venv_updates(probe, APP_PREFIX, context / "requirements.txt") == []
    # The venv's record of ipython says an old release: a fresh resolution installs another.
    site = f"{APP_PREFIX}/lib/python{app.python}/site-packages"
    rename = f"cd {site} && for d in ipython-*.dist-info; do mv $d ipython-0.1.dist-info; done"
    outdated = derived(app.ref, "pyfamily-test/refresh:outdated-ipython", rename)
    outdated_probe = dataclasses.replace(probe, target=dataclasses.replace(app, ref=outdated))
    (reason,) = app_venv_updates(outdated_probe, APP_PREFIX, context / "requirements.txt")
    assert reason.startswith("PyPI: ipython 0.1 -> "), reason
    support.client().images.remove(outdated, force=True)


def publish_runtime(family, cache: Path, registry: RegistrySpec) -> dict[str, tuple[str, int]]:
    """Publish base and 3.13 (fast images allowed): {tag: (action, bytes sent)}."""
    chosen = plan.Plan(family.family, levels=((family.targets["base"], family.targets["3.13"]),))
    rows = publish.publish(family.config, chosen, [registry], cache, allow_profiles=("release", "fast"), say=print)
    return {row.tag: (row.action, row.bytes_sent) for row in rows}


def verified_runtime(family, cache: Path) -> None:
    checks = verify.verify(plan.Plan(family.family, levels=((family.targets["base"], family.targets["3.13"]),)), cache)
    assert all(check.passed for check in checks), verify.report(checks)


def test_publish_after_a_refresh_sends_only_what_the_refresh_rebuilt(family, restored, tmp_path):
    with registries.serve_registry(tmp_path / "registry") as served:
        registry = RegistrySpec(host=served.address, insecure=True)
        verified_runtime(family, tmp_path / "cache")
        first = publish_runtime(family, tmp_path / "cache", registry)
        assert {action for action, _ in first.values()} == {"pushed"}
        # Nothing new in Debian: the refresh keeps every image, so the publish after it sends nothing.
        refresh(family, RUNTIME)
        unchanged = publish_runtime(family, tmp_path / "cache", registry)
        assert unchanged == dict.fromkeys(first, ("unchanged", 0))
        # A Debian update in 3.13 only: 3.13 is rebuilt and pushed (a new dated tag of the day), base is not.
        runtime = family.targets["3.13"]
        derived(runtime.ref, runtime.ref, OLD_TZDATA)
        assert refresh(family, RUNTIME)["3.13"].status == "built"
        verified_runtime(family, tmp_path / "cache")
        after = publish_runtime(family, tmp_path / "cache", registry)
        assert {tag: action for tag, (action, _) in after.items() if tag.startswith("base")} == {
            tag: "unchanged" for tag in first if tag.startswith("base")
        }
        pushed = {tag for tag, (action, _) in after.items() if action == "pushed"}
        assert {"3.13", "3.13-trixie", "3.13.15", "3.13.15-trixie"} <= pushed
        assert not pushed & set(first) - {"3.13", "3.13-trixie", "3.13.15", "3.13.15-trixie"}  # no dated tag moved
