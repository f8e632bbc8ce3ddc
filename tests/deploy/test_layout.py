"""The harness rule: bench/ and testkit/ never use tests/ (neither an import nor a module run with
`python -m`), so the benchmarks run from a checkout whatever the tests' layout."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _uses_of_tests(path: Path) -> list[str]:
    """Each `import tests...`, `from tests... import` and "tests..." module name in the file."""
    uses = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value]
        for name in names:
            if name == "tests" or name.startswith("tests."):
                uses.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return uses


def test_bench_and_testkit_do_not_use_tests() -> None:
    files = sorted((ROOT / "bench").rglob("*.py")) + sorted((ROOT / "testkit").rglob("*.py"))
    assert len(files) > 20
    uses = [use for path in files for use in _uses_of_tests(path)]
    assert uses == []
