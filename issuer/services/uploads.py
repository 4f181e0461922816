"""A batch file uploaded through the web, read and validated by a background job.

No request waits for a large file: `receive` stores it and queues a job; the job runs
`read_upload`, which imports it (`issuer.services.importing.import_batch`) with progress
and records the outcome: a batch, the complete list of errors (paginated, summarised,
downloadable), the batch that already holds the same content, or a message.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from issuer.adapters.batchfile import MAX_CSV_BYTES
from issuer.adapters.images import MAX_ZIP_BYTES
from issuer.adapters.orm import UploadState
from issuer.adapters.repositories import ErrorGroup
from issuer.core.batch import BatchError
from issuer.core.lifecycle import check_request
from issuer.jobs.tasks import IMPORT_FILE
from issuer.services.context import Actor, Issuer, ServiceError, rules, signed_in
from issuer.services.importing import AlreadyImported, BatchRejected, import_batch

MAX_UPLOAD = MAX_CSV_BYTES
"""The largest file accepted (the CSV limit; an XLSX has a lower one, checked on reading)."""
log = logging.getLogger(__name__)


def upload_key(upload_id: int) -> str:
    return f"{IMPORT_FILE}:{upload_id}"


def receive(issuer: Issuer, institution_code: str, filename: str, data: bytes, *,
            actor: Actor, photos: bytes | None = None) -> tuple[int, int]:
    """Store an uploaded file (and the ZIP of photos beside it, if any) and queue its
    reading; (upload id, job id)."""
    from issuer.jobs.api import dispatch

    who = signed_in(actor)
    with rules():
        check_request(who, institution_code)
    if not data:
        raise ServiceError("the file is empty")
    if len(data) > MAX_UPLOAD:
        raise ServiceError("the file is larger than %(mb)s MB: split it (see the batch format)",
                           mb=MAX_UPLOAD // 2 ** 20)
    if photos is not None and len(photos) > MAX_ZIP_BYTES:
        raise ServiceError("the photo ZIP is larger than %(mb)s MB: make the photos smaller, "
                           "or split the batch", mb=MAX_ZIP_BYTES // 2**20)
    with issuer.uow() as uow:
        institution = uow.institutions.get(institution_code)
        if institution is None:
            raise ServiceError("no institution with code %(code)r", code=institution_code)
        now = issuer.clock()
        upload = uow.uploads.add(institution, filename=filename, data=data,
                                 created_by=who.username, now=now)
        upload.photos = photos or None
        job = uow.jobs.add(kind=IMPORT_FILE, key=upload_key(upload.id), created_by=who.username,
                           now=now, args={"upload_id": upload.id, "actor": actor.name,
                                          "source": actor.source, "role": who.role.value,
                                          "institution_code": institution_code})
        uow.audit.append(actor=actor.name, action="upload.receive", source=actor.source,
                         now=now, institution=institution, subject=f"upload:{upload.id}",
                         detail={"filename": filename, "size": len(data), "job": job.id,
                                 "photos_size": len(photos or b"")})
        uow.commit()
        upload_id, job_id = upload.id, job.id
    try:
        dispatch(issuer, job_id)
    except ServiceError as e:  # the job row records it; the upload page says so
        log.warning("upload %s stored, but %s", upload_id, e)
    return upload_id, job_id


def read_upload(issuer: Issuer, upload_id: int, *, actor: Actor,
                progress: Callable[[int], None] | None = None) -> None:
    """The job: import the stored file as `actor` and record what came of it."""
    with issuer.uow() as uow:
        upload = uow.uploads.get(upload_id)
        if upload is None or upload.state not in (UploadState.QUEUED, UploadState.READING):
            return  # done already (a resumed job)
        code, filename, data = upload.institution.code, upload.filename, upload.data
        photos = upload.photos
        upload.state = UploadState.READING
        uow.commit()
    rows = 0

    def counting(n: int) -> None:
        nonlocal rows
        rows += n
        if progress:
            progress(n)

    outcome: dict[str, object] = {}
    errors: tuple[BatchError, ...] = ()
    try:
        imported = import_batch(issuer, code, filename, data or b"", actor=actor,
                                progress=counting, photos=photos)
    except BatchRejected as e:
        errors = e.errors
        outcome = {"state": UploadState.REJECTED}
    except AlreadyImported as e:
        outcome = {"state": UploadState.DUPLICATE, "batch_id": e.batch_id}
    except ServiceError as e:
        outcome = {"state": UploadState.FAILED, "message": str(e)}
    else:
        outcome = {"state": UploadState.IMPORTED, "batch_id": imported.batch_id}
    with issuer.uow() as uow:
        upload = uow.uploads.get(upload_id)
        assert upload is not None
        for name, value in outcome.items():
            setattr(upload, name, value)
        upload.data, upload.rows_read, upload.finished_at = None, rows, issuer.clock()
        upload.photos = None
        if errors:
            uow.uploads.add_errors(upload, errors)
            uow.audit.append(actor=actor.name, action="upload.rejected", source=actor.source,
                             now=issuer.clock(), institution=upload.institution,
                             subject=f"upload:{upload_id}", detail={"errors": len(errors)})
        uow.commit()


@dataclass(frozen=True)
class UploadView:
    id: int
    filename: str
    size: int
    state: UploadState
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    rows_read: int
    error_count: int
    batch_id: int | None
    message: str
    running: bool  # queued or being read
    job_error: str | None  # the job itself failed (e.g. its runner could not be reached)


def upload_view(issuer: Issuer, upload_id: int, *, institution_code: str) -> UploadView:
    from issuer.jobs.api import job_status_by_key

    # The job first: its reading commits the upload's outcome before the job is done, so
    # an upload read after a finished job has its outcome. Read the other way round, a
    # job finishing in between left a page "reading" with nothing more to wait for.
    job = job_status_by_key(issuer, upload_key(upload_id))
    with issuer.uow() as uow:
        u = uow.uploads.get(upload_id, institution_code)
        if u is None:
            raise ServiceError("no upload %(upload)s", upload=upload_id)
        view = UploadView(u.id, u.filename, u.size, u.state, u.created_by, u.created_at,
                          u.finished_at, u.rows_read, u.error_count, u.batch_id, u.message,
                          False, None)
    if view.state in (UploadState.QUEUED, UploadState.READING):
        running = job is not None and job.running
        return dataclasses.replace(view, running=running,
                                   rows_read=job.done if job else view.rows_read,
                                   job_error=job.error if job and not running else None)
    return view


def upload_errors(issuer: Issuer, upload_id: int, *, institution_code: str, offset: int = 0,
                  limit: int = 100) -> tuple[list[ErrorGroup], list[BatchError]]:
    """(the commonest kinds of error, one page of errors) of a rejected upload."""
    with issuer.uow() as uow:
        upload = uow.uploads.get(upload_id, institution_code)
        if upload is None:
            raise ServiceError("no upload %(upload)s", upload=upload_id)
        return uow.uploads.error_groups(upload), [
            BatchError(e.row, e.column, e.value, e.reason_th, e.reason_en)
            for e in uow.uploads.errors(upload, offset=offset, limit=limit)]


def all_errors(issuer: Issuer, upload_id: int, *, institution_code: str
               ) -> Iterator[BatchError]:
    """Every error of a rejected upload in order, read a thousand at a time."""
    offset = 0
    while True:
        _, page = upload_errors(issuer, upload_id, institution_code=institution_code,
                                offset=offset, limit=1000)
        yield from page
        if len(page) < 1000:
            return
        offset += len(page)
