"""Independent checks of rendered and signed PDFs and a sample PDF.

pyHanko and poppler's pdfsig judge signatures; poppler's pdftotext judges the text layer
(what search, copy and screen readers get); `sample_pdf` is a realistic unsigned PDF.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

import pikepdf
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fontpkg_sarabun import ROOT as SARABUN_ROOT
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from issuer.adapters.pki import Authority
from tests.conftest import PKI_NOW


def pyhanko_validate(pdf: bytes, root: x509.Certificate) -> PdfSignatureStatus:
    """Validate the first (certification) signature against `root` only, offline.

    Callers assert ``intact``, ``valid``, ``trusted``, ``coverage`` and
    ``modification_level`` on the returned status.
    """
    reader = PdfFileReader(BytesIO(pdf))
    signatures = reader.embedded_signatures
    if not signatures:
        raise AssertionError("no signature in the PDF")
    trust_root = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    context = ValidationContext(trust_roots=[trust_root], allow_fetching=False)
    return validate_pdf_signature(signatures[0], context)


def pdfsig_report(pdf: bytes, root: x509.Certificate, tmp_path: Path) -> str:
    """Run poppler's pdfsig with a fresh NSS database trusting only `root`; return stdout.

    pdfsig exits 0 even when the digest does not match: read the text.
    """
    work = Path(tempfile.mkdtemp(dir=tmp_path, prefix="pdfsig-"))
    nss = work / "nss"
    nss.mkdir()
    root_pem = work / "root.pem"
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    pdf_path = work / "signed.pdf"
    pdf_path.write_bytes(pdf)
    db = f"sql:{nss}"
    subprocess.run(["certutil", "-N", "--empty-password", "-d", db], check=True)
    subprocess.run(
        ["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i", str(root_pem), "-d", db],
        check=True,
    )
    result = subprocess.run(
        ["pdfsig", "-nssdir", db, str(pdf_path)], capture_output=True, text=True, check=False
    )
    return result.stdout + result.stderr


XMP_PDFA3 = {"pdfaid:part": "3", "pdfaid:conformance": "B"}


def sample_pdf(pages: int = 2, noise_bytes: int = 120_000, seed: int = 0) -> bytes:
    """A realistic unsigned transcript-sized PDF: PDF 1.7, Sarabun embedded, an image,
    XMP declaring PDF/A-3B. About 100-200 KB with the defaults."""
    font = "Sarabun"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(font, str(SARABUN_ROOT / "files" / "Sarabun-Regular.ttf")))
    side = int((noise_bytes / 3) ** 0.5)
    noise = random.Random(seed).randbytes(side * side * 3)
    image = Image.frombytes("RGB", (side, side), noise)
    buffer = BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, pdfVersion=(1, 7))
    c.setTitle("Transcript")
    for page in range(pages):
        c.setFont(font, 14)
        c.drawString(72, 780, "ใบแสดงผลการเรียน / Transcript of Academic Record")
        c.setFont(font, 10)
        for row in range(40):
            c.drawString(72, 740 - row * 15, f"ว{21101 + row} Course {page}-{row}   3.0   4")
        if page == 0:
            c.drawImage(ImageReader(image), 380, 60, width=140, height=140)
        c.showPage()
    c.save()
    with pikepdf.open(BytesIO(buffer.getvalue())) as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = "Transcript"
            for key, value in XMP_PDFA3.items():
                meta[key] = value
        out = BytesIO()
        pdf.save(out, min_version="1.7", force_version="1.7")
    return out.getvalue()


def pdf_version(pdf: bytes) -> tuple[str, str | None]:
    """The header version and the catalog's /Version (None when absent)."""
    header = pdf[:16].split(b"\n", 1)[0].decode("latin-1").removeprefix("%PDF-").strip()
    with pikepdf.open(BytesIO(pdf)) as doc:
        catalog_version = doc.Root.get("/Version")
        return header, None if catalog_version is None else str(catalog_version)[1:]


def asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def asn1_key(key: rsa.RSAPrivateKey) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def make_tsa(authority: Authority, not_before: datetime = PKI_NOW) -> DummyTimeStamper:
    """A time-stamping authority under the trusted issuing CA (for legitimate B-LTA)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(authority.issuing_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                       critical=True)
        .sign(authority.issuing_key, hashes.SHA256())
    )
    return DummyTimeStamper(
        tsa_cert=asn1_cert(cert), tsa_key=asn1_key(key),
        certs_to_embed=SimpleCertificateStore.from_certs([asn1_cert(authority.issuing_cert)]),
    )


# What a text layer must never hold: private-use code points (glyphs without a Unicode
# value) and ำ read back as nikhahit + sara aa (harfbuzz draws it as two glyphs).
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
SPLIT_SARA_AM = "\u0e4d\u0e32"
# Form terms each document prints (the examples: tone marks over upper vowels,
# upper vowels on ป, ำ); every page's footer prints FOOTER_TERMS.
FOOTER_TERMS = ("ตรวจสอบความถูกต้องได้ที่", "สแกนคิวอาร์โค้ดหรืออัปโหลดไฟล์", "เลขที่เอกสาร",
                "รหัสตรวจสอบ", "ลงลายมือชื่อดิจิทัลโดย", "หน้า 1 /")
FORM_TERMS = {
    "school": ("ปีการศึกษา", "ขั้นพื้นฐาน", "ผลการเรียนเฉลี่ย", "ดีเยี่ยม", "ค่อนข้างดี",
               "ต่ำกว่าเกณฑ์", "เลขประจำตัวนักเรียน", "ชื่อสกุล", "นายทะเบียน",
               "ผู้อำนวยการโรงเรียน", "ชุดที่", "วันออกจากโรงเรียน", "สาเหตุที่ออก", "พ.ศ."),
    "vocational": ("ประกาศนียบัตร", "ให้ไว้เพื่อแสดงว่า", "ได้สำเร็จการฝึกอาชีพ", "ชั่วโมง",
                   "ให้ไว้ ณ วันที่", "ลงลายมือชื่อดิจิทัล", "ผู้อำนวยการ"),
}


def pdf_text(pdf: bytes, mode: str = "-raw") -> str:
    """The text poppler's pdftotext extracts from `pdf` (`-raw`: content-stream order)."""
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", mode, "-", "-"], input=pdf,
                            capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def _squeezed(text: str) -> str:
    return "".join(text.split())


def assert_text_layer(pdf: bytes, expected: Iterable[str] = ()) -> str:
    """Assert the text layer is clean and holds every `expected` string exactly.

    Whitespace is the only normalisation (a wrapped label reads back with a line break).
    Returns the `-raw` text.
    """
    raw = pdf_text(pdf, "-raw")
    for mode, text in (("-raw", raw), ("-layout", pdf_text(pdf, "-layout"))):
        bad = sorted({f"U+{ord(ch):04X}" for ch in PRIVATE_USE.findall(text)})
        assert not bad, f"private-use characters in the text layer ({mode}): {bad}"
        assert SPLIT_SARA_AM not in text, f"ำ reads back as two characters ({mode})"
    squeezed = _squeezed(raw)
    missing = [s for s in dict.fromkeys(expected) if s and _squeezed(s) not in squeezed]
    assert not missing, f"not in the text layer: {missing}"
    return raw


def attached_record(pdf: bytes) -> dict:
    """The transcript.json a rendered transcript carries, as JSON data."""
    with pikepdf.open(BytesIO(pdf)) as doc:
        return json.loads(doc.attachments["transcript.json"].get_file().read_bytes())


def printed_strings(record: dict) -> list[str]:
    """Strings of `record` (transcript.json data) that its document prints: names, school,
    programme, signatories, course names, and the form terms of its kind."""
    student, inst = record["student"], record["institution"]
    out = [
        student["prefix_th"] + student["first_name_th"], student["last_name_th"],
        f"{student['prefix_en']} {student['first_name_en']}", student["last_name_en"],
        inst["name_th"], inst["name_en"],
        *(p[key] for p in record["signatories"] for key in ("name_th", "name_en")),
        *(c["name_th"] for c in record.get("courses", record.get("modules", []))),
        *FOOTER_TERMS, *FORM_TERMS[inst["kind"]],
    ]
    if inst["kind"] == "vocational":
        out += [record["programme"]["name_th"], record["programme"]["name_en"]]
    else:
        out += [student["previous_school_province_th"], student["leave_reason_th"]]
    return out


def assert_record_round_trips(pdf: bytes, *extra: str) -> str:
    """Assert the record attached to `pdf` reads back from its text layer (and `extra`)."""
    return assert_text_layer(pdf, [*printed_strings(attached_record(pdf)), *extra])
