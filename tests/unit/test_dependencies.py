"""Dependencies (docs/dependencies.md): every imported package declared with a bounded
range and locked within it; no third-party internals overridden."""

from __future__ import annotations

import ast
import inspect
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"issuer", "verifier", "tests", "bench", "examples", "wsgi", "tools"}
RUNTIME_TREES = ("issuer", "verifier", "wsgi.py")
DEV_TREES = ("bench", "tests")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = ROOT / "requirements.lock"


def _requirements(group: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    specs = project["dependencies"] if group == "runtime" else \
        project["optional-dependencies"][group]
    return [Requirement(spec) for spec in specs]


def _python_files(tree: str) -> list[Path]:
    path = ROOT / tree
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


@cache
def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


_distributions = cache(packages_distributions)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(tree: ast.AST) -> set[str]:
    """Top-level modules imported anywhere (functions too), not under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if _is_type_checking(node):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        found |= _imported(node)
    return found


def third_party_imports(trees: tuple[str, ...]) -> dict[str, set[str]]:
    """Top-level third-party module -> the files importing it."""
    where: dict[str, set[str]] = {}
    for tree in trees:
        for path in _python_files(tree):
            for module in _imported(_parsed(path)):
                if module not in sys.stdlib_module_names and module not in FIRST_PARTY:
                    where.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    return where


def _undeclared(trees: tuple[str, ...], declared: set[str]) -> dict[str, list[str]]:
    distributions = _distributions()
    missing = {}
    for module, files in third_party_imports(trees).items():
        names = {canonicalize_name(d) for d in distributions.get(module, [])}
        if not names & declared:
            missing[f"{module} (from {sorted(names) or 'no installed distribution'})"] = \
                sorted(files)
    return missing


def test_the_import_scan_sees_lazy_imports_and_skips_type_checking_ones() -> None:
    tree = ast.parse("import a.b\nfrom c import d\nif TYPE_CHECKING:\n    import e\n"
                     "def f():\n    import g\n    from . import h\n")
    assert _imported(tree) == {"a", "c", "g"}


def test_every_package_the_service_imports_is_a_declared_dependency() -> None:
    runtime = {canonicalize_name(r.name) for r in _requirements("runtime")}
    assert _undeclared(RUNTIME_TREES, runtime) == {}


def test_every_package_the_tests_and_benchmarks_import_is_declared() -> None:
    declared = {canonicalize_name(r.name)
                for r in (*_requirements("runtime"), *_requirements("test"))}
    assert _undeclared(DEV_TREES, declared) == {}


def test_every_declared_range_has_a_lower_and_an_upper_bound() -> None:
    requirements = [*_requirements("runtime"), *_requirements("test"),
                    *_requirements("postgres"),
                    *map(Requirement, PYPROJECT["build-system"]["requires"])]
    unbounded = [str(r) for r in requirements
                 if {s.operator for s in r.specifier} != {">=", "<"}]
    assert unbounded == []


def _locked() -> dict[str, Version]:
    pins = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", LOCK.read_text(encoding="utf-8"), re.M)
    return {canonicalize_name(name): Version(version) for name, version in pins}


def test_the_lock_pins_every_declared_package_within_its_range_with_hashes() -> None:
    locked = _locked()
    requirements = [*_requirements("runtime"), *_requirements("test"),
                    *map(Requirement, PYPROJECT["build-system"]["requires"])]
    outside = {str(r): str(locked.get(canonicalize_name(r.name), "not locked"))
               for r in requirements
               if locked.get(canonicalize_name(r.name)) not in r.specifier}
    assert outside == {}, "pyproject.toml changed without `make lock`"
    text = LOCK.read_text(encoding="utf-8")
    assert text.count("==") == len(locked)
    assert len(re.findall(r"==\S+ \\\n\s+--hash=sha256:", text)) == len(locked)


# --- no third-party internals overridden ------------------------------------------------

MANGLED = re.compile(r"^_[A-Za-z][A-Za-z0-9]*__[A-Za-z0-9_]+$")


def test_no_module_reaches_another_class_private_names() -> None:
    """``_MemoryStorage__expire_events`` and the like break on any release."""
    found = []
    for tree in RUNTIME_TREES:
        for path in _python_files(tree):
            for node in ast.walk(_parsed(path)):
                name = getattr(node, "name", None) or getattr(node, "attr", None)
                if isinstance(name, str) and MANGLED.match(name):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert found == []


def test_the_pdf_signer_overrides_only_public_pyhanko_methods_with_their_signature() -> None:
    """`_RsaSigner` implements pyHanko's abstract `async_sign_raw` and wraps the documented
    `async_sign_prescribed_attributes` (pyHanko pinned to one minor release): a release
    that renames or re-shapes either fails here, before a signature is produced wrongly."""
    from pyhanko.sign.signers import Signer

    from issuer.adapters.pdf_signing import _RsaSigner

    allowed = {"async_sign_raw", "async_sign_prescribed_attributes"}
    overridden = {name for name, member in vars(_RsaSigner).items()
                  if callable(member) and hasattr(Signer, name) and name != "__init__"}
    assert overridden == allowed
    for name in overridden:
        ours = inspect.signature(getattr(_RsaSigner, name)).parameters
        theirs = inspect.signature(getattr(Signer, name)).parameters
        assert list(ours) == list(theirs), name
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()], name
