"""Every page of the issuer's URL map, and the verifier's page and a verdict, in headless
Chromium: at a phone's 390 px and a desktop's 1280 px, in Thai and in English, each as the
role that may see it. A page fails on any horizontal overflow (the document scrolling
sideways, or any element reaching past the viewport, also inside a scrolling box) and on
any serious or critical axe-core violation (tests/axe: `make axe`); so are the pages only
a form reaches. The graduate downloads the PDF on a phone. Then the registrar's and the
director's flow with the keyboard only (Tab, Enter, Space), a focus ring on every stop.

The GET routes of ``app.url_map`` are each walked (`pages`) or named in `NOT_PAGES` with
the reason; a new route that is neither fails `test_every_get_route_is_walked_or_named`.
One browser, one issuer with its server and one verifier server for the module; the state
(an issued batch with a reissued transcript, a correction awaiting approval, a rejected
upload, a claim link, two share links, an account with two-step sign-in) is made before
the browser starts (signing runs asyncio, which a running sync Playwright forbids in its
thread: tests/browser.py).
``BKT_SCREENSHOTS=dir`` saves every page at every width and language.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from werkzeug.serving import make_server

from issuer.config import ROOT
from issuer.services import accounts
from issuer.services.context import Issuer
from issuer.services.graduates import create_claim_link, create_share, open_share
from issuer.services.importing import import_batch
from issuer.services.review import submit_batch
from issuer.services.uploads import read_upload, receive
from issuer.web import create_app
from issuer.web.config import WebConfig
from tests.browser import DESKTOP, PHONE, TIMEOUT_MS, expect, launch, shot, skip_or_fail
from tests.e2e.conftest import (
    REGISTRAR,
    edit_csv,
    issue_file,
    make_issuer,
    only_students,
    reissue,
)
from tests.web.conftest import PASSWORD, SETUP, add_accounts
from verifier.app import create_app as create_verifier
from verifier.app.config import VerifierConfig

AXE = ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
LANGUAGES = ("th", "en")
FAILING_IMPACTS = ("serious", "critical")

# GET routes that are not pages a person reads, each with the reason it is not walked.
NOT_PAGES = {
    "index": "redirects to the signed-in person's home page (walked) or to /login (walked)",
    "auth.set_language": "sets the language and redirects back: how the walk changes it",
    "healthz": "JSON for a load balancer",
    "admin.emblem": "a PNG: the emblem shown on the institutions page (walked)",
    "batches.photo": "a JPEG: a student's thumbnail on the batch page (walked)",
    "static": "the stylesheet and script of every page",
    "published.jwks": "JSON for verifiers",
    "published.trust_bundle": "JSON for verifiers",
    "published.status_list": "a signed status list (JWS, VC 2.0 or Token Status List) for "
                             "verifiers",
    "published.did_document": "JSON for verifiers (the VC 2.0 export's DID document)",
    "published.jsonld_context": "a JSON-LD context",
    "published.record_schema": "a JSON Schema",
    "published.audit_checkpoint": "a signed audit checkpoint (JWS)",
    "published.audit_checkpoint_seq": "a signed audit checkpoint (JWS)",
    "admin.audit_csv": "a CSV download",
    "admin.audit_export": "a JSON-lines or CSV download",
    "uploads.errors_csv": "a CSV download",
    "uploads.progress": "JSON the upload page polls",
    "batches.progress": "JSON the batch page polls",
    "batches.previews_zip": "a ZIP download",
    "batches.transcripts_zip": "a ZIP download",
    "batches.preview": "a PDF (opened in the browser's viewer)",
    "transcripts.pdf": "a PDF download",
    "graduates.claim_pdf": "a PDF download",
    "graduates.claim_vc": "a JSON download (the VC 2.0 export)",
    "graduates.share_pdf": "a PDF download (its GET answers the PIN page's form)",
}


@dataclass(frozen=True)
class Page:
    """One page to walk: its path, who signs in to see it (None: nobody), its HTTP status."""

    name: str
    path: str
    who: str | None
    status: int = 200


@dataclass(frozen=True)
class State:
    issuer_url: str
    verifier_url: str
    pages: tuple[Page, ...]
    pdf: Path  # the current version of a transcript, for the verifier
    keyboard_file: Path  # a batch file for the keyboard walk
    bad_file: Path  # a batch file with errors
    paths: dict[str, str]  # pages with a form whose answer is a page of its own
    endpoints: dict[str, str]  # GET endpoint -> its rule
    matcher: Any  # the URL map bound, to tell which endpoint a path reaches


def students(change: Callable[[dict[str, str]], None], *student_ids: str) -> bytes:
    """The sample school file, these students' rows only, `change` applied to each row."""
    lines = edit_csv("school-batch.csv", change).splitlines(keepends=True)
    return lines[0] + b"".join(line for line in lines[1:]
                               if any(f",{sid},".encode() in line for sid in student_ids))


def _serve(app: Any) -> tuple[Any, threading.Thread]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def state(key_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[State]:
    folder = tmp_path_factory.mktemp("every-page")
    issuer: Issuer = make_issuer(f"sqlite:///{folder / 'web.db'}", key_store, folder,
                                 vc_export=True)
    add_accounts(issuer)
    accounts.create_account(issuer, username="otp1001", password=PASSWORD, role="registrar",
                            institution_code="1001", actor=SETUP)
    otp_id = next(a.id for a in accounts.list_accounts(issuer) if a.username == "otp1001")
    secret = accounts.new_totp_secret()
    accounts.enable_totp(issuer, otp_id, secret, pyotp.TOTP(secret).now(), password=PASSWORD,
                         actor=SETUP)

    # issued: two students; 66001 reissued (version 1 superseded, with its reason)
    batch_id, _ = issue_file(issuer, "1001", "school-batch.csv",
                             only_students("school-batch.csv", "66001", "66002"))
    with issuer.uow() as uow:
        ids = {r.student_id: r.transcript_id
               for r in uow.batches.records(uow.batches.get(batch_id))}
    transcript_id = ids["66001"]
    reissue(issuer, transcript_id, reason="the student's name was misspelt")
    with issuer.uow() as uow:
        pdf = issuer.settings.output_dir / uow.transcripts.latest(transcript_id).pdf_path
    claim = create_claim_link(issuer, transcript_id, actor=REGISTRAR)
    open_share_token = create_share(issuer, claim.token, ip="127.0.0.1",
                                    label="บริษัท ตัวอย่าง จำกัด (มหาชน)").token
    pin_share_token = create_share(issuer, claim.token, ip="127.0.0.1", label="ACME Co.",
                                   pin="4321").token
    open_share(issuer, open_share_token, ip="203.0.113.7")  # a line in the access log

    # awaiting approval: a correction of 66002's grades, its differences side by side
    def lower(row: dict[str, str]) -> None:
        if row["record_type"] == "course" and row["grade"] == "3":
            row["grade"] = "2.5"

    waiting = import_batch(issuer, "1001", "corrected.csv", students(lower, "66002"),
                           actor=REGISTRAR).batch_id
    submit_batch(issuer, waiting, actor=REGISTRAR)

    # rejected upload: grades out of range, a missing name, a long Thai file name
    def spoil(row: dict[str, str]) -> None:
        if row["record_type"] == "course" and row["code"].startswith("ท"):
            row["grade"] = "5"
        if row["student_id"] == "66004":
            row["first_name_th"] = ""

    upload_id, _ = receive(issuer, "1001", "ผลการเรียน-ภาคเรียนที่2-ปีการศึกษา2568.csv",
                           students(spoil, "66003", "66004"), actor=REGISTRAR)
    read_upload(issuer, upload_id, actor=REGISTRAR)

    bad_file = folder / "corrected.csv"
    bad_file.write_bytes(students(spoil, "66001"))
    keyboard_file = folder / "vocational.csv"
    keyboard_file.write_bytes(only_students("vocational-batch.csv", "69-1001"))

    app = create_app(issuer=issuer, config=WebConfig(
        secret_key="every page", secure_cookies=False, issue_workers=0,
        ratelimit_enabled=False))
    server, thread = _serve(app)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BKT_WEB"] = replace(app.config["BKT_WEB"], public_base_url=base)
    published = issuer.settings.published_dir
    verifier = create_verifier(VerifierConfig(
        roots=(key_store / "root.crt",), jwks=str(published / ".well-known" / "jwks.json"),
        status=str(published / "status"), ratelimit_enabled=False))
    vserver, vthread = _serve(verifier)

    pages = (
        Page("login", "/login", None),
        Page("login-code", "/login/code", "otp1001"),
        Page("claim", f"/c/{claim.token}", None),
        Page("claim-invalid", "/c/not-a-valid-token", None, 404),
        Page("share-pin", f"/s/{pin_share_token}", None),
        Page("share", f"/s/{open_share_token}", None),
        Page("batches", "/batches", "reg1001"),
        Page("batches-approver", "/batches", "dir1001"),
        Page("upload", "/batches/upload", "reg1001"),
        Page("upload-errors", f"/uploads/{upload_id}", "reg1001"),
        Page("batch-issued", f"/batches/{batch_id}", "reg1001"),
        Page("batch-awaiting", f"/batches/{waiting}", "dir1001"),
        Page("transcripts", "/transcripts", "reg1001"),
        Page("transcript", f"/transcripts/{transcript_id}", "reg1001"),
        Page("transcript-pending", f"/transcripts/{ids['66002']}", "dir1001"),
        Page("not-found", "/transcripts/1001-0000-000000", "reg1001", 404),
        Page("account", "/account", "reg1001"),
        Page("admin", "/admin/", "admin"),
        Page("admin-institutions", "/admin/institutions", "admin"),
        Page("admin-accounts", "/admin/accounts", "admin"),
        Page("admin-keys", "/admin/keys", "admin"),
        Page("admin-audit", "/admin/audit", "admin"),
    )
    endpoints = {r.endpoint: r.rule for r in app.url_map.iter_rules()
                 if "GET" in (r.methods or ())}
    try:
        yield State(base, f"http://127.0.0.1:{vserver.server_port}", pages, pdf,
                    keyboard_file, bad_file, {
                        "reissued": f"/transcripts/{transcript_id}",
                        "other": f"/transcripts/{ids['66002']}",
                        "pin_share": f"/s/{pin_share_token}"},
                    endpoints, app.url_map.bind("127.0.0.1"))
    finally:
        for s, t in ((server, thread), (vserver, vthread)):
            s.shutdown()
            t.join(5)
        app.extensions["bkt_jobs"].worker.stop(60)


@pytest.fixture(scope="module")
def headless(state: State) -> Iterator[Any]:  # after `state`: its signing runs asyncio
    with launch() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        skip_or_fail("axe-core is not installed: make axe (npm ci in tests/axe)")
    return AXE.read_text(encoding="utf-8")


def _context(headless: Any, base: str) -> Any:
    context = headless.new_context(base_url=base, viewport=PHONE, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    if username == "otp1001":
        page.wait_for_url("**/login/code")
    else:
        page.wait_for_url(lambda url: "/login" not in url)


# Overflow: the document, and every element reaching past the viewport (also inside a box
# that scrolls: the graduate's download out of sight in a table's scrolling box was the
# bug), except where an ancestor clips it away (overflow hidden, as a visually hidden
# table header). A table cell of a dozen characters in 3 lines or more, narrower than 6 em,
# is squeezed (the errors' problem column was 1 to 3 characters a line).
OVERFLOW = """() => {
  const root = document.scrollingElement, width = root.clientWidth;
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX;
      if (x === "hidden" || x === "clip") return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if ((box.right > width + 0.5 || box.left < -0.5) && !clipped(el)) {
      const parent = el.parentElement && el.parentElement.getBoundingClientRect();
      if (parent && (parent.right > width + 0.5 || parent.left < -0.5)) continue;
      const id = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (typeof el.className
        === "string" && el.className ? "." + el.className.trim().replace(/\\s+/g, ".") : "");
      wide.push(`${id} [${Math.round(box.left)}..${Math.round(box.right)}] `
        + JSON.stringify((el.innerText || "").slice(0, 40)));
    }
  }
  const squeezed = [];  // a cell of a dozen characters or more in 3+ lines under 6 em
  for (const cell of document.querySelectorAll("td, th")) {
    const box = cell.getBoundingClientRect(), text = (cell.innerText || "").trim();
    const style = getComputedStyle(cell), em = parseFloat(style.fontSize);
    const range = document.createRange();  // the text's height, not the row's
    range.selectNodeContents(cell);
    const lines = range.getBoundingClientRect().height / (parseFloat(style.lineHeight) || 1.6 * em);
    if (box.width > 0 && text.length >= 12 && !clipped(cell) && box.width < 6 * em
        && lines > 2.5) squeezed.push(`${JSON.stringify(text.slice(0, 30))} ${Math.round(
          box.width)} px, ${Math.round(lines)} lines`);
  }
  return {scrollWidth: root.scrollWidth, clientWidth: width, wide: wide.slice(0, 8),
          squeezed: squeezed.slice(0, 4)};
}"""


def problems(page: Any, axe_source: str) -> list[str]:
    """What is wrong with the page as shown: overflow, then serious axe violations."""
    found = []
    layout = page.evaluate(OVERFLOW)
    if layout["scrollWidth"] > layout["clientWidth"]:
        found.append(f"the document scrolls sideways: {layout['scrollWidth']} px wide in "
                     f"{layout['clientWidth']}")
    found += [f"past the viewport: {w}" for w in layout["wide"]]
    found += [f"a cell squeezed to a few characters a line: {c}" for c in layout["squeezed"]]
    if not page.evaluate("() => typeof axe === 'object'"):
        page.evaluate(axe_source)  # not add_script_tag: the page's CSP would refuse it
    result = page.evaluate("async () => (await axe.run(document)).violations")
    for v in result:
        if v["impact"] in FAILING_IMPACTS:
            nodes = "; ".join(" ".join(n["target"]) for n in v["nodes"][:4])
            found.append(f"axe {v['impact']} {v['id']}: {v['help']} ({nodes})")
    return found


# English on a Thai page: a run of three or more Latin words in visible text that no
# element marks as English (lang="en": the bilingual labels, English names) or as data
# not to translate (translate="no": file names, reasons in the registrar's words, a
# certificate's subject, audit details; <code>: commands).
ENGLISH = """() => {
  const found = [], words = /[A-Za-z][a-z]+(?:[\\s,;:.'()-]+[A-Za-z][a-z]+){2,}/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement, text = node.textContent.trim();
    if (!el || !text || !words.test(text)) continue;
    if (el.closest("script, style, code, [hidden], [aria-hidden=true], [translate=no]")) continue;
    if ((el.closest("[lang]") || document.documentElement).lang.startsWith("en")) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    found.push(text.slice(0, 60));
  }
  return found;
}"""


def english_on_thai(page: Any) -> list[str]:
    """Visible English that a Thai page shows as its own words (not marked lang="en")."""
    return [f"English on the Thai page: {t!r}" for t in page.evaluate(ENGLISH)]


def walk(page: Any, name: str, lang: str, axe_source: str) -> list[str]:
    """The page at both widths: what is wrong at each; on a Thai page, English."""
    found = [f"{name}: {e}" for e in english_on_thai(page)] if lang == "th" else []
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        found += [f"{name} {lang} {width}: {p}" for p in problems(page, axe_source)]
        shot(page, f"pages/{name}-{lang}-{width}")
    return found


def test_every_get_route_is_walked_or_named(state: State) -> None:
    walked = {state.matcher.match(p.path.split("?")[0])[0]
              for p in state.pages if p.status == 200}
    unknown = set(state.endpoints) - walked - set(NOT_PAGES)
    assert not unknown, f"GET routes neither walked nor in NOT_PAGES: " \
        f"{ {e: state.endpoints[e] for e in unknown} }"
    assert not walked & set(NOT_PAGES), "a walked route is also named as not a page"
    assert set(NOT_PAGES) <= set(state.endpoints), "NOT_PAGES names a route that is gone"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_issuer_page_fits_a_phone_and_passes_axe(state: State, headless: Any,
                                                       axe_source: str, lang: str) -> None:
    found: list[str] = []
    by_person: dict[str | None, list[Page]] = {}
    for p in state.pages:
        by_person.setdefault(p.who, []).append(p)
    for who, pages in by_person.items():
        context = _context(headless, state.issuer_url)
        page = context.new_page()
        page.goto(f"/lang/{lang}?next=/login")
        if who:
            sign_in(page, who)
        for p in pages:
            response = page.goto(p.path)
            assert response.status == p.status, f"{p.name}: {p.path} answered {response.status}"
            assert page.evaluate("() => document.documentElement.lang") == lang, p.name
            found += walk(page, p.name, lang, axe_source)
        context.close()
    assert not found, "\n".join(found)


def test_the_verifier_page_and_a_verdict_fit_a_phone_and_pass_axe(
        state: State, headless: Any, axe_source: str) -> None:
    """The verifier's page shows Thai and English together: walked once per width."""
    context = _context(headless, state.verifier_url)
    page = context.new_page()
    page.goto("/v")
    found = walk(page, "verifier", "th-en", axe_source)
    page.set_viewport_size(PHONE)
    page.set_input_files("#upload", str(state.pdf))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#verdict")).to_be_visible()
    found += walk(page, "verdict", "th-en", axe_source)
    context.close()
    assert not found, "\n".join(found)


def test_the_graduate_downloads_the_pdf_on_a_phone(state: State, headless: Any) -> None:
    """The claim link on a 390 px phone: the current version's Download, a button within
    the screen's width, gives the signed PDF; nothing scrolls sideways."""
    claim = next(p.path for p in state.pages if p.name == "claim")
    context = _context(headless, state.issuer_url)
    page = context.new_page()
    page.goto(claim)
    button = page.locator("main table td.action a").first
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["height"] >= 44  # a finger's size
    with page.expect_download() as download:
        button.click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-1.7")
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_graduate_shares_selected_fields_on_a_phone(state: State, headless: Any,
                                                        axe_source: str, lang: str) -> None:
    """The claim page's "share selected fields" on a 390 px phone: tick a course and the
    GPAX, make the link; the page with the link, and the verifier's verdict on it (only
    what was ticked, the rest listed as withheld), fit the screen and pass axe."""
    claim = next(p.path for p in state.pages if p.name == "claim")
    context = _context(headless, state.issuer_url)
    page = context.new_page()
    page.goto(f"/lang/{lang}?next=/login")
    page.goto(claim)
    page.check("#sd-form input[value='gpa']")
    page.check("#sd-form input[value='courses.1']")
    page.click("#sd-form button[value=link]")
    expect(page.locator("#selected-link")).to_be_visible()
    found = walk(page, "share-selected", lang, axe_source)
    link = page.input_value("#selected-link")
    context.close()
    if lang == LANGUAGES[0]:  # the verifier's page is Thai and English at once
        context = _context(headless, state.verifier_url)
        page = context.new_page()
        page.goto("/sd#" + link.split("#", 1)[1])
        expect(page.locator("#verdict")).to_have_attribute("data-result", "VALID")
        expect(page.locator("#disclosed-courses li")).to_have_count(1)
        expect(page.locator("#withheld")).to_be_visible()
        found += walk(page, "sd-verdict", "th-en", axe_source)
        context.close()
    assert not found, "\n".join(found)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_pages_that_answer_a_form_fit_a_phone_and_pass_axe(
        state: State, headless: Any, axe_source: str, lang: str) -> None:
    """Pages no GET reaches: a new claim link, a new account's password, a corrected file's
    errors, a PIN-protected share once opened."""
    found = []
    context = _context(headless, state.issuer_url)
    page = context.new_page()
    page.goto(f"/lang/{lang}?next=/login")
    page.goto(state.paths["pin_share"])
    page.fill("input[name=pin]", "4321")
    page.click("main button[type=submit]")
    expect(page.locator("#download-pdf")).to_be_visible()
    found += walk(page, "share-after-pin", lang, axe_source)

    sign_in(page, "reg1001")
    page.goto(state.paths["other"])
    page.click("form[action$='/claim-link'] button")
    expect(page.locator("#claim-url")).to_be_visible()
    found += walk(page, "claim-link", lang, axe_source)
    page.goto(state.paths["reissued"])
    page.fill("form[action$='/reissue'] input[name=reason]", "grades corrected")
    page.set_input_files("form[action$='/reissue'] input[type=file]", str(state.bad_file))
    page.click("form[action$='/reissue'] button[type=submit]")
    expect(page.locator("main table.errors")).to_be_visible()
    found += walk(page, "reissue-errors", lang, axe_source)
    context.close()

    context = _context(headless, state.issuer_url)
    page = context.new_page()
    page.goto(f"/lang/{lang}?next=/login")
    sign_in(page, "admin")
    page.goto("/admin/accounts")
    page.fill("input[name=username]", f"new-registrar-{lang}")
    page.select_option("select[name=role]", "registrar")
    page.select_option("select[name=institution]", "1001")
    page.click("form.grid button[type=submit]")
    expect(page.locator("#new-password")).to_be_visible()
    found += walk(page, "new-password", lang, axe_source)
    context.close()
    assert not found, "\n".join(found)


FOCUSED = """(selector) => {
  const el = document.activeElement, style = el && getComputedStyle(el);
  return {match: !!el && el.matches(selector), tag: el ? el.outerHTML.slice(0, 80) : "",
          ring: !!style && ((style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
                            || style.boxShadow !== "none")};
}"""


def tab_to(page: Any, selector: str, *, limit: int = 40) -> None:
    """Press Tab until the focus is on `selector`; every stop on the way shows a ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED, selector)
        assert focused["ring"], f"no visible focus on {focused['tag']}"
        if focused["match"]:
            return
    raise AssertionError(f"{selector} not reached with {limit} Tabs")


def test_a_batch_from_sign_in_to_approval_with_the_keyboard_only(
        state: State, headless: Any) -> None:
    """A registrar signs in, uploads a file, submits the batch; the director signs in and
    approves it: Tab, Enter and Space only (and typing into the fields)."""
    context = _context(headless, state.issuer_url)
    page = context.new_page()

    def sign_in_by_keyboard(username: str) -> None:
        page.goto("/login")
        # autofocus: applied at a rendering step that may come after the load event
        expect(page.locator("input[name=username]")).to_be_focused()
        page.keyboard.type(username)
        tab_to(page, "input[name=password]")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/batches")

    sign_in_by_keyboard("reg2001")
    tab_to(page, "main a[href$='/batches/upload']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/batches/upload")
    tab_to(page, "input[type=file]")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(state.keyboard_file))
    tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/batches/\d+$"), timeout=120_000)  # read by the worker
    expect(page.locator("#status-label")).to_have_class(re.compile("s-imported"))
    batch_path = urlsplit(page.url).path
    tab_to(page, f"form[action='{batch_path}/submit'] button")
    page.keyboard.press("Space")
    expect(page.locator("#status-label")).to_have_class(re.compile("s-submitted"))
    tab_to(page, "header form button")  # sign out
    page.keyboard.press("Enter")
    page.wait_for_url("**/login")

    sign_in_by_keyboard("dir2001")
    tab_to(page, f".queue a[href='{batch_path}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{batch_path}")
    tab_to(page, f"form[action='{batch_path}/approve'] button")
    page.keyboard.press("Space")
    expect(page.locator("#status-label")).to_have_class(re.compile("s-issued"), timeout=120_000)
    context.close()
