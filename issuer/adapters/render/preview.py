"""The "PREVIEW / ตัวอย่าง" marking on an unsigned transcript shown before approval.

A preview is rendered exactly as the real document, then every page gets a large
diagonal watermark and a banner, so a printed preview cannot pass for a transcript
(it also carries no signature and a QR that verifies nothing).
"""

from __future__ import annotations

from io import BytesIO

import pikepdf
from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from issuer.adapters.render import fonts
from issuer.adapters.render.layout import PAGE_H, PAGE_W

PREVIEW_QR = "PREVIEW - NOT A TRANSCRIPT / ตัวอย่าง - ไม่ใช่เอกสารจริง"
PREVIEW_CODE = "PREVIEW"
_RED = Color(0.8, 0.1, 0.1, alpha=0.28)
_BANNER = Color(0.8, 0.1, 0.1, alpha=0.9)


def _watermark() -> bytes:
    buffer = BytesIO()
    c = Canvas(buffer, pagesize=(PAGE_W, PAGE_H))
    c.saveState()
    c.translate(PAGE_W / 2, PAGE_H / 2)
    c.rotate(52)
    c.setFillColor(_RED)
    c.setFont(fonts.BOLD, 96)
    c.drawCentredString(0, 30, "PREVIEW")
    c.drawCentredString(0, -90, fonts.shaped("ตัวอย่าง", fonts.BOLD, 96))
    c.restoreState()
    c.setFillColor(_BANNER)
    c.setFont(fonts.BOLD, 11)
    banner = fonts.shaped(
        "ตัวอย่าง ยังไม่ได้ลงนาม ใช้แทนระเบียนผลการเรียนไม่ได้ / "
        "PREVIEW - unsigned, not a valid transcript", fonts.BOLD, 11)
    c.drawCentredString(PAGE_W / 2, PAGE_H - 14, banner)
    c.showPage()
    c.save()
    return buffer.getvalue()


def mark_preview(pdf: bytes) -> bytes:
    """`pdf` with the preview watermark drawn over every page."""
    with pikepdf.open(BytesIO(_watermark())) as mark, pikepdf.open(BytesIO(pdf)) as doc:
        overlay = doc.copy_foreign(mark.pages[0].as_form_xobject())
        for page in doc.pages:
            page.add_overlay(overlay)
        doc.docinfo["/Title"] = pikepdf.String("PREVIEW / ตัวอย่าง")
        out = BytesIO()
        doc.save(out)
        return out.getvalue()
