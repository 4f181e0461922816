"""An issuer on a temporary database, key store and output folder; sample batches.

The key store is generated once per session (RSA-3072 keys are slow to make) at the
real clock, so the signatures validate today.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from issuer.adapters.pki import write_dev_pki
from issuer.config import ROOT, Settings
from issuer.services.context import Actor, Issuer
from issuer.services.importing import import_batch, load_institutions
from issuer.services.issuing import IssueReport, approve_batch, issue_batch
from tests.integration.conftest import db_url, postgres_server  # noqa: F401  (fixtures)

EXAMPLES = ROOT / "examples"
PASSPHRASE = b"test passphrase"
VERIFIER_URL = "https://verify.bangkok.go.th"
REGISTRAR = Actor("registrar@1001", "test")
DIRECTOR = Actor("director@1001", "test")


@pytest.fixture(scope="session")
def key_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keys")
    write_dev_pki(directory, [("1001", "Wat Don School"), ("2001", "Din Daeng 1 Centre")],
                  PASSPHRASE, datetime.now(UTC))
    return directory


def make_issuer(database_url: str, key_store: Path, folder: Path) -> Issuer:
    settings = Settings(
        database_url=database_url, keys_dir=key_store, key_passphrase=PASSPHRASE,
        output_dir=folder / "out", published_dir=folder / "published",
        verifier_url=VERIFIER_URL,
    )
    issuer = Issuer.open(settings)
    load_institutions(issuer, EXAMPLES / "institutions.json", actor=REGISTRAR)
    return issuer


@pytest.fixture
def issuer(db_url: str, key_store: Path, tmp_path: Path) -> Issuer:  # noqa: F811
    return make_issuer(db_url, key_store, tmp_path)


def issue_file(issuer: Issuer, code: str, name: str, data: bytes | None = None,
               workers: int = 0) -> tuple[int, IssueReport]:
    """Import, approve and issue one batch file; (batch id, report)."""
    data = (EXAMPLES / name).read_bytes() if data is None else data
    batch_id = import_batch(issuer, code, name, data, actor=REGISTRAR).batch_id
    approve_batch(issuer, batch_id, actor=DIRECTOR)
    return batch_id, issue_batch(issuer, batch_id, actor=DIRECTOR, workers=workers)


def edit_csv(name: str, change: Callable[[dict[str, str]], None]) -> bytes:
    """The sample CSV with `change` applied to every row (a dict it may modify)."""
    text = (EXAMPLES / name).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [], lineterminator="\n")
    writer.writeheader()
    for row in reader:
        change(row)
        writer.writerow(row)
    return out.getvalue().encode("utf-8")
