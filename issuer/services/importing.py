"""Loading institutions and importing batch files (validated whole, or nothing written)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issuer.adapters import repositories as repo
from issuer.adapters.batchfile import load_batch
from issuer.core.batch import BatchError
from issuer.core.records import Institution, InstitutionKind
from issuer.services.context import Actor, Issuer, ServiceError


class BatchRejected(ServiceError):
    """The batch file has errors; every one is listed and nothing was stored."""

    def __init__(self, errors: tuple[BatchError, ...]) -> None:
        super().__init__(f"batch rejected: {len(errors)} error(s), nothing was imported")
        self.errors = errors


class AlreadyImported(ServiceError):
    """The same file content was imported before, as `batch_id`."""

    def __init__(self, filename: str, batch_id: int) -> None:
        super().__init__(f"{filename}: this file was already imported as batch {batch_id}")
        self.batch_id = batch_id


@dataclass(frozen=True)
class Imported:
    batch_id: int
    students: int


def _institution(entry: dict[str, Any]) -> tuple[Institution, tuple[str, str], tuple[str, str]]:
    try:
        fields = {k: v for k, v in entry.items() if k not in ("registrar", "director")}
        fields["kind"] = InstitutionKind(fields["kind"])
        institution = Institution(**fields)
        people = [entry.get(role, {}) for role in ("registrar", "director")]
        registrar, director = ((p.get("name_th", ""), p.get("name_en", "")) for p in people)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        code = entry.get("code", "?")
        raise ServiceError(f"institution entry {code!r} is invalid: {e}") from None
    return institution, registrar, director


def load_institutions(issuer: Issuer, path: Path, *, actor: Actor) -> list[str]:
    """Create the institutions listed in a JSON file (see examples/institutions.json).

    Existing institutions are left as they are. Returns the codes created.
    """
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ServiceError(f"cannot read {path}: {e}") from None
    if not isinstance(entries, list):
        raise ServiceError(f"{path} must hold a JSON list of institutions")
    created = []
    with issuer.uow() as uow:
        now = issuer.clock()
        for entry in entries:
            institution, registrar, director = _institution(entry)
            if repo.get_institution(uow.session, institution.code) is not None:
                continue
            row = repo.get_or_create_institution(
                uow.session, institution, now=now, registrar=registrar, director=director
            )
            repo.append_audit(
                uow.session, actor=actor.name, action="institution.create", source=actor.source,
                now=now, institution=row, subject=row.code, detail={"name_en": row.name_en},
            )
            created.append(row.code)
        uow.commit()
    return created


def import_batch(
    issuer: Issuer, institution_code: str, filename: str, data: bytes, *, actor: Actor
) -> Imported:
    """Validate and store a batch file for one institution.

    Raises `BatchRejected` listing every error (nothing stored), or `ServiceError` when
    the same file was already imported (so nothing is ever issued twice from it).
    """
    with issuer.uow() as uow:
        s = uow.session
        institution = repo.get_institution(s, institution_code)
        if institution is None:
            raise ServiceError(f"no institution with code {institution_code!r}")
        result = load_batch(data, repo.to_institution(institution))
        if not result.ok:
            raise BatchRejected(result.errors)
        now = issuer.clock()
        try:
            batch = repo.add_batch(
                s, institution, filename=filename,
                content_sha256=hashlib.sha256(data).hexdigest(),
                row_count=len(result.records), created_by=actor.name, now=now,
            )
        except repo.DuplicateBatchError as e:
            raise AlreadyImported(filename, e.existing.id) from None
        for record in result.records:
            repo.save_student_record(s, institution, record, batch, now=now)
        repo.append_audit(
            s, actor=actor.name, action="batch.import", source=actor.source, now=now,
            institution=institution, subject=f"batch:{batch.id}",
            detail={"filename": filename, "students": len(result.records)},
        )
        uow.commit()
        return Imported(batch.id, len(result.records))
