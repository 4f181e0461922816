"""docs/security.md names the tests that cover each ASVS requirement: every one it names
must exist, so renaming or deleting a test cannot leave the page claiming coverage.

The test files are parsed (ast), never imported, so this stays fast."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
CITATION = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def citations(text: str) -> list[tuple[str, str]]:
    """Every ``tests/path.py::name`` in `text`, in order."""
    return CITATION.findall(text)


@cache
def defined_functions(path: Path) -> frozenset[str]:
    """Names of the test functions (module level or in classes) defined in `path`.
    A parametrised test counts under its base name."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    return frozenset(node.name for node in ast.walk(tree)
                     if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef))


def missing(pairs: list[tuple[str, str]], root: Path = ROOT) -> list[str]:
    """The cited tests that do not exist under `root`."""
    gone = []
    for path, name in pairs:
        file = root / path
        if not file.is_file() or name not in defined_functions(file):
            gone.append(f"{path}::{name}")
    return gone


def test_the_citation_check_finds_what_is_gone(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('a', [1])\ndef test_here(a):\n    pass\n")
    pairs = citations("`tests/test_x.py::test_here`, `tests/test_x.py::test_gone`, "
                      "`tests/test_y.py::test_here`")
    assert missing(pairs, tmp_path) == ["tests/test_x.py::test_gone", "tests/test_y.py::test_here"]


def test_every_test_named_in_the_security_page_exists() -> None:
    pairs = citations(DOC.read_text("utf-8"))
    assert len(pairs) > 100, "the page cites tests as `tests/path.py::test_name`"
    assert missing(pairs) == []
