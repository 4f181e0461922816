"""Writing what verifiers read: the JWKS of credential keys (and the status lists).

Layout under `Settings.published_dir`: ``.well-known/jwks.json``. Retired keys stay in
the JWKS because their files stay in the key store.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from issuer.adapters.orm import InstitutionRow
from issuer.adapters.pki import PkiError, load_credential_certificate
from issuer.adapters.publish import jwks_document, write_json
from issuer.services.context import Issuer

JWKS_PATH = ".well-known/jwks.json"


def publish(issuer: Issuer) -> Path:
    """Rewrite the published documents from the key store and the database."""
    with issuer.uow() as uow:
        codes = list(uow.session.scalars(select(InstitutionRow.code).order_by(InstitutionRow.code)))
    entries = []
    for code in codes:
        try:
            entries.append(load_credential_certificate(issuer.settings.keys_dir, code))
        except PkiError:
            continue  # no keys yet: nothing of it can have been issued
    return write_json(issuer.settings.published_dir / JWKS_PATH, jwks_document(entries))
