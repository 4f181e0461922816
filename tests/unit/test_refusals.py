"""Every refusal is worded once, as a catalog message with named values, so the web can
show it in Thai (`issuer.web.labels.said`): no f-string or concatenation as its message."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from issuer.config import ROOT
from issuer.core.refusal import Both, Phrase, Refusal
from issuer.services.context import ServiceError, refused

CALLS = {"Refusal", "ServiceError", "LifecycleError", "Phrase", "InvalidReason", "Changed"}
# Functions that pass on a message already worded (a Refusal's own, or a Phrase).
PASS_ON = {("issuer/services/context.py", "refused"),
           ("issuer/core/lifecycle.py", "_must_belong")}


def _calls() -> list[tuple[str, str, ast.Call]]:
    found = []
    for path in sorted((ROOT / "issuer").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for node in ast.walk(func):
                if isinstance(node, ast.Call):
                    f = node.func
                    called = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                    if called in CALLS or (called == "__init__" and isinstance(
                            f, ast.Attribute) and isinstance(f.value, ast.Call)
                            and getattr(f.value.func, "id", "") == "super"
                            and _is_refusal_class(tree, node)):
                        found.append((name, func.name, node))
    return found


def _is_refusal_class(tree: ast.Module, call: ast.Call) -> bool:
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        if any(call is n for n in ast.walk(cls)):
            return any(getattr(b, "id", "") in {"ServiceError", "LinkError", "Refusal"}
                       for b in cls.bases)
    return False


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Phrase":
        return len(node.args) == 1 and _literal(node.args[0])
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def test_every_refusal_message_is_a_literal() -> None:
    calls = _calls()
    assert len(calls) > 100
    bad = [f"{path}:{call.lineno} {ast.unparse(call)[:90]}" for path, func, call in calls
           if (path, func) not in PASS_ON and not (call.args and _literal(call.args[0])
                                                   and len(call.args) == 1)]
    assert bad == []


@pytest.mark.parametrize(("refusal", "english"), [
    (Refusal("no batch %(batch)s", batch=7), "no batch 7"),
    (Refusal("50%% done"), "50% done"),
    (Refusal("check: %(w)s", w=Both("ไทย", "English")), "check: English"),
    (Refusal("only %(doing)s", doing=Phrase("revoke a transcript")),
     "only revoke a transcript"),
])
def test_a_refusal_reads_in_english(refusal: Refusal, english: str) -> None:
    assert str(refusal) == english


def test_refused_keeps_the_catalog_message() -> None:
    kept = refused(Refusal("no batch %(batch)s", batch=7))
    assert isinstance(kept, ServiceError) and kept.message == "no batch %(batch)s"
    other = refused(ValueError("disk full"))
    assert (other.message, str(other)) == ("%(problem)s", "disk full")


def test_the_checker_sees_a_formatted_message(tmp_path: Path) -> None:
    """The scan above would catch ServiceError(f"...") (a check that can fail)."""
    tree = ast.parse('def f(x):\n    raise ServiceError(f"no batch {x}")\n')
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert not _literal(call.args[0])
