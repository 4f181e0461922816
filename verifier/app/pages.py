"""The page the QR opens (``/v``), the OpenAPI document and a health check.

The page works without JavaScript: its two forms POST to ``/v`` (a pasted credential,
or a PDF or picture), so a credential never travels in a URL and never reaches a log,
and the verdict comes back rendered here. A QR opens ``/v#<credential>``: the fragment
never reaches a server, so only the page's script can read it; it takes the fragment
out of the address bar and posts it through the same form. Without scripts a
``<noscript>`` says so and how to go on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from verifier.app import inputs, ratelimit
from verifier.app.openapi import document
from verifier.core.verdict import Result
from verifier.display import badge, checked_at, summary
from verifier.verification import Verifier

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/verifier")

STATUS_MARKS = {"pass": "✓", "fail": "✗", "warn": "!", "indeterminate": "?", "skipped": "–"}
NOTHING_SENT = ("กรุณาวางลิงก์หรือข้อมูลรับรอง หรือเลือกไฟล์",
                "Paste the link or the credential, or choose a file")


@bp.get("/")
def index() -> Response:
    return redirect("/v", code=302)  # type: ignore[return-value]


@bp.get("/v")
@bp.get("/V")  # the compact QR's URL is upper case (alphanumeric mode)
def verify_page() -> str:
    return render_template("verifier/v.html", verdict=None, error=None)


@bp.get("/sd")
def sd_page() -> str:
    """A graduate's selective-disclosure link opens ``/sd#<presentation>``: the same page
    and script as ``/v`` (the fragment is posted in a request body, never logged)."""
    return render_template("verifier/v.html", verdict=None, error=None)


@bp.post("/v")
def verify_form() -> tuple[str, int, dict[str, str]]:
    """The forms' answer: the verdict, or why the input could not be judged."""
    verifier: Verifier | None = current_app.extensions.get("bkt_verifier")
    if verifier is None:
        return _error(503, "ระบบตรวจสอบยังไม่ได้กำหนดใบรับรองหลัก",
                      "The verifier has no pinned root certificate")
    retry_after = ratelimit.exceeded()
    if retry_after is not None:
        return _error(429, "มีคำขอมากเกินไป กรุณาลองใหม่ภายหลัง",
                      "Too many requests; try again later", retry_after)
    try:
        upload = request.files.get("upload")
        credential = request.form.get("credential", "").strip()
    except RequestEntityTooLarge:
        return _error(413, "ไฟล์มีขนาดใหญ่เกินกำหนด", "The upload is too large")
    try:
        if upload is not None and upload.filename:
            judged = inputs.upload(verifier, upload.read())
        elif credential:
            judged = inputs.credential(verifier, credential)
        else:
            return _error(400, *NOTHING_SENT)
    except inputs.Refused as exc:
        return _error(exc.status, exc.message_th, exc.message_en, exc.retry_after)
    return render_template("verifier/v.html", verdict=_view(judged), error=None), 200, {}


def _error(status: int, th: str, en: str, retry_after: int | None = None
           ) -> tuple[str, int, dict[str, str]]:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return (render_template("verifier/v.html", verdict=None, error={"th": th, "en": en}),
            status, headers)


def _view(judged: inputs.Judged) -> dict[str, Any]:
    """What the template shows of a verdict: headline and why (every check that did not
    pass, so a revocation's date and reason or a stale list's cause are never folded
    away), signed data rows, checks."""
    verdict = judged.verdict
    return {
        "why": [{"id": c.id, "th": c.message_th, "en": c.message_en}
                for c in verdict.checks if c.status.value != "pass"],
        "result": verdict.result.value,
        "badge": badge(verdict.result),
        "checked_at": checked_at(datetime.now(UTC)),
        "address": request.host_url.rstrip("/") + "/v",
        "summary": summary(verdict, judged.scope),
        "rows": rows(verdict.data),
        "disclosed": disclosed(verdict.data),
        "open": verdict.result is not Result.VALID,
        "checks": [{"id": c.id, "status": c.status.value, "mark": STATUS_MARKS.get(
            c.status.value, "?"), "th": c.message_th, "en": c.message_en}
            for c in verdict.checks],
    }


def rows(data: dict[str, Any]) -> list[dict[str, str]]:
    """The signed data as labelled rows (Thai value, English value when it differs)."""
    inst = data.get("institution") or {}
    student = data.get("student") or {}
    prog = data.get("programme") or {}
    code = inst.get("code")
    transcript_id, version = data.get("transcript_id"), data.get("version")
    candidates = [
        ("ชื่อ-สกุล", "Name", student.get("name_th"), student.get("name_en")),
        ("สถานศึกษา", "Institution", inst.get("name_th") or inst.get("name_en") or code,
         " ".join(p for p in (inst.get("name_en") if inst.get("name_th") else "",
                              f"({code})" if code else "") if p)),
        ("หลักสูตร", "Programme", prog.get("name_th") or prog.get("code"),
         f"{prog['name_en']} ({prog.get('code')})" if prog.get("name_en")
         else (f"({prog.get('code')})" if prog.get("name_th") else "")),
        ("ผลการเรียนเฉลี่ยสะสม", "Cumulative GPA", data.get("gpa"), None),
        ("วันที่สำเร็จการศึกษา", "Graduation date", data.get("graduation_date_th"),
         data.get("graduation_date_en")),
        ("เลขที่เอกสาร", "Transcript no.",
         f"{transcript_id} ฉบับที่ {version}" if transcript_id else None,
         f"version {version}" if transcript_id else None),
        ("รหัสตรวจสอบ", "Verification code", data.get("verification_code"), None),
        ("วันที่ออกเอกสาร", "Issued", data.get("issued_date_th"), data.get("issued_date_en")),
    ]
    return [{"label_th": th, "label_en": en, "value": value,
             "value_en": value_en if value_en and value_en != value else ""}
            for th, en, value, value_en in candidates if value]


def disclosed(data: dict[str, Any]) -> dict[str, Any] | None:
    """An SD-JWT VC's disclosed terms, courses or modules as lines, and what was withheld;
    None for other verdicts."""
    if data.get("format") != "sd-jwt-vc":
        return None
    items = data.get("disclosed") or {}

    def text(*parts: Any) -> str:
        return " · ".join(str(p) for p in parts if p not in (None, ""))

    def entries(key: str) -> list[dict[str, str]]:
        values = items.get(key)
        return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []

    terms = [{"th": text(f"ปีการศึกษา {t.get('year')} ภาคเรียนที่ {t.get('semester')}",
                         f"หน่วยกิตที่ได้ {t.get('credits_earned')}", f"ผลการเรียนเฉลี่ย {t.get('gpa')}"),
              "en": text(f"{t.get('year')}/{t.get('semester')}",
                         f"credits earned {t.get('credits_earned')}", f"GPA {t.get('gpa')}")}
             for t in entries("terms")]
    courses = [{"th": text(c.get("code"), c.get("name_th"), f"{c.get('year')}/{c.get('semester')}"
                           if c.get("semester") else c.get("year"),
                           f"หน่วยกิต {c['credits']}" if c.get("credits") else
                           (f"{c['hours']} ชั่วโมง" if c.get("hours") else ""),
                           f"ผล {c.get('grade') or c.get('result')}"),
                "en": text(c.get("name_en"))}
               for c in entries("courses") + entries("modules")]
    withheld = list(zip(data.get("withheld_th") or [], data.get("withheld_en") or [],
                        strict=False))
    return {"terms": terms, "courses": courses,
            "withheld": [{"th": th, "en": en} for th, en in withheld]}


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/healthz")
def health() -> Response | tuple[Response, int]:
    verifier = current_app.extensions.get("bkt_verifier")
    if verifier is None:
        return jsonify({"status": "not_configured"}), 503
    keys = verifier.source.keys()
    return jsonify({"status": "ok", "keys": keys.freshness.value,
                    "key_count": len(keys.store.keys)})
