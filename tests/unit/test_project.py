"""The `project` kind: poetry and uv projects as app images (issue #13): schema, refusals, context, Dockerfile."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyfamily import config, plan, render
from pyfamily.errors import ConfigError
from pyfamily.kinds import project

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "family.yaml"


def family_file(tmp_path: Path, app: str) -> Path:
    file = tmp_path / "images.yaml"
    file.write_text(f"extends: {FIXTURE}\nrepository: pyfamily-test/projects\napps:\n{app}")
    return file


def uv_project(folder: Path, lock: bool = True) -> Path:
    (folder / "src" / "demo").mkdir(parents=True)
    (folder / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1"\n\n[tool.uv]\npackage = true\n')
    (folder / "src" / "demo" / "__init__.py").write_text("def main(): print('demo')\n")
    if lock:
        (folder / "uv.lock").write_text("version = 1\n")
    return folder


APP = """  demo:
    python: "3.13"
    project: {path}
    cmd: [demo]
    smoke: [demo]
"""


def test_requirements_or_project_exactly_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"requirements.*or `project`"):
        config.load(family_file(tmp_path, '  demo: {python: "3.13", cmd: [demo], smoke: [demo]}\n'))
    with pytest.raises(ConfigError, match=r"not both"):
        config.load(family_file(tmp_path, APP.format(path="/src/demo") + "    requirements: [demo]\n"))


def test_project_keys_need_a_project(tmp_path: Path) -> None:
    app = '  demo: {python: "3.13", requirements: [demo], cmd: [demo], smoke: [demo], workdir: /srv}\n'
    with pytest.raises(ConfigError, match=r"`workdir` only apply"):
        config.load(family_file(tmp_path, app))


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ("    installer: pip\n", "installer"),
        ("    env: {'A B': x}\n", "environment variable name"),
        ('    env: {A: "x\\ny"}\n', "env"),
        ("    user: {name: Root!}\n", "user name"),
        ("    user: {name: app, uid: 0}\n", "uid"),
        ("    workdir: srv\n", "absolute path"),
        ("    workdir: /srv/../etc\n", "normalised"),
        ("    extras: ['a b']\n", "package, extra or group name"),
        ("    no_binary: ['pyyaml;rm']\n", "package, extra or group name"),
    ],
)
def test_new_keys_are_validated(tmp_path: Path, extra: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        config.load(family_file(tmp_path, APP.format(path="/src/demo") + extra))


@pytest.mark.parametrize("path", ["a//b", "a/", "/x/.git"])
def test_project_path_is_normalised(tmp_path: Path, path: str) -> None:
    with pytest.raises(ConfigError, match=r"project"):
        config.load(family_file(tmp_path, APP.format(path=repr(path))))


def test_installer_from_the_pyproject(tmp_path: Path) -> None:
    spec = config.load(family_file(tmp_path, APP.format(path=uv_project(tmp_path / "p")))).apps["demo"]
    assert project.installer_of("demo", spec, tmp_path / "p") == "uv"
    poetry = tmp_path / "q"
    poetry.mkdir()
    (poetry / "pyproject.toml").write_text('[tool.poetry]\nname = "q"\n')
    (poetry / "poetry.lock").write_text("")
    assert project.installer_of("demo", spec, poetry) == "poetry"
    (poetry / "pyproject.toml").write_text('[project]\nname = "q"\n')
    with pytest.raises(ConfigError, match=r"installer: poetry or uv"):
        project.installer_of("demo", spec, poetry)


def test_a_project_without_lock_is_refused_unless_lock_false(tmp_path: Path) -> None:
    folder = uv_project(tmp_path / "p", lock=False)
    (folder / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[tool.uv]\n')
    cfg = config.load(family_file(tmp_path, APP.format(path=folder)))
    with pytest.raises(ConfigError, match=r"has no uv.lock.*uv lock.*lock: false"):
        plan.expand(cfg)
    cfg = config.load(family_file(tmp_path, APP.format(path=folder) + "    lock: false\n"))
    assert plan.expand(cfg)["demo"].kind == "project"


def test_context_honours_dockerignore_never_git(tmp_path: Path) -> None:
    folder = uv_project(tmp_path / "p")
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("secret")
    (folder / "tests").mkdir()
    (folder / "tests" / "test_x.py").write_text("")
    (folder / "README.md").write_text("")
    (folder / "KEEP.md").write_text("")
    (folder / ".dockerignore").write_text("# comment\ntests\n*.md\n!KEEP.md\n**/__pycache__\n")
    (folder / "src" / "demo" / "__pycache__").mkdir()
    (folder / "src" / "demo" / "__pycache__" / "x.pyc").write_text("")
    assert project.project_files(folder) == [
        ".dockerignore",
        "KEEP.md",
        "pyproject.toml",
        "src/demo/__init__.py",
        "uv.lock",
    ]


def test_dockerfile_quotes_every_value(tmp_path: Path) -> None:
    folder = uv_project(tmp_path / "p")
    app = APP.format(path=folder) + (
        "    extras: [fast]\n    groups: [web]\n    no_binary: [pyyaml]\n"
        '    env: {GREETING: "it\'s $HOME"}\n    user: {name: app, uid: 10001}\n    workdir: /srv/app\n'
        '    entrypoint: [demo, "it\'s"]\n'
    )
    family = plan.expand(config.load(family_file(tmp_path, app)))
    target = family["demo"]
    context = render.render(family, target, tmp_path / "ctx")
    text = (context.directory / "Dockerfile").read_text()
    assert "uv export --frozen" in text and "--no-dev" in text and "--no-emit-project" in text
    assert "--extra=fast" in text and "--group=web" in text and "--no-binary=pyyaml" in text
    assert "--require-hashes" in text and "pip install --no-deps /usr/src/project" in text
    assert "ENV GREETING='it'\"'\"'s $HOME'" in text
    assert "useradd --system --uid 10001 --gid 10001" in text and "USER 10001:10001" in text
    assert "WORKDIR /srv/app" in text
    assert 'ENTRYPOINT ["demo", "it\'s"]' in text
    assert "find-libdeps" in text and "apt-install - <" in text


def test_project_files_change_the_digest(tmp_path: Path) -> None:
    from pyfamily.digest import digest_of

    folder = uv_project(tmp_path / "p")
    first, second = tmp_path / "a", tmp_path / "b"
    project.copy_project(folder, first)
    (folder / "uv.lock").write_text("version = 1\n# changed\n")
    project.copy_project(folder, second)
    assert digest_of(first) != digest_of(second)


def test_a_relative_project_is_read_from_the_family_file_folder_when_the_loader_passes_it(tmp_path: Path) -> None:
    from pyfamily.config import AppSpec

    data = {"python": "3.13", "project": "../demo", "cmd": ["demo"], "smoke": ["demo"]}
    spec = AppSpec.model_validate(data, context={"family_file": str(tmp_path / "family" / "images.yaml")})
    assert spec.project == str(tmp_path / "demo")
    assert AppSpec.model_validate(data).project == "../demo"  # no context: relative to the working directory
