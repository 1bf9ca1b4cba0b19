"""The `docker buildx bake` file of a plan (pyfamily.produce.bake): targets, `target:` contexts, tags, platforms,
names, labels, the CA secret, and contexts rendered as `invoke build` renders them. No engine needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyfamily import cli, config, engine, plan, platforms, render
from pyfamily.errors import UserError
from pyfamily.model import Family, Target
from pyfamily.plan import Plan, Selection
from pyfamily.produce import bake, inputs

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "family.yaml"
PLATFORMS = ("linux/amd64", "linux/arm64")
LABELS = {"org.opencontainers.image.title": "title"}


@pytest.fixture(scope="module")
def family() -> Family:
    return plan.expand(config.load(FIXTURE), None, PLATFORMS)


def bake_file(chosen: Plan, folder: Path, ca_bundle: Path | None = None) -> bake.Document:
    contexts, _ = bake.render_contexts(chosen, folder)
    return bake.document(chosen, contexts, {t.name: LABELS for t in chosen.targets}, bake.secrets(ca_bundle))


def test_one_target_per_family_target_in_build_order(family, tmp_path):
    chosen = plan.select(family, Selection(versions=("3.13",), apps=False))
    document = bake_file(chosen, tmp_path)
    names = [bake.bake_name(t.name) for t in chosen.targets]
    assert document["group"] == {"default": {"targets": names}}
    assert list(document["target"]) == names
    runtime = document["target"]["3_13"]
    assert runtime["context"] == str(tmp_path / "3.13")
    assert runtime["dockerfile"] == "Dockerfile" and (tmp_path / "3.13" / "Dockerfile").is_file()
    assert runtime["platforms"] == list(PLATFORMS)
    assert runtime["attest"] == [  # as invoke build makes it
        "type=provenance,mode=max",
        "type=sbom,generator=pyfamily-test/python:sbom-scanner",
    ]
    assert runtime["labels"] == {**LABELS, platforms.LABEL: "linux/amd64,linux/arm64", bake.TARGET_LABEL: "3.13"}


def test_tags_are_the_local_ref_and_every_moving_tag(family, tmp_path):
    document = bake_file(plan.select(family, Selection(names=("3.13",))), tmp_path)
    assert document["target"]["3_13"]["tags"] == [
        "pyfamily-test/python:3.13",
        "pyfamily-test/python:3.13-trixie",
        "pyfamily-test/python:3.13.15",
        "pyfamily-test/python:3.13.15-trixie",
    ]
    assert document["target"]["cpython-3_13"]["tags"] == ["pyfamily-test/python:cpython-3.13.15-fast"]  # internal
    assert plan.image_refs(family["base"]) == ("pyfamily-test/python:base", "pyfamily-test/python:base-trixie")


def test_every_image_a_target_uses_is_wired_as_a_target_context(family, tmp_path):
    document = bake_file(plan.select(family, Selection(names=("3.13-pillow", "all"))), tmp_path)
    targets = document["target"]
    assert "contexts" not in targets["base"]  # FROM the bootstrapped tree: BuildKit takes it from the image store
    assert targets["3_13"]["contexts"] == {
        "pyfamily-test/python:base": "target:base",
        "pyfamily-test/python:cpython-3.13.15-fast": "target:cpython-3_13",
    }
    assert targets["3_13-pillow"]["contexts"] == {
        "pyfamily-test/python:3.13": "target:3_13",
        "pyfamily-test/python:builder-3.13-pillow": "target:builder-3_13-pillow",
    }
    assert targets["all"]["contexts"] == {
        "pyfamily-test/python:base": "target:base",
        "pyfamily-test/python:cpython-3.11.2-fast": "target:cpython-3_11",
        "pyfamily-test/python:cpython-3.13.15-fast": "target:cpython-3_13",
    }
    for entry in targets.values():  # every ref wired is one the rendered Dockerfile uses, FROM or COPY --from
        dockerfile = (Path(entry["context"]) / entry["dockerfile"]).read_text()
        for ref in entry.get("contexts", {}):
            uses = re.compile(rf"^(FROM (--platform=\S+ )?|COPY --from=){re.escape(ref)}\b", re.MULTILINE)
            assert uses.search(dockerfile), ref


def test_only_targets_inside_the_plan_are_wired(family, tmp_path):
    alone = Plan(family, plan.levels(family, ["3.13"]), {"3.13": "named"})
    assert "contexts" not in bake_file(alone, tmp_path / "alone")["target"]["3_13"]
    with_cpython = Plan(family, plan.levels(family, ["3.13", "cpython-3.13"]), {"3.13": "", "cpython-3.13": ""})
    wired = bake_file(with_cpython, tmp_path / "two")["target"]["3_13"]["contexts"]
    assert wired == {"pyfamily-test/python:cpython-3.13.15-fast": "target:cpython-3_13"}


def test_bake_names_are_what_bake_accepts_and_one_per_target(family):
    assert [bake.bake_name(n) for n in ("3.13", "cpython-3.13", "3.13-pillow", "all", "builder-3.11")] == [
        "3_13",
        "cpython-3_13",
        "3_13-pillow",
        "all",
        "builder-3_11",
    ]
    names = bake.bake_names(family)
    assert len(set(names.values())) == len(names)
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]+", name) for name in names.values())
    clash = [Target(name, "app", f"owner/python:{name}") for name in ("my.app", "my_app")]
    with pytest.raises(UserError, match=re.escape("'my.app' and 'my_app' would both be the bake target 'my_app'")):
        bake.bake_names(clash)


def test_the_ca_bundle_is_the_secret_download_steps_mount(family, tmp_path):
    chosen = plan.select(family, Selection(names=("3.13",)))
    bundle = tmp_path / "ca.pem"
    with_ca = bake_file(chosen, tmp_path / "with", bundle)
    assert {tuple(t["secret"]) for t in with_ca["target"].values()} == {(f"id={render.CA_SECRET_ID},src={bundle}",)}
    assert not any("secret" in t for t in bake_file(chosen, tmp_path / "without")["target"].values())


def test_labels_are_those_known_before_the_build(family, monkeypatch):
    monkeypatch.setattr(engine, "image_or_none", lambda ref: None)  # nothing built yet
    chosen = plan.select(family, Selection(names=("3.13",)))
    labels = bake.stable_labels(chosen, family["3.13"], "abc123", "https://example.org/pyfamily.git")
    assert labels["org.opencontainers.image.revision"] == "abc123"
    assert labels["org.opencontainers.image.version"] == "3.13.15"
    assert labels[inputs.PROFILE_LABEL] == "fast"
    assert inputs.CREATED_LABEL not in labels and bake.BASE_DIGEST_LABEL not in labels
    assert not {inputs.RECIPE_LABEL, inputs.PARTS_LABEL, "org.pyfamily.inputs"} & set(labels)


def test_a_context_invoke_build_prepared_is_kept_a_changed_one_rendered_anew(family, tmp_path):
    chosen = plan.select(family, Selection(names=("cpython-3.13",)))
    contexts, anew = bake.render_contexts(chosen, tmp_path)
    assert anew == ["base", "cpython-3.13"]
    tarball = tmp_path / "cpython-3.13" / "Python-3.13.15.tar.xz"
    tarball.write_bytes(b"what the prepare step links in")
    again, anew = bake.render_contexts(chosen, tmp_path)
    assert anew == [] and tarball.is_file() and again["cpython-3.13"] == contexts["cpython-3.13"]
    with (tmp_path / "cpython-3.13" / "Dockerfile").open("a") as changed:
        changed.write("# edited\n")
    _, anew = bake.render_contexts(chosen, tmp_path)
    assert anew == ["cpython-3.13"] and not tarball.exists()
    assert "# edited" not in (tmp_path / "cpython-3.13" / "Dockerfile").read_text()


def test_without_print_or_file_it_says_invoke_build_is_the_front_end():
    with pytest.raises(UserError, match="--print") as refused:
        cli.bake_file(None, Selection())
    assert "`invoke build` is the front end that builds" in str(refused.value)
