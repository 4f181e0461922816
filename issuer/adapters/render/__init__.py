"""Transcript PDFs: ปพ.1 (school) or certificate + course transcript (vocational).

`render_transcript` draws an unsigned A4 PDF/A-3B candidate (fonts embedded, XMP, sRGB
output intent, version 1.7); `attach_files` adds `transcript.json` and `credential.jws` as
associated files; the result is what the PDF-signing step signs.
"""

from __future__ import annotations

from io import BytesIO

from issuer.adapters.render import fonts, pdfa, qr, school, vocational
from issuer.adapters.render.layout import PAGE_H, PAGE_W, Footer, Sheet
from issuer.adapters.render.pictures import Images, MissingImage
from issuer.core.records import InstitutionKind, TranscriptRecord
from verifier.core.compact import is_compact
from verifier.core.credential import QR_PATH, verification_code

__all__ = ["Images", "MissingImage", "attach_files", "render_transcript", "verification_code",
           "warm_up"]


def warm_up() -> None:
    """Load PyThaiNLP's word list (~0.4 s) now rather than in the first vocational render.

    Optional: call it once when a worker process starts.
    """
    from issuer.adapters.render import thai

    thai.words("ประกาศนียบัตรฉบับนี้ให้ไว้เพื่อแสดงว่า")


def _verifier_url(qr_content: str) -> str:
    """The verifier's address as printed on the page (lower case: the QR's compact URL
    spells scheme and host in upper case for alphanumeric mode)."""
    for path in (QR_PATH, QR_PATH.upper()):
        if path in qr_content:
            base = qr_content.split(path, 1)[0]
            break
    else:
        base = qr_content.split("#", 1)[0]
    scheme, sep, rest = base.partition("://")
    host, slash, tail = rest.partition("/")
    return scheme.lower() + sep + host.lower() + slash + tail if sep else base


def render_transcript(record: TranscriptRecord, qr_content: str, verification_code: str,
                      images: Images | None = None) -> bytes:
    """A4 PDF of the transcript (school ปพ.1 or vocational certificate by
    record.institution.kind), PDF/A-3 ready, NOT yet carrying attachments.

    `images` holds the photo and emblem the record names, by digest; MissingImage if the
    record names one that is not there or does not match its digest."""
    sheet = Sheet(images=images)
    if record.institution.kind is InstitutionKind.VOCATIONAL:
        vocational.layout(sheet, record)
        kind_th, kind_en = "ประกาศนียบัตรและผลการฝึกอาชีพ", "Vocational certificate"
    else:
        school.layout(sheet, record)
        kind_th, kind_en = "ระเบียนแสดงผลการเรียน ปพ.1", "Transcript (Por Por 1)"
    inst = record.institution
    name = record.record.student.name
    symbol = qr.encode(qr_content)
    footer = Footer(
        symbol=symbol,
        qr_ops=qr.operators(symbol),
        verification_code=verification_code,
        transcript_id=record.transcript_id,
        version=record.version,
        verifier_url=_verifier_url(qr_content),
        issuer_th=inst.name_th,
        issuer_en=inst.name_en,
    )
    info = pdfa.DocInfo(
        title=f"{kind_th} {name.full_name_th} / {kind_en} {name.full_name_en}",
        author=f"{inst.name_th} / {inst.name_en}",
        subject=f"{record.transcript_id} v{record.version}",
        keywords=f"transcript {record.transcript_id} {verification_code}",
        created=record.issued_at,
    )
    buffer = BytesIO()
    c = pdfa.new_canvas(buffer, (PAGE_W, PAGE_H), fonts.REGULAR, info)
    total = len(sheet.pages)
    for number, ops in enumerate(sheet.pages, 1):
        for op in ops:
            op(c)
        footer.draw(c, number, total)
        c.showPage()
    c.save()
    return buffer.getvalue()


def attach_files(pdf: bytes, transcript_json: bytes, credential_jws: str) -> bytes:
    """Embed transcript.json (AFRelationship /Data, application/json) and credential.jws
    (/Supplement, application/jose) as PDF/A-3 associated files in the Factur-X pattern,
    keeping version 1.7, the XMP and the output intent. Returns the bytes to be signed."""
    return pdfa.attach(
        pdf,
        (
            pdfa.Attachment("transcript.json", transcript_json, "application/json", "Data",
                            "Transcript record, RFC 8785 canonical JSON"),
            pdfa.Attachment("credential.jws", credential_jws.encode("ascii"),
                            *(("text/plain", "Supplement",
                               "QR credential, BKT1 compact COSE_Sign1 (ES256)")
                              if is_compact(credential_jws) else
                              ("application/jose", "Supplement",
                               "QR credential, compact JWS (ES256)"))),
        ),
    )
