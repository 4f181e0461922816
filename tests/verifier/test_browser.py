"""The verifier page in headless Chromium against the real service: gunicorn serving
``wsgi:verifier``, configured only through the environment, as the README starts it --
the pinned root of the test PKI and the JWKS and status lists the issuer's writers
published (tests/verifier/conftest.py).

A scan opens ``{base}/v#{credential}``: the page's script posts the fragment through
its form and the verdict page shows what to compare with the paper. A PDF goes through
the page's file input. With JavaScript off the same forms work (POST), and a QR's link
says why it needs a script. Phone-sized (390x844) unless said otherwise; the access and
error logs never hold the credential (the fragment is not sent; the forms send it in a
POST body). Skipped without Chromium unless ``BKT_REQUIRE_BROWSER=1`` (tests/browser.py).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from issuer.config import ROOT
from issuer.pipeline import IssuedDocument
from tests.attacks import forge
from tests.attacks.conftest import forged_text
from tests.browser import DESKTOP, expect, launch, new_page, shot
from tests.compact_forge import raise_gpa
from tests.e2e.test_serve import free_port, wait_for
from tests.factories import SCHOOL
from tests.verifier.conftest import BASE_URL, Documents
from verifier.core.credential import verification_code


@dataclass(frozen=True)
class LiveVerifier:
    url: str
    access_log: Path
    error_log: Path

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in (self.access_log, self.error_log) if p.exists())


@pytest.fixture(scope="module")
def live(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveVerifier]:
    folder = tmp_path_factory.mktemp("verifier-logs")
    port = free_port()
    served = LiveVerifier(f"http://127.0.0.1:{port}", folder / "access.log", folder / "error.log")
    env = os.environ | {
        "BKT_VERIFIER_ROOTS": str(published / "root.crt"),
        "BKT_VERIFIER_JWKS": str(published / ".well-known" / "jwks.json"),
        "BKT_VERIFIER_STATUS": str(published / "status"),
        "BKT_VERIFIER_RATELIMIT": "600 per minute",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "--access-logfile", str(served.access_log),
         "--error-logfile", str(served.error_log), "--log-level", "debug", "wsgi:verifier"],
        cwd=ROOT, env=env, start_new_session=True)
    try:
        assert wait_for(f"{served.url}/healthz") == 200
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="module")
def chromium(documents: Documents, live: LiveVerifier) -> Iterator[object]:
    """One headless Chromium for this module (tests/conftest.py's is per test): every
    test here opens its pages in a context of its own (`new_page`: own cookies), and
    nothing here signs once it runs (the documents and the server come first)."""
    with launch() as browser:
        yield browser


def scan(chromium, live: LiveVerifier, credential: str, **options):  # type: ignore[no-untyped-def]
    """Open the QR's URL, as a phone camera does, and wait for the verdict."""
    page = new_page(chromium, live.url, **options)
    page.goto(f"/v#{credential}")
    expect(page.locator("#verdict")).to_be_visible()
    return page


def upload(chromium, live: LiveVerifier, pdf: Path, **options):  # type: ignore[no-untyped-def]
    page = new_page(chromium, live.url, **options)
    page.goto("/v")
    page.set_input_files("#upload", str(pdf))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#verdict")).to_be_visible()
    return page


def data_shown(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The signed data on the page: English label -> the value as shown (Thai and English)."""
    labels = page.locator("#data dt .en").all_inner_texts()
    values = ["\n".join(line for line in v.splitlines() if line.strip())
              for v in page.locator("#data dd").all_inner_texts()]
    return dict(zip(labels, values, strict=True))


def fonts_of(page, selector: str) -> set[str]:  # type: ignore[no-untyped-def]
    """The families Chromium actually drew the element's text with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return {f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode",
                                              {"nodeId": node})["fonts"]}


def stylesheet_fonts() -> set[str]:
    """The families the page's stylesheet names for its body text."""
    css = (ROOT / "verifier" / "app" / "static" / "verify.css").read_text()
    stack = re.search(r"body\s*{[^}]*font:\s*[\d.]+px/[\d.]+\s+([^;]+);", css)
    assert stack, "no font stack in verify.css"
    return {name.strip().strip('"') for name in stack.group(1).split(",")}


def failing_checks(page) -> set[str]:  # type: ignore[no-untyped-def]
    return set(page.locator("#checks li.fail").evaluate_all(
        "items => items.map(li => li.dataset.check)"))


def save(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_never_logged(live: LiveVerifier, *credentials: str) -> None:
    logs = live.logs()
    assert "GET /v HTTP" in logs and "POST /v HTTP" in logs  # the log works
    for credential in credentials:
        middle = len(credential) // 2
        for part in (credential[-24:], credential[middle:middle + 24]):
            assert part not in logs


# --- the QR path ---------------------------------------------------------------------------


def test_a_school_credential_scans_valid(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                                         documents: Documents) -> None:
    page = scan(chromium, live, documents.school.credential)
    expect(page.locator("#result")).to_have_class("result ok")
    # A QR proves the credential, not the paper: the verdict says so, never "unchanged".
    expect(page.locator("#result-en")).to_have_text(
        "This credential is genuine: compare its data with the paper")
    expect(page.locator("#result-th")).to_contain_text("โปรดเทียบข้อมูลกับเอกสาร")
    expect(page.locator("#compare")).to_contain_text("verification code")
    assert "unchanged" not in page.locator("main").inner_text()
    assert page.url == f"{live.url}/v"  # the credential left the address bar
    # Thai drawn by a Thai font the stylesheet names, not a fallback's empty boxes
    # (Debian: fonts-thai-tlwg, which `make test` installs).
    # (The space between Thai clauses may come from the Latin system font.)
    thai = fonts_of(page, "#result-th")
    latin = fonts_of(page, "#result-en")
    assert thai & stylesheet_fonts() and thai - stylesheet_fonts() <= latin, \
        f"Thai drawn with {thai}: no Thai font?"
    shown = data_shown(page)
    record = documents.school.record
    person = record.record.student.name
    assert shown["Name"].splitlines() == [f"{person.first_name_th} {person.last_name_th}",
                                          f"{person.first_name_en} {person.last_name_en}"]
    assert shown["Programme"].splitlines() == [
        record.record.programme.name_th,
        f"{record.record.programme.name_en} ({record.record.programme.code})"]
    assert shown["Cumulative GPA"] == format(record.summary.gpa, "f")
    assert shown["Graduation date"].splitlines() == ["31 มีนาคม พ.ศ. 2569", "31 March 2026"]
    assert shown["Institution"].splitlines() == [SCHOOL.name_th, f"{SCHOOL.name_en} (1001)"]
    assert record.transcript_id in shown["Transcript no."]
    assert shown["Verification code"] == verification_code(documents.school.record_digest)
    expect(page.locator("#details")).not_to_have_attribute("open", "")  # folded when VALID
    assert page.locator("#checks li.pass").count() == page.locator("#checks li").count()
    shot(page, "verifier-valid-phone")
    assert_never_logged(live, documents.school.credential)


def test_a_vocational_credential_scans_valid(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                                             documents: Documents) -> None:
    page = scan(chromium, live, documents.vocational.credential)
    expect(page.locator("#result-en")).to_contain_text("genuine")
    shown = data_shown(page)
    record = documents.vocational.record
    person = record.record.student.name
    assert f"{person.first_name_th} {person.last_name_th}" in shown["Name"]
    assert person.first_name_en in shown["Name"]
    assert "IND-AC200" in shown["Programme"]
    assert record.record.programme.name_th in shown["Programme"]
    assert "Cumulative GPA" not in shown  # a certificate of hours has no GPA
    assert shown["Graduation date"].splitlines() == ["20 มีนาคม พ.ศ. 2569", "20 March 2026"]
    assert "3001" in shown["Institution"]
    assert_never_logged(live, documents.vocational.credential)


def test_the_upper_case_qr_url_scans_valid(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                                           documents: Documents) -> None:
    """The compact credential's QR opens ``/V#BKT1:<digits>`` (alphanumeric mode)."""
    page = new_page(chromium, live.url)
    page.goto(f"/V#{documents.school.credential}")
    expect(page.locator("#verdict")).to_be_visible()
    expect(page.locator("#result")).to_have_class("result ok")
    assert page.url == f"{live.url}/v"  # the credential left the address bar (form: /v)
    logs, credential = live.logs(), documents.school.credential
    assert "GET /V HTTP" in logs and "BKT1" not in logs
    assert credential[-24:] not in logs


def test_a_tampered_credential_is_invalid(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                                          documents: Documents) -> None:
    """The GPA raised in the payload, header and signature kept."""
    forged = raise_gpa(documents.school.credential)
    page = scan(chromium, live, forged)
    expect(page.locator("#result")).to_have_class("result bad")
    expect(page.locator("#result-en")).to_contain_text("Invalid")
    assert failing_checks(page) == {"credential_signature"}
    expect(page.locator("#checks li[data-check=credential_signature]")).to_contain_text(
        "signature is not valid")
    expect(page.locator("#details")).to_have_attribute("open", "")  # unfolded: the reason
    expect(page.locator("#data")).to_be_hidden()  # nothing unsigned is shown as data
    assert "4.00" not in page.locator("main").inner_text()
    shot(page, "verifier-invalid-phone")
    assert_never_logged(live, forged)


def test_a_revoked_credential(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                              documents: Documents) -> None:
    page = scan(chromium, live, documents.revoked.credential)
    expect(page.locator("#result")).to_have_class("result revoked")
    expect(page.locator("#result-en")).to_contain_text("Revoked")
    assert failing_checks(page) == {"not_revoked"}
    expect(page.locator("#checks li[data-check=not_revoked]")).to_contain_text("revoked")
    assert documents.revoked.record.transcript_id in data_shown(page)["Transcript no."]


def test_the_verdict_is_a_heading_read_first(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                                             documents: Documents) -> None:
    """Heading navigation finds the verdict; the page starts there (focus) and says it as
    a status; its word and icon say what the colour says; the two forms' buttons have
    names of their own."""
    page = scan(chromium, live, documents.school.credential)
    heading = page.get_by_role("heading", name=re.compile("This credential is genuine"))
    expect(heading).to_have_count(1)
    expect(heading).to_be_focused()
    expect(page.get_by_role("status")).to_contain_text("ถูกต้อง VALID")
    expect(page.locator("#badge .icon")).to_have_text("✓")
    for name in ("ตรวจสอบลิงก์ Verify the link", "ตรวจสอบไฟล์ Verify the file"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(1)


@pytest.mark.parametrize(("how", "verdict", "headline"), [
    ("qr", "VALID", "This credential is genuine"),
    ("revoked", "REVOKED", "revoked"),
    ("pdf", "VALID", "this PDF was issued by the BMA and is unchanged"),
])
def test_a_printed_verdict_is_one_a4_page_to_file(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                                                  documents: Documents, tmp_path: Path,
                                                  how: str, verdict: str,
                                                  headline: str) -> None:
    """What an HR office files: the verdict, the signed data, every check (unfolded), when
    and where it was checked and the transcript ID, on one A4 page without the forms;
    also for a revoked transcript and for the PDF's verdict, which has the most checks."""
    if how == "pdf":
        doc = documents.school
        page = upload(chromium, live, save(tmp_path, "transcript.pdf", doc.pdf),
                      viewport=DESKTOP)
    else:
        doc = documents.school if how == "qr" else documents.revoked
        page = scan(chromium, live, doc.credential, viewport=DESKTOP)
    checks = page.locator("#checks li .en").all_inner_texts()
    pdf = save(tmp_path, "verdict.pdf", page.pdf(format="A4", print_background=True))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    text = " ".join(subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert len(checks) >= 4 and all(" ".join(c.split()) in text for c in checks)
    for shown in (verdict, headline, "Checked on", f"{live.url}/v", doc.record.transcript_id):
        assert shown in text, shown
    assert "Paste the QR code" not in text and "Upload the PDF" not in text


# --- the PDF path ------------------------------------------------------------------------------


def test_a_good_pdf_uploads_valid(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                                  documents: Documents, tmp_path: Path) -> None:
    page = upload(chromium, live, save(tmp_path, "transcript.pdf", documents.school.pdf))
    expect(page.locator("#result-en")).to_have_text(
        "Valid: this PDF was issued by the BMA and is unchanged")
    shown = data_shown(page)
    record = documents.school.record
    assert record.institution.name_th in shown["Institution"]  # from the signed record
    assert record.record.programme.name_en in shown["Programme"]
    assert shown["Cumulative GPA"] == format(record.summary.gpa, "f")
    assert "พ.ศ. 2569" in shown["Graduation date"]
    ids = page.locator("#checks li").evaluate_all("items => items.map(li => li.dataset.check)")
    assert {"pdf_signature", "record_digest", "credential_signature", "printed_qr"} <= set(ids)
    assert shown["Verification code"] == verification_code(documents.school.record_digest)


def _changed_after_signing(doc: IssuedDocument) -> bytes:
    """An incremental update after %%EOF rewriting the page's GPA (same object number)."""
    return forge.change_page_text(doc.pdf, *forged_text(doc))


def _flipped_in_signed_range(doc: IssuedDocument) -> bytes:
    """One bit of the binary comment on line 2, inside the first signed byte range."""
    data = bytearray(doc.pdf)
    assert data[9] == ord("%") and forge.layout(doc.pdf).len1 > 10
    data[10] ^= 1
    return bytes(data)


@pytest.mark.parametrize(("tamper", "caught"), [
    (_changed_after_signing, "pdf_unmodified"),
    (_flipped_in_signed_range, "pdf_signature"),
])
def test_a_tampered_pdf_uploads_invalid(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                                        documents: Documents, tmp_path: Path,
                                        tamper, caught: str) -> None:
    forged = save(tmp_path, "transcript.pdf", tamper(documents.school))
    page = upload(chromium, live, forged)
    expect(page.locator("#result-en")).to_contain_text("Invalid")
    assert caught in failing_checks(page)
    expect(page.locator(f"#checks li[data-check={caught}]")).to_be_visible()


# --- layout ------------------------------------------------------------------------------------


def _overflow(page) -> int:  # type: ignore[no-untyped-def]
    """How far the page is wider than the viewport (0: no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_phone_and_desktop_without_horizontal_scrolling(  # type: ignore[no-untyped-def]
    chromium, live: LiveVerifier, documents: Documents
) -> None:
    """Long Thai names and the check list fit a 390 px phone; the desktop view too."""
    for credential, name in ((documents.school.credential, "phone"),
                             (documents.vocational.credential, "phone-vocational")):
        page = scan(chromium, live, credential)
        page.click("#details summary")  # the unfolded check list too
        assert _overflow(page) <= 0
        assert page.evaluate("window.innerWidth") == 390
        shot(page, f"verifier-valid-{name}-checks")
    page = scan(chromium, live, documents.school.credential, viewport=DESKTOP)
    assert _overflow(page) <= 0
    shot(page, "verifier-valid-desktop")


# --- JavaScript off ----------------------------------------------------------------------------


def test_without_javascript_the_forms_reach_a_verdict(  # type: ignore[no-untyped-def]
    chromium, live: LiveVerifier, documents: Documents, tmp_path: Path
) -> None:
    """Pasting the QR's link and uploading the PDF both POST; nothing in a URL or a log."""
    page = new_page(chromium, live.url, java_script_enabled=False)
    page.goto("/v")
    page.fill("#credential", f"{BASE_URL}/v#{documents.vocational.credential}")
    page.click("#paste-form button[type=submit]")
    expect(page.locator("#verdict")).to_be_visible()
    expect(page.locator("#result-en")).to_contain_text("genuine")
    assert page.url == f"{live.url}/v"
    assert "Nattawut Thongprasert" in data_shown(page)["Name"]
    assert _overflow(page) <= 0
    shot(page, "verifier-nojs-paste-phone")
    pdf = upload(chromium, live, save(tmp_path, "t.pdf", documents.school.pdf),
                 java_script_enabled=False)
    expect(pdf.locator("#result-en")).to_contain_text("this PDF")
    assert_never_logged(live, documents.vocational.credential, documents.school.credential)


def test_without_javascript_a_qr_link_says_why(chromium, live: LiveVerifier,  # type: ignore[no-untyped-def]
                                               documents: Documents) -> None:
    page = new_page(chromium, live.url, java_script_enabled=False)
    page.goto(f"/v#{documents.revoked.credential}")
    expect(page.locator("#noscript")).to_be_visible()
    expect(page.locator("#noscript")).to_contain_text("needs JavaScript")
    expect(page.locator("#verdict")).to_have_count(0)
    assert _overflow(page) <= 0
    assert_never_logged(live, documents.revoked.credential)
