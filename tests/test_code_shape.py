"""The package stays in small modules and short functions (argument-parser construction excepted)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmarks", "optimizers", "reports", "hardware_profiles", "results")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
PARSER_BUILDERS = {"build_parser"}


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def function_lengths() -> list[tuple[int, str]]:
    out = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                out.append((node.end_lineno - node.lineno + 1, f"{path.relative_to(ROOT)}:{node.name}"))
    return sorted(out, reverse=True)


def module_lengths() -> list[tuple[int, str]]:
    return sorted(((len(p.read_text(encoding="utf-8").splitlines()), str(p.relative_to(ROOT))) for p in _modules()),
                  reverse=True)


def test_no_module_over_the_limit():
    assert _modules(), "no modules found: the test would pass vacuously"
    too_long = [(n, m) for n, m in module_lengths() if n > MAX_MODULE_LINES]
    assert not too_long, too_long


def test_no_function_over_the_limit():
    too_long = [(n, f) for n, f in function_lengths()
                if n > MAX_FUNCTION_LINES and f.rsplit(":", 1)[1] not in PARSER_BUILDERS]
    assert not too_long, too_long


if __name__ == "__main__":  # the longest three of each, for the README and closing notes
    for n, name in module_lengths()[:3]:
        print(f"module   {n:4d}  {name}")
    for n, name in [x for x in function_lengths() if x[1].rsplit(":", 1)[1] not in PARSER_BUILDERS][:3]:
        print(f"function {n:4d}  {name}")
