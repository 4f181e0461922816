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
    # pages read through issuer.adapters.queries and change things through the services
    ("issuer/web", ("sqlalchemy", "issuer.adapters.repositories", "issuer.adapters.db",
                    "issuer.adapters.job_store")),
])
def test_layer_boundaries(package: str, forbidden: tuple[str, ...]) -> None:
    modules = imports(package)
    assert modules, f"no modules under {package}"
    violations = {
        module: sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
        for module, names in modules.items()
    }
    assert {m: v for m, v in violations.items() if v} == {}


# The use cases work through the unit of work's repositories, never a raw session, so
# issuer.testing's in-memory unit of work can run them without a database. Only the
# composition root (context.py, which builds the unit of work) knows SQLAlchemy.
COMPOSITION_ROOT = "context.py"
SERVICES = sorted(p.name for p in (ROOT / "issuer" / "services").glob("*.py")
                  if p.name != COMPOSITION_ROOT)


def test_every_service_module_is_checked() -> None:
    assert {"accounts.py", "admin.py", "audit.py", "graduates.py", "importing.py",
            "publishing.py", "uploads.py"} <= set(SERVICES)
    assert COMPOSITION_ROOT not in SERVICES


@pytest.mark.parametrize("name", SERVICES)
def test_services_use_repositories_not_sessions(name: str) -> None:
    path = ROOT / "issuer" / "services" / name
    tree = ast.parse(path.read_text(encoding="utf-8"))
    sessions = [n.lineno for n in ast.walk(tree)
                if isinstance(n, ast.Attribute) and n.attr == "session"]
    assert sessions == [], f"{path.name} reaches into a session at lines {sessions}"
    names = imports("issuer/services")[f"issuer/services/{name}"]
    assert not {n for n in names if n == "sqlalchemy" or n.startswith("sqlalchemy.")}


def test_status_rules_live_in_the_core() -> None:
    """The enums of batches, transcripts and roles are defined once, in the core."""
    defined = {}
    for path in (ROOT / "issuer").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name in (
                    "BatchStatus", "TranscriptStatus", "AccountRole", "BatchKind", "ItemKind"):
                defined[node.name] = str(path.relative_to(ROOT))
    assert set(defined.values()) == {"issuer/core/lifecycle.py"}, defined
