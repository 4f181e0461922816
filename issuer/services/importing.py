"""Loading institutions and importing batch files (validated whole, or nothing written)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from issuer.adapters import images
from issuer.adapters import repositories as repo
from issuer.adapters.batchfile import Source, load_batch
from issuer.adapters.orm import BatchRow, EnrolmentRow, TranscriptRow
from issuer.core.batch import BatchError, BatchWarning, sort_errors
from issuer.core.lifecycle import (
    BatchKind,
    ItemKind,
    TranscriptStatus,
    check_new_version,
    check_request,
)
from issuer.core.records import InstitutionKind, StudentRecord
from issuer.core.refusal import Phrase
from issuer.core.snapshot import content_digest, student_data
from issuer.services.context import Actor, Issuer, ServiceError, rules, signed_in
from issuer.services.snapshots import Frozen, Issuing, stored, transcript_id_for


class BatchRejected(ServiceError):
    """The batch file has errors; every one is listed and nothing was stored."""

    def __init__(self, errors: tuple[BatchError, ...]) -> None:
        super().__init__(Phrase("batch rejected: %(errors)s error(s), nothing was imported"),
                         errors=len(errors))
        self.errors = errors


class AlreadyImported(ServiceError):
    """The same file content was imported before, as `batch_id`."""

    def __init__(self, filename: str, batch_id: int) -> None:
        super().__init__(Phrase("%(filename)s: this file was already imported as batch "
                                "%(batch)s"), filename=filename, batch=batch_id)
        self.batch_id = batch_id


@dataclass(frozen=True)
class Imported:
    batch_id: int
    students: int  # in the batch: new and corrected
    new: int = 0
    corrections: int = 0
    unchanged: int = 0  # in the file, but issued with this data already
    warnings: tuple[BatchWarning, ...] = ()  # to confirm before the batch is submitted


def _conflicts(open_batches: dict[int, BatchRow],
               frozen: Sequence[tuple[Frozen, EnrolmentRow]]) -> list[BatchError]:
    errors = []
    for f, enrolment in frozen:
        batch = open_batches.get(enrolment.id)
        if batch is not None:
            errors.append(BatchError(
                0, "student_id", f.snapshot.record.student.student_id,
                f"นักเรียนคนนี้อยู่ในชุดที่ {batch.id} ซึ่งยังไม่ได้ออกเอกสาร: รอให้ออกก่อน "
                "หรือถอนชุดนั้น",
                f"this student is in batch {batch.id} ({batch.status.value}), not yet "
                "issued: wait until it is issued, or withdraw it"))
    return errors


PHOTOS = "photos"
"""The column name a photo's error carries (its value: the name inside the ZIP)."""


def read_photos(data: bytes, kind: InstitutionKind) -> tuple[dict[str, bytes],
                                                            list[BatchError]]:
    """The normalised photos of a ZIP by student ID, and every problem as a batch error
    (row 0: the whole upload; column `photos`; value: the name inside the ZIP)."""
    if kind is not InstitutionKind.SCHOOL:
        return {}, [BatchError(0, PHOTOS, "", "ประกาศนียบัตรวิชาชีพไม่มีรูปถ่าย: นำเข้าโดยไม่ใส่ไฟล์รูป",
                               "the vocational certificate prints no photo: import "
                               "without a photos ZIP")]
    try:
        found = images.read_photos(data)
    except images.ImageRefused as e:
        return {}, [BatchError(0, PHOTOS, "", e.th, e.en)]
    return found.by_stem, [BatchError(0, PHOTOS, p.name, p.th, p.en) for p in found.problems]


def with_photos(records: Sequence[StudentRecord], photos: dict[str, bytes]
                ) -> tuple[list[StudentRecord], list[BatchError]]:
    """`records` with the digest of each student's photo, and an error for each photo of
    no student in the batch. A student without a photo keeps the empty box."""
    ids = {r.student.student_id for r in records}
    errors = [BatchError(0, PHOTOS, stem, f"ไม่มีนักเรียนเลขประจำตัว {stem} ในไฟล์นี้",
                         f"no student with student_id {stem} in this file")
              for stem in sorted(photos) if stem not in ids]
    out = [r if r.student.student_id not in photos else dataclasses.replace(
        r, student=dataclasses.replace(
            r.student, photo_sha256=images.sha256(photos[r.student.student_id])))
        for r in records]
    return out, errors


def classify(frozen: Sequence[tuple[Frozen, EnrolmentRow, str]],
             latest: dict[str, TranscriptRow]) -> tuple[list[repo.NewRecord], int]:
    """(what to store, how many are left as they are). A student without a transcript is
    new; one whose latest version holds exactly this snapshot, or whose revoked version
    holds the same student data, is left as it is; any other is a correction."""
    items, unchanged = [], 0
    for f, enrolment, transcript_id in frozen:
        last = latest.get(transcript_id)
        if last is None:
            items.append(f.new_record(enrolment, transcript_id, ItemKind.NEW, None))
            continue
        old = last.batch_record
        same_student = student_data(stored(old)) == student_data(f.snapshot)
        if old.record_digest == f.digest or (
                last.status is TranscriptStatus.REVOKED and same_student):
            unchanged += 1
            continue
        with rules():
            check_new_version(ItemKind.CORRECTION, last.status, same_record=False,
                              same_student_data=same_student, transcript=transcript_id)
        items.append(f.new_record(enrolment, transcript_id, ItemKind.CORRECTION, last.version))
    return items, unchanged


T = TypeVar("T")

StudentsProgress = Callable[[str, int, int], None]
"""Called with a stage (`SEALED`, `MATCHED`), the students done in it so far and the
students in all, every `STUDENTS_EVERY` students and at the end of each stage."""
SEALED = "sealed"  # frozen into their snapshots (canonical JSON and digest)
MATCHED = "matched"  # matched with earlier enrolments and issues, ready to store
STUDENTS_EVERY = 100


def _counted(items: Sequence[T], stage: str, report: StudentsProgress | None
             ) -> Iterator[T]:
    """`items`, reporting to `report` as they pass."""
    total = len(items)
    for done, item in enumerate(items, start=1):
        yield item
        if report is not None and (done % STUDENTS_EVERY == 0 or done == total):
            report(stage, done, total)


def import_batch(
    issuer: Issuer, institution_code: str, filename: str, data: Source, *, actor: Actor,
    progress: Callable[[int], None] | None = None, photos: bytes | None = None,
    students: StudentsProgress | None = None,
) -> Imported:
    """Validate a batch file and store it as a batch of frozen snapshots.

    Students not issued before are new; issued students whose data changed become
    corrections (shown side by side for review); issued students with the same data are
    left as they are. Nothing already stored is modified. Raises `BatchRejected` listing
    every error (nothing stored); warnings (a prefix against the sex) are stored with the
    batch, which is submitted only once a registrar confirms them. Raises
    `AlreadyImported` when the same content (whatever its
    encoding or format) is in an open or issued batch, or `ServiceError` when nothing in
    the file needs issuing.

    `photos` is a ZIP of the students' photos named by `student_id` (docs/batch-format.md),
    read and normalised by a bounded child (`issuer.adapters.images`); any bad photo, or a
    photo of no student in the file, rejects the whole import like a bad row. Each photo's
    digest joins its student's snapshot, so a changed photo makes a correction.

    `progress` hears of the data rows read and checked (`load_batch`), `students` of the
    students then sealed and matched (`StudentsProgress`).
    """
    who = signed_in(actor)
    with rules():
        check_request(who, institution_code)
    with issuer.uow() as uow:
        institution = uow.institutions.get(institution_code)
        if institution is None:
            raise ServiceError("no institution with code %(code)r", code=institution_code)
        issuing = Issuing.of(institution)
    photo_errors: list[BatchError] = []
    by_student: dict[str, bytes] = {}
    if photos is not None:
        by_student, photo_errors = read_photos(photos, issuing.institution.kind)
    result = load_batch(data, issuing.institution, today=issuer.today(), progress=progress,
                        isolate=True)
    if not result.ok or photo_errors:
        raise BatchRejected(sort_errors([*photo_errors, *result.errors]))
    records, photo_errors = with_photos(result.records, by_student)
    if photo_errors:
        raise BatchRejected(tuple(photo_errors))
    frozen = [Frozen.of(issuing.snapshot(r)) for r in _counted(records, SEALED, students)]
    content = content_digest([f.digest for f in frozen])
    with issuer.uow() as uow:
        institution = uow.institutions.get(institution_code)
        assert institution is not None
        uow.institutions.lock(institution)
        existing = uow.batches.same_content(institution, content)
        if existing is not None:
            raise AlreadyImported(filename, existing.id)
        now = issuer.clock()
        identified = [(f, uow.enrolments.identify(institution, f.snapshot.record, now=now))
                      for f in _counted(frozen, MATCHED, students)]
        errors = _conflicts(uow.batches.open_batches_of([e.id for _, e in identified]),
                            identified)
        if errors:
            raise BatchRejected(tuple(errors))
        keyed = [(f, e, transcript_id_for(institution_code, e)) for f, e in identified]
        items, unchanged = classify(keyed, uow.transcripts.latest_of([t for *_, t in keyed]))
        if not items:
            raise ServiceError("%(filename)s: all %(unchanged)s student(s) were issued with "
                               "exactly this data already: nothing to approve",
                               filename=filename, unchanged=unchanged)
        new = sum(1 for i in items if i.kind is ItemKind.NEW)
        batch = uow.batches.add(
            institution, kind=BatchKind.IMPORT if new else BatchKind.CORRECTION,
            filename=filename, content_digest=content, row_count=len(frozen),
            created_by=who.username, now=now, warnings=result.warnings)
        uow.batches.add_records(batch, items)
        for jpeg in by_student.values():  # the images the snapshots name, by digest
            uow.images.put("photo", jpeg, now=now)
        uow.audit.append(
            actor=actor.name, action="batch.import", source=actor.source, now=now,
            institution=institution, subject=f"batch:{batch.id}",
            detail={"filename": filename, "students": len(frozen), "new": new,
                    "corrections": len(items) - new, "unchanged": unchanged,
                    "content_digest": content, "warnings": len(result.warnings),
                    "photos": len(by_student)},
        )
        uow.commit()
        return Imported(batch.id, len(items), new, len(items) - new, unchanged,
                        result.warnings)
