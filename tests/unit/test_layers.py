"""The import direction (pyproject.toml's import-linter contract) cannot be dodged: outside the
CLI, whose commands import what they need when they run (a fast `labgen --help`), every labgen
import sits at the top of its module, where lint-imports sees it."""

import ast
from pathlib import Path

import labgen

PACKAGE = Path(labgen.__file__).parent


def _imports_inside_functions(path: Path) -> list[str]:
    found = []
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("labgen")) or (
                isinstance(node, ast.Import) and any(a.name.startswith("labgen") for a in node.names)
            ):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_labgen_import_hides_in_a_function_outside_the_cli():
    modules = [p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts]
    hidden = [line for path in sorted(modules) for line in _imports_inside_functions(path)]
    assert hidden == [], "imports lint-imports would not see:\n" + "\n".join(hidden)
