"""The boundaries of DESIGN.md, checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imports(package: str) -> dict[str, set[str]]:
    """Module path -> the modules it imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [
    ("verifier", ("issuer",)),  # the verifier holds no key and no student database
    ("issuer/core", ("issuer.adapters", "issuer.services", "issuer.web", "sqlalchemy",
                     "reportlab", "pyhanko", "flask")),  # the pure core does no I/O
    ("verifier/core", ("verifier.pdf", "verifier.trust", "verifier.app", "pyhanko", "flask",
                       "requests")),
])
def test_layer_boundaries(package: str, forbidden: tuple[str, ...]) -> None:
    modules = imports(package)
    assert modules, f"no modules under {package}"
    violations = {
        module: sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
        for module, names in modules.items()
    }
    assert {m: v for m, v in violations.items() if v} == {}
