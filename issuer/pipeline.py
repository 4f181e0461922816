"""Produce one signed transcript: record -> credential -> rendered PDF -> signature.

Each stage is timed so the benchmark can report where the time goes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from issuer.adapters.credential_signing import sign_credential, sign_sd_jwt
from issuer.adapters.pdf_signing import PadesLevel, TranscriptSigner, http_timestamper
from issuer.adapters.pki import InstitutionKeys
from issuer.adapters.render import Images, attach_files, render_transcript, verification_code
from issuer.config import DEFAULT_PUBLIC_BASE_URL
from issuer.core import grading
from issuer.core.record_json import to_canonical
from issuer.core.records import Institution, StudentRecord, TranscriptRecord
from verifier.core.canonical import digest
from verifier.core.credential import MAX_NAME_EN, MAX_NAME_TH, Claims, qr_url, shorten


@dataclass(frozen=True)
class IssuedDocument:
    record: TranscriptRecord
    record_json: bytes
    record_digest: str
    credential: str
    pdf: bytes
    timings: dict[str, float] = field(default_factory=dict)
    sd_jwt: str = ""  # the SD-JWT VC with every disclosure (personal data, like the PDF)


def build_record(
    student_record: StudentRecord,
    institution: Institution,
    *,
    transcript_id: str,
    version: int,
    status_index: int,
    issued_at: datetime,
    national_id_salt: str,
) -> TranscriptRecord:
    """The transcript record with its computed summary (GPA, credits, graduation)."""
    return TranscriptRecord(
        transcript_id=transcript_id,
        version=version,
        institution=institution,
        record=student_record,
        summary=grading.summarise(student_record, institution.kind),
        issued_at=issued_at,
        status_index=status_index,
        national_id_salt=national_id_salt,
    )


def claims_for(record: TranscriptRecord, record_digest: str) -> Claims:
    rec = record.record
    return Claims(
        transcript_id=record.transcript_id,
        version=record.version,
        institution=record.institution.code,
        name=shorten(rec.student.name.name_th, MAX_NAME_TH),  # no title: keeps the QR small
        name_en=shorten(rec.student.name.name_en, MAX_NAME_EN) or None,
        programme=rec.programme.code,
        gpa=None if record.summary.gpa is None else format(record.summary.gpa, "f"),
        graduation_date=rec.graduation_date,
        issued_at=int(record.issued_at.timestamp()),
        status_index=record.status_index,
        record_digest=record_digest,
    )


class Producer:
    """Turns transcript records into signed PDFs for one institution (keys loaded once)."""

    def __init__(self, keys: InstitutionKeys, verifier_url: str, *, level: str = "B-B",
                 tsa_url: str | None = None, public_base_url: str = DEFAULT_PUBLIC_BASE_URL
                 ) -> None:
        """`level`: the PAdES level (`PadesLevel`); B-T and above need `tsa_url`.
        `public_base_url`: the issuer's, where the SD-JWT VC's status list is served."""
        self.keys = keys
        self.verifier_url = verifier_url
        self.public_base_url = public_base_url
        pades = PadesLevel.parse(level)
        self.signer = TranscriptSigner(
            keys, level=pades,
            timestamper=http_timestamper(tsa_url) if tsa_url and pades is not PadesLevel.B_B
            else None)

    def close(self) -> None:
        """Release the signer's HTTP sessions (timestamps, revocation data)."""
        self.signer.close()

    def produce(self, record: TranscriptRecord, images: Images | None = None
                ) -> IssuedDocument:
        """`images`: the photo and emblem the record names, by digest."""
        t0 = time.perf_counter()
        record_json = to_canonical(record)
        record_digest = digest(record_json)
        credential = sign_credential(claims_for(record, record_digest), self.keys)
        sd_jwt = sign_sd_jwt(record_json, self.keys, self.public_base_url)
        t1 = time.perf_counter()
        pdf = render_transcript(
            record, qr_url(self.verifier_url, credential), verification_code(record_digest),
            images)
        pdf = attach_files(pdf, record_json, credential)
        t2 = time.perf_counter()
        signed = self.signer.sign(pdf)
        t3 = time.perf_counter()
        return IssuedDocument(
            record=record,
            record_json=record_json,
            record_digest=record_digest,
            credential=credential,
            pdf=signed,
            sd_jwt=sd_jwt,
            timings={"credential": t1 - t0, "render": t2 - t1, "sign": t3 - t2},
        )
