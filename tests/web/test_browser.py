"""The issuer in headless Chromium (Playwright driving Debian's `chromium`): a registrar
uploads a batch with errors, fixes it and submits it; the director approves and watches
the progress bar to the end; the ZIP downloads; the registrar makes a claim link and
revokes another transcript; the graduate opens the claim link and shares the transcript
with a PIN; the employer opens the share; the graduate reads its access log.

Skipped when no Chromium is installed, unless ``BKT_REQUIRE_BROWSER=1`` (CI), in which
case that is a failure. ``BKT_SCREENSHOTS=dir`` saves a picture of each step.
"""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from issuer.core.lifecycle import BatchStatus
from issuer.services.context import Issuer
from issuer.services.graduates import create_claim_link
from issuer.web import create_app
from issuer.web.config import WebConfig
from tests.browser import TIMEOUT_MS, expect, new_page, shot
from tests.e2e.conftest import EXAMPLES, REGISTRAR, approved_batch, edit_csv
from tests.web.conftest import PASSWORD


@pytest.fixture
def site(web_issuer: Issuer) -> Iterator[str]:
    app = create_app(issuer=web_issuer, config=WebConfig(  # the job engine, embedded worker
        secret_key="browser test", secure_cookies=False, issue_workers=0))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BKT_WEB"] = replace(app.config["BKT_WEB"], public_base_url=base)  # links
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(5)
    app.extensions["bkt_jobs"].worker.stop(60)


@pytest.fixture
def page(site: str, chromium):  # type: ignore[no-untyped-def]
    return new_page(chromium, site, accept_downloads=True)  # phone-sized


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/batches")


def sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.click("header form button")
    page.wait_for_url("**/login")


def test_a_batch_from_upload_to_download_and_a_revocation(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "reg1001")
    shot(page, "01-batches")

    def spoil(row: dict[str, str]) -> None:
        if row["student_id"] == "66003" and row["record_type"] == "course":
            row["grade"] = "5"

    bad = tmp_path / "results.csv"
    bad.write_bytes(edit_csv("school-batch.csv", spoil))
    page.goto("/batches/upload")
    page.set_input_files("input[name=file]", str(bad))
    page.click("main button[type=submit]")
    expect(page.locator("#errors tbody tr").first).to_be_visible()  # read in the background
    assert page.locator("#errors tbody tr").count() > 1
    expect(page.locator("#errors")).to_contain_text("grade")
    expect(page.locator("#error-summary")).to_contain_text("grade")
    shot(page, "02-errors")

    page.click("text=อัปโหลดไฟล์ที่แก้ไขแล้ว")
    page.set_input_files("input[name=file]", str(EXAMPLES / "school-batch.csv"))
    page.click("main button[type=submit]")
    page.wait_for_url("**/batches/*")
    expect(page.locator("main table tbody tr")).to_have_count(6)
    shot(page, "03-imported")
    with page.expect_popup() as popup:
        page.locator("main table tbody tr").first.locator("a").click()
    preview = popup.value
    assert "/preview.pdf" in preview.url
    preview.close()
    page.click("text=ส่งขออนุมัติ")
    expect(page.locator("#status-label")).to_have_text("รออนุมัติ")
    batch_url = page.url
    sign_out(page)

    sign_in(page, "dir1001")
    page.goto(batch_url)
    page.click("text=อนุมัติและออกเอกสาร")
    expect(page.locator("#status-label")).to_have_text("ออกเอกสารแล้ว", timeout=120_000)
    expect(page.locator("#bar")).to_have_attribute("value", "6")
    shot(page, "04-issued")
    with page.expect_download() as download:
        page.click("text=ดาวน์โหลดทั้งหมด (ZIP)")
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    names = archive.namelist()
    pdfs = [n for n in names if n.endswith(".pdf")]
    assert len(pdfs) == 6 and all(archive.read(n).startswith(b"%PDF-1.7") for n in pdfs)
    # each with its VC 2.0 export beside it (docs/interop.md)
    assert sorted(names) == sorted([*pdfs, *(n.removesuffix(".pdf") + ".vc.json" for n in pdfs)])
    assert all(archive.read(n).startswith(b"{") for n in names if n.endswith(".vc.json"))
    sign_out(page)

    sign_in(page, "reg1001")
    page.goto("/lang/en?next=/transcripts")
    page.wait_for_url("**/transcripts")
    page.locator("main table tbody tr").nth(1).locator("a").first.click()
    page.click("text=Make a claim link")
    claim_url = page.locator("#claim-url").inner_text()
    page.goto("/transcripts")
    page.locator("main table tbody tr").first.locator("a").first.click()
    page.fill("form[data-confirm] input[name=reason]", "issued in error")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form[data-confirm] button")
    expect(page.locator("#current-status")).to_have_text("Revoked")
    expect(page.locator("main")).to_contain_text("issued in error")
    shot(page, "05-revoked")
    sign_out(page)

    # the graduate: no account, only the link the school sent
    page.goto(claim_url)
    expect(page.locator("#claim-status")).to_have_text("Issued")
    page.fill("input[name=label]", "ACME Co.")
    page.fill("input[name=pin]", "4321")
    page.click("text=Create a share link")
    share_url = page.locator("#new-share").inner_text()
    shot(page, "06-claimed")

    employer_context = page.context.browser.new_context()  # another person's browser
    employer_context.set_default_timeout(TIMEOUT_MS)
    employer = employer_context.new_page()
    employer.goto(share_url)
    employer.fill("input[name=pin]", "4321")
    employer.click("main button[type=submit]")
    expect(employer.locator("#share-status")).to_be_visible()
    expect(employer.locator("#download-pdf")).to_be_visible()
    with employer.expect_download() as download:
        employer.click("#download-pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-1.7")
    employer_context.close()

    page.goto(claim_url)
    page.click("#shares summary")
    expect(page.locator("#shares .log li")).to_have_count(2)  # viewed, downloaded
    shot(page, "07-access-log")


def test_a_correction_from_upload_to_the_graduates_page(  # type: ignore[no-untyped-def]
        page, web_issuer: Issuer, tmp_path: Path) -> None:
    """A registrar uploads a file that changes an issued student's grades: it becomes a
    correction batch showing the differences side by side; the director approves it; the
    graduate's page shows the new version and the old one superseded."""
    batch_id = approved_batch(web_issuer, "1001", "school-batch.csv")
    deadline = time.monotonic() + 120  # the site's embedded worker issues it (signing it
    while time.monotonic() < deadline:  # here too would race it: one of the two refused)
        with web_issuer.uow() as uow:
            batch = uow.batches.get(batch_id)
            if batch is not None and batch.status is BatchStatus.ISSUED:
                transcript_id = uow.batches.records(batch)[1].transcript_id
                break
        time.sleep(0.2)
    else:
        raise AssertionError(f"batch {batch_id} was not issued within 120 s")
    claim = create_claim_link(web_issuer, transcript_id, actor=REGISTRAR)
    with web_issuer.uow() as uow:
        row = uow.transcripts.latest(transcript_id)
        student_id = json.loads(row.record_json)["student"]["student_id"]

    def correct(r: dict[str, str]) -> None:
        if r["student_id"] == student_id and r["record_type"] == "course":
            r["grade"] = "4"

    fixed = tmp_path / "corrected.csv"
    fixed.write_bytes(edit_csv("school-batch.csv", correct))
    sign_in(page, "reg1001")
    page.goto("/lang/en?next=/batches/upload")
    page.set_input_files("input[name=file]", str(fixed))
    page.click("main button[type=submit]")
    page.wait_for_url("**/batches/*")
    expect(page.locator("#batch-kind")).to_have_text("Correction")
    expect(page.locator("main table tbody tr[data-record]")).to_have_count(1)
    expect(page.locator("table.diff td.new").first).to_have_text("4")
    shot(page, "11-correction")
    page.click("text=Submit for approval")
    batch_url = page.url
    sign_out(page)

    sign_in(page, "dir1001")
    page.goto(batch_url)
    expect(page.locator("table.diff")).to_contain_text("grade")
    page.click("text=Approve and issue")
    expect(page.locator("#status-label")).to_have_text("Issued", timeout=120_000)
    shot(page, "12-correction-issued")
    sign_out(page)

    page.goto(f"/c/{claim.token}")  # the graduate's link
    expect(page.locator("#claim-status")).to_have_text("Issued")
    rows = page.locator("main table").first.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("2")
    expect(rows.nth(1).locator(".status")).to_have_text("Superseded")
    shot(page, "13-graduate-two-versions")
