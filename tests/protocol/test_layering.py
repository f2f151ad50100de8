"""The layers' import rules (DESIGN.md): engine and render take a model and never see the parser."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

FORBIDDEN = {
    "engine": ("dsl", "lark", "trialcode"),
    "render": ("dsl", "lark", "trialcode"),
    "protocol": ("dsl", "lark", "engine", "render", "trialcode"),
    "dsl": ("engine", "render", "trialcode"),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_forbidden_layers(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules found in {package}/"
    bad = [f"{f.relative_to(ROOT)}:{line}: imports {name}"
           for f in files for line, name in _imports(f)
           if name.split(".")[0] in FORBIDDEN[package]]
    assert bad == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The scan itself works: a planted `from dsl import parse` is found."""
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom dsl.parser import parse_tree\nimport lark.lexer\n")
    assert [name for _, name in _imports(module)] == ["os", "dsl.parser", "lark.lexer"]
