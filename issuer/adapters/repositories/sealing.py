"""Encrypt what was stored before encryption at rest (migration 0009).

The migration cannot see the key, so the service does it: `seal_cleartext` reads each
row still in clear and writes it back sealed (`issuer.adapters.sealed_columns`), a few
hundred rows per transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.adapters import at_rest
from issuer.adapters.orm import AccountRow, BatchRecordRow, UploadErrorRow, UploadRow

CHUNK = 500

# (model, plaintext attribute, stored column, whether the column is text)
SEALED: tuple[tuple[Any, str, Any, bool], ...] = (
    (BatchRecordRow, "record_json", BatchRecordRow._record_json_sealed, False),
    (UploadRow, "data", UploadRow._data_sealed, False),
    (AccountRow, "totp_secret", AccountRow._totp_secret_sealed, True),
    (UploadErrorRow, "value", UploadErrorRow._value_sealed, True),
)


def _in_clear(stored: Any, text: bool) -> Any:
    if text:
        return ~stored.startswith(at_rest.TEXT_PREFIX, autoescape=True)
    return func.substr(stored, 1, len(at_rest.PREFIX)) != at_rest.PREFIX


def seal_cleartext(sessions: Callable[[], Session]) -> int:
    """Seal every value still stored in clear; how many there were."""
    sealed = 0
    for model, attribute, stored, text in SEALED:
        last = 0
        while True:
            with sessions() as session:
                rows = session.scalars(
                    select(model).where(model.id > last, stored.is_not(None),
                                        _in_clear(stored, text))
                    .order_by(model.id).limit(CHUNK)).all()
                if not rows:
                    break
                for row in rows:
                    setattr(row, attribute, getattr(row, attribute))
                    last = row.id
                session.commit()
                sealed += len(rows)
    return sealed
