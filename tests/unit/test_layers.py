"""ARCHITECTURE.md's layers, checked from the imports: a package of pyfamily imports only from the packages below it,
so each step reads only what the steps before it produced, and a newcomer walks the pipeline forwards only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pyfamily"

# Lowest first, as ARCHITECTURE.md lists them; a module may import from its own package and from any earlier one.
LAYERS = [
    "errors",
    "redaction",
    "util",
    "digest",
    "platforms",
    "engine",
    "oci",
    "config",
    "signing",
    "model",
    "sources",
    "kinds",
    "plan",
    "render",
    "produce",
    "verify",
    "publish",
    "bench",
    "cli",
]
CONCRETE_KINDS = re.compile(r"^pyfamily\.kinds\.(?!recipe$|freshness$)\w+$")


def _unit(module: str) -> str:
    return module.split(".")[1]


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pyfamily"):
            found += [f"pyfamily.{a.name}" for a in node.names] if node.module == "pyfamily" else [node.module]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("pyfamily.")]
    return found


def _modules() -> list[tuple[str, Path]]:
    return [(".".join(p.relative_to(ROOT).with_suffix("").parts), p) for p in sorted(PACKAGE.rglob("*.py"))]


def test_every_package_has_a_layer():
    units = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for _, path in _modules()} - {"__init__"}
    assert units <= set(LAYERS), f"add {sorted(units - set(LAYERS))} to LAYERS and to ARCHITECTURE.md"


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_a_module_imports_only_from_below(module, path):
    if module == "pyfamily.__init__":
        return
    mine = _unit(module)
    upward = [name for name in _imports(path) if LAYERS.index(_unit(name)) > LAYERS.index(mine)]
    assert not upward, f"{module} ({mine}) imports {upward}, which lie above it"


def test_no_module_outside_kinds_names_a_concrete_kind():
    outside = [
        m for m, path in _modules() if _unit(m) != "kinds" and any(CONCRETE_KINDS.match(n) for n in _imports(path))
    ]
    assert not outside


def test_every_engine_build_command_is_written_in_engine_py():
    writers = [m for m, path in _modules() if '"buildx"' in path.read_text() and m != "pyfamily.engine"]
    assert not writers


def test_the_layers_are_the_ones_architecture_md_lists():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    listed = re.search(r"<!-- layers -->\n(.*?)\n<!-- end of layers -->", text, re.S)
    assert listed, "ARCHITECTURE.md lost its layer list"
    assert re.findall(r"`(\w+)`", listed.group(1)) == LAYERS


def _work_in(init: Path) -> list[str]:
    """What an __init__.py does beyond being a face: anything but a docstring, imports and __all__."""
    body = ast.parse(init.read_text()).body
    face = (ast.Import, ast.ImportFrom)
    return [
        f"line {node.lineno}"
        for index, node in enumerate(body)
        if not isinstance(node, face)
        and not (index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        and not (isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["__all__"])
    ]


@pytest.mark.parametrize("init", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_package_init_is_a_face(init):
    assert not _work_in(init), f"{init.relative_to(ROOT)} does work at {_work_in(init)}: move it to a named module"
