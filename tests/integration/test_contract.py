"""The contract downstream users build on: a venv made in `all` runs in the matching thin X.Y once the
packages find-libdeps names are installed; the pillow variants; the app images; the downstream example."""

from __future__ import annotations

import shlex
import subprocess
import time
import urllib.request
import uuid

import docker
import pytest

from pyfamily import engine, verify
from pyfamily.kinds.apps import APP_PREFIX

from . import support

pytestmark = pytest.mark.integration

MINORS = ("3.11", "3.13")
APP = APP_PREFIX
CA = "/etc/ssl/certs/ca-certificates.crt"


def venv_image(family, builder: str, minor: str, requirement: str, no_binary: str, check: str) -> str:
    """Build a venv in `builder` with pythonX.Y, `requirement` compiled from source; commit it as an image."""
    client = support.client()
    script = (
        f"set -e; python{minor} -m venv {APP}; PIP_CERT={CA} {APP}/bin/pip install --no-cache-dir "
        f"--no-binary {no_binary} {shlex.quote(requirement)}; {APP}/bin/python -c {shlex.quote(check)}; "
        f"find-libdeps --strict {APP} > {APP}/pkgdeps.txt; cat {APP}/pkgdeps.txt"
    )
    # A bind mount for this container only: the CA never becomes part of the committed image layer.
    ca = docker.types.Mount(target=CA, source=str(support.HOST_CA_BUNDLE), type="bind", read_only=True)
    container = client.containers.run(family.ref(builder), ["-c", script], entrypoint="sh", detach=True, mounts=[ca])
    try:
        status = container.wait(timeout=1200)
        assert status["StatusCode"] == 0, container.logs().decode()[-3000:]
        tag = f"venv-{minor}-{uuid.uuid4().hex[:8]}"
        container.commit("pyfamily-test/venvs", tag)
    finally:
        container.remove(force=True)
    return f"pyfamily-test/venvs:{tag}"


def with_venv(venv_ref: str, runtime: str, script: str, network: str = "bridge") -> tuple[int, str]:
    """Copy the venv from its build image into a fresh container of `runtime` and run `script` there."""
    client = support.client()
    source = client.containers.create(venv_ref, entrypoint=["true"])
    try:
        parent = APP.rsplit("/", 1)[0]  # /usr/share/python3: put_archive needs an existing directory above it
        archive = b"".join(source.get_archive(parent)[0])
    finally:
        source.remove(force=True)
    target = client.containers.create(runtime, ["-c", script], entrypoint="sh", network_mode=network)
    try:
        target.put_archive(parent.rsplit("/", 1)[0], archive)
        target.start()
        status = target.wait(timeout=600)
        return status["StatusCode"], target.logs().decode(errors="replace")
    finally:
        target.remove(force=True)


@pytest.fixture(scope="module")
def yaml_venvs(family):
    """A PyYAML venv with its libyaml C extension compiled from source, for each Python."""
    check = "import yaml; from yaml import CSafeLoader; print(yaml.__with_libyaml__)"
    refs = {minor: venv_image(family, "all", minor, "pyyaml", "pyyaml", check) for minor in MINORS}
    yield refs
    for ref in refs.values():
        support.client().images.remove(ref, force=True)


USE_YAML = f"{APP}/bin/python -c 'import yaml._yaml, yaml; print(yaml.load(\"a: [1, 2]\", Loader=yaml.CSafeLoader))'"


@pytest.mark.parametrize("minor", MINORS)
def test_venv_from_all_runs_in_matching_runtime_after_apt_install(family, yaml_venvs, minor):
    code, before = with_venv(yaml_venvs[minor], family.ref(minor), USE_YAML, network="none")
    assert code != 0 and "libyaml" in before, before  # the system library is really needed
    code, output = with_venv(
        yaml_venvs[minor],
        family.ref(minor),
        f"set -e; cat {APP}/pkgdeps.txt; apt-install - < {APP}/pkgdeps.txt >/dev/null; {USE_YAML}",
    )
    assert code == 0, output
    assert "libyaml-0-2" in output and "-dev" not in output
    assert "{'a': [1, 2]}" in output


@pytest.mark.parametrize(("built_with", "run_in"), [("3.11", "3.13"), ("3.13", "3.11")])
def test_venv_fails_in_the_other_versions_runtime(family, yaml_venvs, built_with, run_in):
    code, output = with_venv(
        yaml_venvs[built_with], family.ref(run_in), f"apt-install - < {APP}/pkgdeps.txt >/dev/null; {USE_YAML}"
    )
    assert code != 0, output  # the venv's python is a link to python{built_with}, which that image lacks


PILLOW_CHECK = """
import io, sys
from PIL import Image, ImageDraw, ImageFont, features
image = Image.new("RGB", (120, 40), "white")
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 20)
ImageDraw.Draw(image).text((4, 8), "pyfamily", font=font, fill="black")
for fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    buffer.seek(0)
    assert Image.open(buffer).format == fmt
print("pillow ok", sorted(f for f in ("jpg", "webp", "libtiff", "freetype2", "raqm") if features.check(f)))
"""


@pytest.fixture(scope="module")
def pillow_venv(family):
    check = "from PIL import Image; print(Image.__version__)"
    ref = venv_image(family, "all-pillow", "3.13", "pillow", "pillow", check)
    yield ref
    support.client().images.remove(ref, force=True)


def test_pillow_runtime_has_exactly_what_pillow_needs(family, pillow_venv):
    font = "apt-install fonts-dejavu-core >/dev/null"
    script = f"{font} && {APP}/bin/python -c {shlex.quote(PILLOW_CHECK)}"
    code, output = with_venv(pillow_venv, family.ref("3.13-pillow"), script)
    assert code == 0, output
    assert "pillow ok" in output and "freetype2" in output and "webp" in output
    code, output = with_venv(pillow_venv, family.ref("3.13"), script)
    assert code != 0, output  # plain 3.13 lacks the graphics libraries
    code, output = support.run(family.ref("3.13-pillow"), "dpkg-query -W -f '${Package}\\n'", network="none")
    assert code == 0 and not [p for p in output.split() if p.endswith("-dev")], output


@pytest.mark.parametrize("app", ["uv", "ipython"])
def test_app_smoke_runs_read_only_without_writing_bytecode(family, app):
    spec = family.config.apps[app]
    client = support.client()
    for read_only in (False, True):
        run = verify.smoke(family.ref(app), spec.smoke, read_only=read_only)
        assert run.exit_code == 0, run.output
        assert run.pyc_written == []
    image = client.images.get(family.ref(app))
    assert image.attrs["Config"]["Entrypoint"] == spec.entrypoint
    assert image.attrs["Config"]["Cmd"] == spec.cmd


def test_app_command_is_on_path_and_venv_is_the_documented_one(family):
    code, output = support.run(
        family.ref("uv"), f"readlink /usr/local/bin/uv; test -f {APP}/pkgdeps.txt; uv --version", network="none"
    )
    assert code == 0, output
    assert f"{APP}/bin/uv" in output


def test_downstream_example_builds_and_answers(family, tmp_path):
    example = support.ROOT / "examples" / "yaml-service"
    tag = "pyfamily-test/example:latest"
    cli = engine.build_cli()
    command = [
        *cli.build_command(),
        "--progress=plain",
        "--build-arg",
        f"FAMILY={family.config.repository}",
        "--secret",
        f"id=ca-bundle,src={support.HOST_CA_BUNDLE}",
        "--tag",
        tag,
        str(example),
    ]
    done = subprocess.run(command, env=cli.environment(), capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    container = support.client().containers.run(tag, detach=True, ports={"8080/tcp": ("127.0.0.1", None)})
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        body = ""
        deadline = time.monotonic() + 60
        for _ in range(120):
            if time.monotonic() > deadline:
                break
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/", data=b"a: [1, 2]\nb: {c: d}\n", method="POST"
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    body = response.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert '"a": [1, 2]' in body, container.logs().decode()
        assert '"libyaml": true' in body
    finally:
        container.remove(force=True)
