"""Import warnings on the pages: listed on the batch, confirmed by the registrar (audited)
before the batch can be submitted, and shown as confirmed to the director."""

from __future__ import annotations

from flask import Flask

from issuer.core.lifecycle import AccountRole
from issuer.services.context import Actor, Issuer
from issuer.services.importing import import_batch
from tests.e2e.conftest import edit_csv
from tests.web.conftest import as_user

REG = Actor("reg1001", "test", AccountRole.REGISTRAR, "1001")


def _male(row: dict[str, str]) -> None:  # เด็กหญิง / Miss, but ชาย
    if row["student_id"] == "66001":
        row["sex"] = "ชาย"


def test_warnings_are_listed_and_confirmed_before_submitting(web_issuer: Issuer,
                                                             app: Flask) -> None:
    imported = import_batch(web_issuer, "1001", "sex.csv",
                            edit_csv("school-batch.csv", _male), actor=REG)
    assert [(w.row, w.column) for w in imported.warnings] == [(2, "prefix_th"),
                                                               (2, "prefix_en")]
    page_url = f"/batches/{imported.batch_id}"
    registrar = as_user(app, "reg1001")
    page = registrar.get(page_url).get_data(as_text=True)
    assert 'id="warnings"' in page and "คำนำหน้า เด็กหญิง ไม่ตรงกับเพศ ชาย" in page
    assert "the prefix Miss does not match the sex ชาย" in page
    assert f"/batches/{imported.batch_id}/submit" not in page  # no submit button yet

    refused = registrar.post(f"{page_url}/submit", follow_redirects=True)
    assert "ที่ยังไม่ได้ยืนยัน" in refused.get_data(as_text=True)  # in Thai
    director = as_user(app, "dir1001")
    assert director.post(f"{page_url}/confirm-warnings").status_code == 403  # a registrar's
    assert "confirm-warnings" not in director.get(page_url).get_data(as_text=True)

    confirmed = registrar.post(f"{page_url}/confirm-warnings", follow_redirects=True)
    text = confirmed.get_data(as_text=True)
    assert 'id="warnings-confirmed"' in text and "reg1001" in text
    again = registrar.post(f"{page_url}/confirm-warnings", follow_redirects=True)
    assert "ยืนยันคำเตือนของชุดที่" in again.get_data(as_text=True)  # already, in Thai
    submitted = registrar.post(f"{page_url}/submit", follow_redirects=True)
    assert "status s-submitted" in submitted.get_data(as_text=True)

    seen = director.get(page_url).get_data(as_text=True)
    assert 'id="warnings-confirmed"' in seen and "reg1001" in seen
    with web_issuer.uow() as uow:
        events = uow.audit.events(subject=f"batch:{imported.batch_id}")
        confirmed_event = [e for e in events if e.action == "batch.confirm_warnings"]
        assert [e.actor for e in confirmed_event] == ["reg1001"]


def test_a_batch_without_warnings_shows_none(web_issuer: Issuer, app: Flask) -> None:
    imported = import_batch(web_issuer, "1001", "school.csv",
                            edit_csv("school-batch.csv", lambda row: None), actor=REG)
    assert imported.warnings == ()
    page = as_user(app, "reg1001").get(f"/batches/{imported.batch_id}").get_data(as_text=True)
    assert 'id="warnings"' not in page and f"/batches/{imported.batch_id}/submit" in page
