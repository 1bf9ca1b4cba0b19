"""The pure parts of `build --refresh`: which inputs changed, and what Debian's and PyPI's answers mean."""

from __future__ import annotations

import json

from pyfamily.kinds.freshness import (
    newer,
    parse_apt_simulation,
    parse_dist_infos,
    parse_pip_outdated,
    parse_pip_report,
    resolution_changes,
)
from pyfamily.produce.inputs import Inputs, changed_parts

PARTS = {
    "file Dockerfile": "d1",
    "file Python-3.13.15.tar.xz": "t1",
    "label org.opencontainers.image.version": "3.13.15",
    "image base": "sha256:base-bytes-1",
    "recipe base": "base-recipe-1",
}


def test_a_refreshed_parent_changes_the_content_digest_but_not_the_recipe_digest() -> None:
    before, after = Inputs(PARTS), Inputs({**PARTS, "image base": "sha256:base-bytes-2"})
    assert before.content != after.content
    assert before.recipe == after.recipe
    assert before.key(kept_across_refresh=True) == after.key(kept_across_refresh=True)
    assert before.key(kept_across_refresh=False) != after.key(kept_across_refresh=False)


def test_a_changed_parent_recipe_changes_both_digests() -> None:
    before, after = Inputs(PARTS), Inputs({**PARTS, "recipe base": "base-recipe-2", "image base": "sha256:x"})
    assert before.recipe != after.recipe
    assert before.content != after.content


def test_a_changed_tarball_is_named() -> None:
    before = json.loads(Inputs(PARTS).short_parts())
    after = json.loads(Inputs({**PARTS, "file Python-3.13.15.tar.xz": "t2"}).short_parts())
    assert changed_parts(before, after) == "Python-3.13.15.tar.xz changed"


def test_changed_parts_say_rebuilt_added_removed_and_count_the_rest() -> None:
    before = {"file Dockerfile": "a", "image base": "b", "recipe base": "c", "file old.txt": "d", "label x": "1"}
    after = {"file Dockerfile": "a2", "image base": "b2", "recipe base": "c2", "file new.txt": "e", "label x": "2"}
    assert changed_parts(before, after, limit=3) == "Dockerfile changed, new.txt added, old.txt removed and 2 more"
    assert changed_parts(before, before) == "inputs changed"


APT_SIMULATION = """\
NOTE: This is only a simulation!
Reading package lists...
Calculating upgrade...
The following packages will be upgraded:
  libssl3t64 openssl tzdata
Inst libssl3t64 [3.5.1-1] (3.5.1-1+deb13u1 Debian-Security:13/stable-security [amd64])
Inst openssl [3.5.1-1] (3.5.1-1+deb13u1 Debian-Security:13/stable-security [amd64])
Inst tzdata [0.0-1] (2025b-4+deb13u1 Debian:13.2/stable [all])
Inst libnew1 (1.0-1 Debian:13.2/stable [amd64])
Conf libssl3t64 (3.5.1-1+deb13u1 Debian-Security:13/stable-security [amd64])
"""


def test_apt_simulation_lists_upgrades_of_installed_packages_only() -> None:
    assert parse_apt_simulation(APT_SIMULATION) == [
        "libssl3t64 3.5.1-1 -> 3.5.1-1+deb13u1",
        "openssl 3.5.1-1 -> 3.5.1-1+deb13u1",
        "tzdata 0.0-1 -> 2025b-4+deb13u1",
    ]
    assert parse_apt_simulation("Reading package lists...\n0 upgraded, 0 newly installed.\n") == []


def test_newer_makes_one_reason_and_counts_what_it_does_not_name() -> None:
    assert newer([], "Debian") == []
    assert newer(["a 1 -> 2"], "Debian") == ["Debian: a 1 -> 2"]
    assert newer([f"p{i} 1 -> 2" for i in range(5)], "PyPI") == ["PyPI: p0 1 -> 2, p1 1 -> 2, p2 1 -> 2 and 2 more"]


def test_pip_outdated_reads_the_json_line() -> None:
    outdated = [{"name": "pip", "version": "25.1", "latest_version": "25.3", "latest_filetype": "wheel"}]
    output = "WARNING: something\n" + json.dumps(outdated) + "\n"
    assert parse_pip_outdated(output) == ["pip 25.1 -> 25.3"]
    assert parse_pip_outdated("[]\n") == []


def test_a_fresh_resolution_is_compared_with_the_venv_by_normalized_name() -> None:
    report = {
        "install": [
            {"metadata": {"name": "Jinja2", "version": "3.1.6"}},
            {"metadata": {"name": "certbot", "version": "5.1.0"}},
        ]
    }
    resolved = parse_pip_report("some log line\n" + json.dumps(report) + "\n")
    listing = "certbot-5.0.0.dist-info\njinja2-3.1.6.dist-info\nsetuptools-80.0.dist-info\n__pycache__\nacme\n"
    installed = parse_dist_infos(listing)
    assert installed == {"certbot": "5.0.0", "jinja2": "3.1.6", "setuptools": "80.0"}
    assert resolution_changes(installed, resolved) == ["certbot 5.0.0 -> 5.1.0"]
    assert resolution_changes({**installed, "certbot": "5.1.0"}, resolved) == []
    assert resolution_changes({}, {"zope-interface": "8.0"}) == ["zope-interface not installed -> 8.0"]
