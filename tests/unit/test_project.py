"""The `project` kind: poetry and uv projects as app images (issue #13): schema, refusals, context, Dockerfile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyfamily import config, plan, render
from pyfamily.errors import ConfigError, UserError
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
    assert project.project_files(folder, "demo") == [
        ".dockerignore",
        "KEEP.md",
        "pyproject.toml",
        "src/demo/__init__.py",
        "uv.lock",
    ]


def tree(folder: Path, files: list[str], dockerignore: str) -> Path:
    """A project at `folder` holding `files` (each with its name as content) and this .dockerignore."""
    uv_project(folder)
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)
    (folder / ".dockerignore").write_text(dockerignore)
    return folder


BASE = [".dockerignore", "pyproject.toml", "src/demo/__init__.py", "uv.lock"]  # uv_project's files, always kept


def test_double_star_patterns_exclude_at_any_depth(tmp_path: Path) -> None:
    # Issue 19 item 6: `**/` was stripped and the rest matched from the top, so nested .env and secrets were kept.
    files = [".env", "src/.env", "src/app/.env", "src/app/secrets/key.pem", "secrets/root.pem", "src/app/main.py"]
    folder = tree(tmp_path / "p", files, "**/.env\n**/secrets\n")
    assert project.project_files(folder, "demo") == sorted([*BASE, "src/app/main.py"])


def test_exceptions_re_include_and_the_last_match_wins(tmp_path: Path) -> None:
    # What `docker build` keeps of this tree (checked against the engine): the exception re-includes only
    # public.pem; key.pem, in the same excluded folder, stays out (the SDK's own walk would let it through).
    files = ["src/app/secrets/key.pem", "src/app/secrets/public.pem", "docs/a.md", "docs/keep.md", "NOTES.md"]
    dockerignore = "**/secrets\n!src/app/secrets/public.pem\ndocs\n!**/keep.md\n*.md\n!NOTES.md\n"
    folder = tree(tmp_path / "p", files, dockerignore)
    expected = [*BASE, "NOTES.md", "docs/keep.md", "src/app/secrets/public.pem"]
    assert project.project_files(folder, "demo") == sorted(expected)
    (folder / ".dockerignore").write_text("**/secrets\n!**/secrets/public.pem\n**/public.pem\n")
    assert "src/app/secrets/public.pem" not in project.project_files(folder, "demo")  # a later pattern wins


def test_directory_patterns_take_everything_below(tmp_path: Path) -> None:
    files = ["docs/a.md", "src/docs/b.txt", "src/cache/blob", "src/a/b/cache/blob", "README.md", "src/demo/x.md"]
    folder = tree(tmp_path / "p", files, "/docs/\nsrc/**/cache\n*.md\n")
    # `/docs/` only at the top, `**` also for no folder at all, `*` never across a `/`: src/demo/x.md stays.
    assert project.project_files(folder, "demo") == sorted([*BASE, "src/docs/b.txt", "src/demo/x.md"])


def test_the_copy_keeps_permission_bits(tmp_path: Path) -> None:
    folder = tree(tmp_path / "p", ["bin/serve", "src/demo/data.txt"], "")
    (folder / "bin" / "serve").chmod(0o755)
    (folder / "src" / "demo" / "data.txt").chmod(0o600)
    project.copy_project(folder, tmp_path / "copy", "demo")
    assert (tmp_path / "copy" / "bin" / "serve").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "copy" / "src" / "demo" / "data.txt").stat().st_mode & 0o777 == 0o600


def test_a_link_inside_the_project_stays_a_link(tmp_path: Path) -> None:
    folder = tree(tmp_path / "p", ["src/demo/data.txt", "src/demo/other.txt"], "")
    (folder / "src" / "demo" / "same").write_text("src/demo/data.txt")
    os.symlink("data.txt", folder / "src" / "demo" / "current")
    os.symlink("demo", folder / "src" / "alias")  # a linked folder: kept as the link, not entered
    os.symlink("missing.txt", folder / "src" / "dangling")
    first = tmp_path / "first"
    names = project.copy_project(folder, first, "demo")
    assert {"src/demo/current", "src/alias", "src/dangling"} <= set(names)
    assert "src/alias/data.txt" not in names
    for name, text in [("src/demo/current", "data.txt"), ("src/alias", "demo"), ("src/dangling", "missing.txt")]:
        assert (first / name).is_symlink() and os.readlink(first / name) == text
    # The input digest counts a link by its text: pointing it at a file of the same bytes changes it.
    before = project.links_digest(first, names)
    os.remove(folder / "src" / "demo" / "current")
    os.symlink("same", folder / "src" / "demo" / "current")
    second = tmp_path / "second"
    assert project.links_digest(second, project.copy_project(folder, second, "demo")) != before
    assert project.links_digest(first, ["src/demo/data.txt"]) is None  # no links: no digest part


def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.pem"
    secret.parent.mkdir()
    secret.write_text("SECRET")
    return secret


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("src/key.pem", "{secret}"),  # absolute, outside
        ("src/key.pem", "../../outside/secret.pem"),  # a relative escape
        ("src/key.pem", "demo/../../../outside/secret.pem"),  # an escape through a folder of the project
        ("src/key.pem", "{folder}/src/demo/__init__.py"),  # absolute, even into the project: it would dangle
        ("src/key.pem", "../../p/src/demo/__init__.py"),  # back in by the folder's name, which the context lacks
    ],
)
def test_a_link_out_of_the_project_is_refused(tmp_path: Path, link: str, target: str) -> None:
    secret, folder = outside(tmp_path), tree(tmp_path / "p", [], "")
    os.symlink(target.format(secret=secret, folder=folder), folder / link)
    with pytest.raises(UserError, match=rf"apps\.demo\.project: the symbolic link '{link}' in .*outside the project"):
        project.copy_project(folder, tmp_path / "ctx", "demo")
    assert not (tmp_path / "ctx" / link).exists()


def test_a_chain_or_a_linked_folder_out_of_the_project_is_refused(tmp_path: Path) -> None:
    secret, folder = outside(tmp_path), tree(tmp_path / "p", [], "hop\n")
    os.symlink(secret, folder / "hop")  # not copied itself, but `key.pem` leads through it
    os.symlink("hop", folder / "key.pem")
    with pytest.raises(UserError, match=r"'key\.pem' in .* points to 'hop', which resolves to .*secret\.pem"):
        project.project_files(folder, "demo")
    os.remove(folder / "key.pem")
    os.symlink("../outside", folder / "shared")
    with pytest.raises(UserError, match=r"'shared' in .* points to '\.\./outside', outside the project"):
        project.project_files(folder, "demo")
    (folder / ".dockerignore").write_text("hop\nshared\n")  # listed in .dockerignore: left out, no refusal
    assert project.project_files(folder, "demo") == BASE


def test_a_pipe_in_the_project_is_refused(tmp_path: Path) -> None:
    folder = tree(tmp_path / "p", [], "")
    os.mkfifo(folder / "events")  # copying it would block on the read
    with pytest.raises(UserError, match=r"'events' in .* is not a file, folder or symbolic link"):
        project.copy_project(folder, tmp_path / "ctx", "demo")


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
    project.copy_project(folder, first, "demo")
    (folder / "uv.lock").write_text("version = 1\n# changed\n")
    project.copy_project(folder, second, "demo")
    assert digest_of(first) != digest_of(second)


def test_a_relative_project_is_read_from_the_family_file_folder_when_the_loader_passes_it(tmp_path: Path) -> None:
    from pyfamily.config import AppSpec

    data = {"python": "3.13", "project": "../demo", "cmd": ["demo"], "smoke": ["demo"]}
    spec = AppSpec.model_validate(data, context={"family_file": str(tmp_path / "family" / "images.yaml")})
    assert spec.project == str(tmp_path / "demo")
    assert AppSpec.model_validate(data).project == "../demo"  # no context: relative to the working directory
