"""Issuing publishes each institution's signed directory beside its status lists (and in
the offline bundle): a verifier shows the school's and the programme's names on the QR
path from it, read from the published files and the pinned root only."""

from __future__ import annotations

import json

from issuer.adapters.directory import directory_path
from issuer.adapters.pki import load_root
from issuer.services.context import Issuer
from tests.e2e.conftest import issue_file
from verifier.directory import Directories
from verifier.pdf import CREDENTIAL_NAME, embedded_files, open_pdf
from verifier.sources import SourceSettings, TrustSource
from verifier.verification import Verifier


def test_issuing_publishes_the_directory(issuer: Issuer) -> None:
    _, report = issue_file(issuer, "1001", "school-batch.csv")
    published = issuer.settings.published_dir
    assert directory_path(published, "1001").read_text().count(".") == 2
    bundle = json.loads((published / "trust.json").read_text())
    assert set(bundle["directory"]) >= {"1001"}

    pdf = (issuer.settings.output_dir / report.issued[0]).read_bytes()
    reader = open_pdf(pdf)
    credential = embedded_files(reader, reader.xrefs.total_revisions - 1)[CREDENTIAL_NAME]
    roots = (load_root(issuer.settings.keys_dir),)
    for settings in (
        SourceSettings(roots=roots, jwks=str(published / ".well-known" / "jwks.json"),
                       status=str(published / "status")),
        SourceSettings(roots=roots, trust_file=published / "trust.json"),  # offline
    ):
        source = TrustSource(settings)
        data = Verifier(source, Directories(source)).credential(credential.decode()).data
        assert data["institution"]["name_th"] == "โรงเรียนวัดดอน (สำนักงานเขตสาทร)"
        assert data["institution"]["name_en"] == "Wat Don School (Sathon District Office)"
        assert data["programme"]["name_th"] and data["programme"]["name_en"]
        assert data["student"]["name_en"]
