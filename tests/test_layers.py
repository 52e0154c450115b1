"""The architecture's one-way dependencies and public surface, checked."""

from __future__ import annotations

import ast
from pathlib import Path

import vango_actors

PACKAGE = Path(vango_actors.__file__).parent
CORE = ["vdom", "html", "diff", "dom", "protocol", "routing", "errors"]
FORBIDDEN_IN_CORE = {
    "trio",
    "quart",
    "quart_trio",
    "hypercorn",
    "trio_websocket",
    "wsproto",
    "socket",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_modules_do_no_io() -> None:
    present = [m for m in CORE if (PACKAGE / f"{m}.py").exists()]
    assert {"vdom", "protocol", "errors"} <= set(present)
    for module in present:
        bad = _imports(PACKAGE / f"{module}.py") & FORBIDDEN_IN_CORE
        assert not bad, f"core module {module}.py imports {sorted(bad)}"


def test_core_imports_only_core() -> None:
    for module in CORE:
        path = PACKAGE / f"{module}.py"
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                assert node.module.split(".")[0] in CORE, (
                    f"core module {module}.py imports runtime/front module .{node.module}"
                )


def test_public_names_are_exported() -> None:
    for name in ["h", "Element", "Text", "Raw", "VangoError"]:
        assert hasattr(vango_actors, name), name
