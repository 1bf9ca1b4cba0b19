"""`invoke rebuild-check`: build a selection again from scratch and say, per image and platform, whether it came
out identical to the image the engine held before (what the last build made, or a published image pulled in)."""

from __future__ import annotations

from collections.abc import Sequence

from pyfamily import engine, oci, produce
from pyfamily import plan as planner
from pyfamily import verify as verifier
from pyfamily.cli.family import load
from pyfamily.cli.pipeline import settings
from pyfamily.errors import UserError
from pyfamily.plan import Selection
from pyfamily.produce.inputs import REVISION_LABEL


class RebuildDiffers(UserError):
    exit_code = 1


def rebuild_check(
    config_file: str | None,
    chosen: Selection,
    *,
    profile: str | None,
    jobs: int,
    ca_bundle: str | None,
    docker: str | None,
    platforms: Sequence[str] = (),
) -> list[verifier.rebuild.Verdict]:
    family = load(config_file, profile, platforms)
    plan = planner.select(family, chosen)
    run = settings(family, jobs=jobs, ca_bundle=ca_bundle, docker=docker, no_cache=True)
    # Kept before anything is built: their blobs stay in the cache dir once the rebuild moves the tags away.
    before = {t.name: oci.export(t.ref, run.cache_dir) for t in plan.targets if engine.image_or_none(t.ref)}
    if not before:
        raise UserError(
            f"None of the {len(plan.targets)} images of the selection is in the engine, so a rebuild has nothing to "
            "be compared with: build them (`invoke build`) or pull the published ones first."
        )
    print(f"rebuilding {len(plan.targets)} targets from scratch to compare {len(before)} of them", flush=True)
    for name, image in before.items():
        if (made_at := _revision(image)) not in (None, run.revision):
            print(f"note: {name} was built at revision {made_at}, this checkout is {run.revision}: its revision label "
                  "will differ; check that revision out to compare like with like", flush=True)  # fmt: skip
    report = produce.run(plan, run, say=lambda line: print(line, flush=True))
    print(report.summary())
    report.check()
    verdicts = []
    for target in plan.targets:
        if target.name in before:
            after = oci.export(target.ref, run.cache_dir)
            verdicts += verifier.rebuild.compare(target.name, before[target.name], after)
    for verdict in verdicts:
        print(verdict.line())
    summary = verifier.rebuild.summary(verdicts)
    print(summary)
    differing = sorted({v.target for v in verdicts if not v.identical})
    if differing:
        raise RebuildDiffers(f"The rebuild from scratch differs for {', '.join(differing)} ({summary}); see above.")
    return verdicts


def _revision(image: oci.layout.LocalImage) -> str | None:
    """The revision label of the local image (None if it has none)."""
    labels = engine.client().images.get(image.image_id).labels or {}
    return labels.get(REVISION_LABEL)
