"""`invoke verify --signed-by`: every published tag of the selection, in each registry, carries a signature the
given key (or keyless identity) made. Nothing is pulled: cosign reads the tag's manifest and its signature only, so
a tag pointed at another image (one nobody signed) fails, naming the tag."""

from __future__ import annotations

from collections.abc import Sequence

from pyfamily.config import RegistrySpec
from pyfamily.plan import Plan
from pyfamily.signing import Trust
from pyfamily.verify.checks import Check


def verify_signatures(plan: Plan, registries: Sequence[RegistrySpec], trust: Trust) -> list[Check]:
    """One check per public tag of the plan and registry: `signed` passes when cosign verifies it."""
    repository = plan.family.config.repository
    checks = []
    for registry in registries:
        for target in (t for t in plan.targets if t.public):
            for tag in target.tags:
                reference = f"{registry.host}/{repository}:{tag}"
                why = trust.check(registry, reference)
                checks.append(Check(target.name, "signed", why is None, "" if why is None else f"{reference}: {why}"))
    return checks
