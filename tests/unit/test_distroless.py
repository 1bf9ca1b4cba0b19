"""The distroless kind on paper: the targets and tags a family file gives, what its template renders, the smoke
command verify runs in it, the versions a refresh compares with the archive, and the SBOM generator reading its
status.d records. (Built and run for real: tests/integration/test_distroless.py.)"""

from __future__ import annotations

import importlib.util
import io
import subprocess
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

from pyfamily import config, kinds, plan, render
from pyfamily.errors import ConfigError
from pyfamily.kinds import distroless
from pyfamily.model import FROM

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "images.yaml"
FIXTURE = ROOT / "tests" / "fixtures" / "family.yaml"


@pytest.fixture(scope="module")
def family() -> plan.Family:
    return plan.expand(config.load(FIXTURE))


def test_every_python_gets_a_distroless_image_and_one_per_variant():
    shipped = plan.expand(config.load(SHIPPED))
    names = [t.name for t in shipped if t.kind == "distroless"]
    minors = shipped.config.pythons  # free-threaded ones too
    assert "3.14t" in minors
    assert names == [name for minor in minors for name in (f"{minor}-distroless", f"{minor}-pillow-distroless")]
    target = shipped["3.13-distroless"]
    version = shipped.config.python.versions["3.13"].version
    assert target.tags == ("3.13-distroless", "3.13-distroless-trixie", f"{version}-distroless",
                           f"{version}-distroless-trixie")  # fmt: skip
    assert dict(target.uses) == {FROM: "base", "cpython": "cpython-3.13"}
    threaded = shipped["3.14t-distroless"]
    assert threaded.tags[2] == f"{shipped.config.python.versions['3.14'].version}t-distroless"
    assert dict(threaded.uses) == {FROM: "base", "cpython": "cpython-3.14t"}
    variant = shipped["3.13-pillow-distroless"]
    assert variant.tags[0] == "3.13-pillow-distroless" and variant.variant == "pillow"
    assert dict(variant.uses) == {FROM: "base", "cpython": "cpython-3.13", "probe": "builder-3.13-pillow"}


def test_version_and_variant_select_it_like_the_runtimes(family):
    chosen = plan.select(family, plan.Selection(versions=("3.13",), variants=("plain",), apps=False))
    assert "3.13-distroless" in chosen.reasons and "3.13-pillow-distroless" not in chosen.reasons
    assert "3.11-distroless" not in chosen.reasons
    alone = plan.select(family, plan.Selection(names=("3.13-distroless",)))
    assert {t.name for t in alone.targets} == {"base", "cpython-3.13", "3.13-distroless"}


@pytest.mark.parametrize("variants", ["distroless", "pillow-distroless"])
def test_a_variant_named_like_its_images_is_refused(tmp_path, variants):
    family_file = tmp_path / "family.yaml"
    entries = "".join(f"  {name}: {{dev_packages: [libpng-dev], probe: pillow}}\n" for name in variants.split())
    family_file.write_text(f"extends: {FIXTURE}\nvariants:\n  pillow: {{dev_packages: [], probe: pillow}}\n{entries}")
    with pytest.raises(ConfigError, match=rf"^variants\.{variants}: .*rename it"):
        plan.expand(config.load(family_file))


def test_the_template_is_from_scratch_as_nonroot_with_the_tree_made_in_base(family, tmp_path):
    context = render.render(family, family["3.13-distroless"], tmp_path / "plain")
    text = context.dockerfile.read_text()
    assert "FROM pyfamily-test/python:base AS rootfs\n" in text
    assert "make-rootfs.sh /rootfs base-files libgcc-s1 libc-bin ca-certificates tzdata netbase" in text
    final = text.split("\nFROM scratch\nARG SOURCE_DATE_EPOCH\n", 1)[1]
    assert final.splitlines()[0] == "COPY --from=rootfs /rootfs/ /"
    assert "USER 65532:65532\nWORKDIR /home/nonroot\n" in final and "RUN" not in final
    assert "AS probe" not in text
    assert sorted(p.name for p in context.directory.iterdir()) == ["Dockerfile", "dpkg.cfg", "make-rootfs.sh"]
    variant = render.render(family, family["3.13-pillow-distroless"], tmp_path / "pillow").dockerfile.read_text()
    assert "FROM pyfamily-test/python:builder-3.13-pillow AS probe" in variant
    assert "cat /tmp/tree.txt /tmp/variant.txt" in variant


def test_the_modules_left_out_go_before_find_libdeps_names_what_the_tree_loads(family, tmp_path):
    text = render.render(family, family["3.13-distroless"], tmp_path / "plain").dockerfile.read_text()
    installed = text.index("RUN apt-install - < /rootfs/usr/local/share/pkgdeps/python3.13.txt\n")
    removed = text.index("for module in _curses _curses_panel _dbm _gdbm _uuid readline; do")
    found = text.index("find-libdeps --strict /rootfs/usr/local > /tmp/tree.txt")
    assert installed < removed < found < text.index("cat /tmp/tree.txt \\\n      | /usr/src/make-rootfs.sh /rootfs")
    assert 'lib-dynload/"$module".cpython-*.so' in text


def test_the_smoke_imports_all_but_what_needs_a_module_left_out():
    names = ["ssl", "readline", "curses", "curses.ascii", "cursesx", "dbm", "dbm.gnu", "dbm.ndbm", "dbm.dumb", "uuid"]
    assert distroless.imports(names) == ["ssl", "cursesx", "dbm", "dbm.dumb", "uuid"]


def test_no_shell_check_applies_and_the_smoke_runs_the_promises_in_python(family):
    recipe = kinds.REGISTRY["distroless"]
    assert recipe.check_scripts() == []
    command = recipe.smoke(family.config, family["3.11-distroless"])
    assert command is not None
    assert command[:3] == ["python3", "-I", "-c"] and command[3] == distroless.CHECKS.read_text()
    kept = [name for name in family.config.python.check_imports if name not in ("readline", "curses", "dbm.gnu")]
    assert command[4:] == ["3.11", *kept]
    compile(command[3], str(distroless.CHECKS), "exec")


LIBC6 = """Package: libc6
Source: glibc
Version: 2.41-12
Architecture: amd64
Multi-Arch: same
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
 Contains the standard libraries.
Status: install ok installed
"""
TZDATA_WITHOUT_STATUS = "Package: tzdata\nVersion: 2026a-1\nArchitecture: all\nDepends: debconf (>= 0.5)\n"


def test_a_refresh_compares_each_record_with_the_archive():
    installed = distroless.deb822_versions("\n\n".join([LIBC6, TZDATA_WITHOUT_STATUS, "no record at all\n"]))
    assert installed == {"libc6": "2.41-12", "tzdata": "2026a-1"}
    archive = "Package: libc6\nVersion: 2.41-12+deb13u1\nDescription: GNU C Library: Shared libraries\n\n"
    assert distroless.version_changes(installed, distroless.deb822_versions(archive)) == [
        "libc6 2.41-12 -> 2.41-12+deb13u1",
        "tzdata 2026a-1 -> not in the archive",
    ]
    assert distroless.version_changes(installed, dict(installed)) == []


def tar_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def test_records_are_read_from_the_status_folder_without_their_md5sums():
    archive = tar_of({"status.d/libc6": LIBC6, "status.d/libc6.md5sums": "0123  usr/lib/libc.so.6\n"})
    assert distroless.records_of(archive) == [LIBC6]


def module_at(path: Path, name: str) -> ModuleType:
    """A program of the images (not a package of the project), loaded as a module."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sbom_scan() -> ModuleType:
    return module_at(ROOT / "images" / "sbom" / "sbom-scan.py", "sbom_scan")


def test_the_sbom_lists_the_status_d_records_of_a_tree_without_dpkg(tmp_path):
    records = tmp_path / "var" / "lib" / "dpkg" / "status.d"
    records.mkdir(parents=True)
    (records / "libc6").write_text(LIBC6)
    (records / "libc6.md5sums").write_text("Package: not-a-record\nStatus: install ok installed\n")
    (records / "tzdata").write_text(TZDATA_WITHOUT_STATUS)
    (tmp_path / "elsewhere").write_text("Package: outside-the-records\nStatus: install ok installed\n")
    (records / "linked").symlink_to(tmp_path / "elsewhere")
    document = sbom_scan().document("distroless", tmp_path)
    purls = [ref["referenceLocator"] for package in document["packages"] for ref in package["externalRefs"]]
    assert purls == ["pkg:deb/debian/libc6@2.41-12?arch=amd64", "pkg:deb/debian/tzdata@2026a-1?arch=all"]


def test_the_sbom_still_reads_dpkg_status_and_lists_a_package_once(tmp_path):
    dpkg = tmp_path / "var" / "lib" / "dpkg"
    (dpkg / "status.d").mkdir(parents=True)
    removed = "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: all\n"
    (dpkg / "status").write_text(f"{LIBC6}\n{removed}")
    (dpkg / "status.d" / "libc6").write_text(LIBC6)
    packages = sbom_scan().deb_packages(tmp_path)
    assert [p["Package"] for p in packages] == ["libc6"]


# --- apps on it: `runtime: distroless` -------------------------------------------------------------------------

APPS = f"""extends: {FIXTURE}
apps:
  thin: {{python: "3.13", requirements: [pyyaml], cmd: [python3], smoke: [python3], volumes: [/data]}}
  root: {{python: "3.13", requirements: [pyyaml], cmd: [python3], smoke: [python3], user: root}}
  shellless: {{python: "3.13", requirements: [pyyaml], cmd: [python3], smoke: [python3], runtime: distroless}}
"""


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> plan.Family:
    file = tmp_path_factory.mktemp("apps") / "apps.yaml"
    file.write_text(APPS)
    return plan.expand(config.load(file))


def dockerfile(family: plan.Family, name: str, tmp_path: Path) -> str:
    return render.render(family, family[name], tmp_path / name).dockerfile.read_text()


def test_an_app_on_distroless_unpacks_what_its_venv_loads_in_base(apps, tmp_path):
    assert dict(apps["shellless"].uses) == {FROM: "3.13-distroless", "base": "base", "builder": "builder-3.13"}
    text = dockerfile(apps, "shellless", tmp_path)
    libraries = text.index("FROM pyfamily-test/python:base AS libraries")
    final = text.index("FROM pyfamily-test/python:3.13-distroless\n")
    assert libraries < final and "unpack-debs /libraries -" in text[libraries:final]
    assert "/tmp/present/" in text[libraries:final]  # what the shell-less runtime has is not unpacked again
    tail = text[final:]
    assert "RUN " not in tail and "USER " not in tail  # nothing runs in it; it stays nonroot (65532)
    assert "COPY --from=libraries /libraries/ /" in tail
    assert not kinds.recipe_of(apps["shellless"]).has_shell(apps, apps["shellless"])


def test_apps_on_the_thin_runtime_run_as_a_user_of_their_own_unless_root_is_asked(apps, tmp_path):
    thin = dockerfile(apps, "thin", tmp_path)
    assert "useradd --system --uid 10001 --gid 10001" in thin and thin.rstrip().count("USER 10001:10001") == 1
    assert "install -d -o 10001 -g 10001 /data" in thin  # a fresh volume is the user's to write
    root = dockerfile(apps, "root", tmp_path)
    assert "useradd" not in root and "USER " not in root
    assert kinds.recipe_of(apps["thin"]).has_shell(apps, apps["thin"])


def test_a_user_on_distroless_is_refused(tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_text(APPS.replace("runtime: distroless}", "runtime: distroless, user: {name: svc}}"))
    with pytest.raises(ConfigError, match=r"apps\.shellless.*`user` cannot be set with `runtime: distroless`"):
        config.load(file)
    file.write_text(APPS.replace("runtime: distroless", "runtime: scratch"))
    with pytest.raises(ConfigError, match=r"apps\.shellless\.runtime"):
        config.load(file)


@pytest.mark.parametrize(
    ("started", "passes"),
    [(FileNotFoundError, True), (127, True), (42, False)],
    ids=["no such file", "emulator found none", "a shell ran"],
)
def test_the_no_shell_promise_holds_when_an_emulator_reports_the_missing_file(monkeypatch, started, passes):
    """Under qemu-user (verify of a foreign platform) exec'ing a missing /bin/sh "succeeds": the emulator starts,
    finds no file and exits 127. Only a shell that ran the command fails the promise."""
    promises = module_at(distroless.CHECKS, "promises")

    def run(command, check):
        if isinstance(started, type):
            raise started(command[0])
        return subprocess.CompletedProcess(command, started)

    monkeypatch.setattr(promises.subprocess, "run", run)
    monkeypatch.setattr(promises.os.path, "lexists", lambda path: False)
    monkeypatch.setattr(promises.shutil, "which", lambda name: None)
    if passes:
        promises.no_shell()
    else:
        with pytest.raises(AssertionError, match="/bin/sh ran"):
            promises.no_shell()
